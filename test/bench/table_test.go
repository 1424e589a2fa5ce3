package bench

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// row is one line of the results table.
type row struct {
	Scenario string
	Mount    string  // what ossmount reached: "812 MiB/s" or "3.20 s"
	Baseline string  // what the baseline reached, and which baseline
	Ratio    float64 // ossmount ÷ baseline (throughput) or ossmount ÷ baseline (time); 0 = none
	Target   string  // DESIGN.md target, e.g. ">= 0.8x"; "" = none
	Verdict  string  // PASS, MISS or "" (no target)
	Requests string  // OSS requests of the ossmount run, by type
	RSS      int64   // peak RSS of the mount process in bytes; 0 = unknown
	Note     string
}

var (
	tableMu sync.Mutex
	table   []row
)

// addRow records r for the final table and logs it right away.
func addRow(r row) {
	tableMu.Lock()
	table = append(table, r)
	tableMu.Unlock()
	fmt.Printf("bench row: %s | %s | %s | %s | %s %s | %s | %s | %s\n",
		r.Scenario, r.Mount, r.Baseline, ratioText(r.Ratio), r.Target, r.Verdict, r.Requests, rssText(r.RSS), r.Note)
}

// atLeast and atMost turn a measured ratio into a target and verdict.
func atLeast(ratio, want float64) (string, string) {
	return fmt.Sprintf(">= %.1fx", want), verdict(ratio >= want)
}

func atMost(ratio, want float64) (string, string) {
	return fmt.Sprintf("<= %.1fx", want), verdict(ratio > 0 && ratio <= want)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func ratioText(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

func rssText(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/MiB)
}

// printTable prints the table to stdout and writes it to $BENCH_OUT if set.
func printTable(elapsed time.Duration) error {
	tableMu.Lock()
	defer tableMu.Unlock()
	if len(table) == 0 {
		return nil
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tossmount\tbaseline\tratio\ttarget\tverdict\tOSS requests (mount run)\tpeak RSS\tnote")
	for _, r := range table {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Mount, r.Baseline,
			ratioText(r.Ratio), dash(r.Target), dash(r.Verdict), dash(r.Requests), rssText(r.RSS), r.Note)
	}
	tw.Flush()
	fmt.Fprintf(&sb, "total bench time %s\n", elapsed.Round(time.Second))
	fmt.Print("\n" + sb.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(sb.String()), 0o644); err != nil {
			return fmt.Errorf("writing BENCH_OUT: %w", err)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
