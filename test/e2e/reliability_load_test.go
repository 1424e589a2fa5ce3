package e2e

import (
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// procSample is one look at the daemon.
type procSample struct {
	at                time.Duration
	threads, fds, tcp int
	tcpUnread         int // of tcp, connections with bytes the daemon has not read
	rssKiB            int
	connectionsOpened int64
	ossRequests       int
	reads, readErrors int64
}

// sampleProc reads Threads and VmRSS from /proc/PID/status, counts open
// fds and the daemon's ESTABLISHED TCP sockets to port.
func sampleProc(pid, port int) (s procSample, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "Threads:" {
			s.threads, _ = strconv.Atoi(f[1])
		}
		if len(f) >= 2 && f[0] == "VmRSS:" {
			s.rssKiB, _ = strconv.Atoi(f[1])
		}
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return s, err
	}
	s.fds = len(entries)
	sockets := map[string]bool{}
	for _, e := range entries {
		if link, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && strings.HasPrefix(link, "socket:[") {
			sockets[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	for _, file := range []string{"tcp", "tcp6"} {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, file))
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "01" || !sockets[f[9]] {
				continue
			}
			if _, p, ok := strings.Cut(f[2], ":"); ok {
				if v, err := strconv.ParseInt(p, 16, 32); err == nil && int(v) == port {
					s.tcp++
					if _, rx, _ := strings.Cut(f[4], ":"); strings.Trim(rx, "0") != "" {
						s.tcpUnread++
					}
				}
			}
		}
	}
	return s, nil
}

// 64 readers over 1,000 files for 30 s (2 minutes with OSSMOUNT_SOAK=1):
// no error, exact bytes, and the daemon's threads, fds, connections and
// memory stay bounded.
func TestLoadManyReaders(t *testing.T) {
	duration := 30 * time.Second
	if soak() {
		duration = 2 * time.Minute
	}
	const readers, files, seed = 64, 1000, 9
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("load", false)
	sizes := []int64{0, 1, 4096, 65537, 300_000, 1 << 20, 3<<20 + 5}
	want := make([]string, files)
	var mu sync.Mutex
	for i := 0; i < files; i++ {
		key := fmt.Sprintf("d%02d/f%04d", i/50, i)
		size := sizes[i%len(sizes)]
		e.emu.AddGenerated("load", emulator.Generated{Keys: []string{key}, Size: size, Seed: seed})
		want[i] = generatedMD5(t, seed, key, size)
	}
	// A short metadata TTL keeps lookups going to OSS all along.
	mnt, logFile := e.mount("load", "--metadata-ttl", "1s")
	pid := daemonPID(t, logFile)
	u, _ := url.Parse(e.emu.OSSURL())
	port, _ := strconv.Atoi(u.Port())

	var reads, readErrors atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(r)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.Intn(files)
				p := filepath.Join(mnt, fmt.Sprintf("d%02d/f%04d", i/50, i))
				got, err := fileMD5(p)
				if err == nil && got != want[i] {
					err = fmt.Errorf("%s: md5 %s, want %s", p, got, want[i])
				}
				if err != nil {
					readErrors.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				reads.Add(1)
			}
		}(r)
	}
	start := time.Now()
	var samples []procSample
	for time.Since(start) < duration {
		time.Sleep(time.Second) // sampling interval
		s, err := sampleProc(pid, port)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("daemon gone: %v\nlog tail:\n%s", err, tail(readFile(t, logFile), 3000))
		}
		s.at = time.Since(start)
		c := e.emu.Counters()
		s.connectionsOpened, s.ossRequests = c.Connections, totalRequests(c)
		s.reads, s.readErrors = reads.Load(), readErrors.Load()
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	close(stop)
	wg.Wait()

	for _, s := range samples {
		if len(samples) < 12 || int(s.at/time.Second)%5 == 0 {
			t.Logf("t=%v reads=%d threads=%d fds=%d tcp=%d rss=%dMiB conns-opened=%d",
				s.at.Round(time.Second), s.reads, s.threads, s.fds, s.tcp, s.rssKiB>>10, s.connectionsOpened)
		}
	}
	if n := readErrors.Load(); n > 0 {
		t.Fatalf("%d of %d reads failed; first: %v", n, reads.Load(), firstErr.Load())
	}
	// Bounds. Warm-up is the first quarter; after it nothing may grow without
	// limit: the steady-state maximum stays within the warm-up maximum plus a
	// margin, and absolute ceilings hold throughout.
	//   - TCP: the idle pool (MaxIdleConnsPerHost 128) plus what is in
	//     flight: 64 readers, each with up to 2 ranged GETs → 256;
	//   - fds: those sockets, /dev/fuse clones, log file, epoll → 320;
	//   - threads: the Go runtime needs a thread per blocking syscall; FUSE
	//     serves at most MaxBackground 64 requests at once → 160;
	//   - RSS: DESIGN's 256 MiB for 8 readers; 64 small-file readers → 512 MiB.
	warm := len(samples) / 4
	peak := func(from, to int, f func(procSample) int) int {
		m := 0
		for _, s := range samples[from:to] {
			m = max(m, f(s))
		}
		return m
	}
	checks := []struct {
		name            string
		f               func(procSample) int
		ceiling, margin int
	}{
		{"TCP connections to OSS", func(s procSample) int { return s.tcp }, 256, 32},
		{"open fds", func(s procSample) int { return s.fds }, 320, 32},
		{"threads", func(s procSample) int { return s.threads }, 160, 16},
		{"RSS MiB", func(s procSample) int { return s.rssKiB >> 10 }, 512, 128},
	}
	for _, c := range checks {
		w, steady := peak(0, warm, c.f), peak(warm, len(samples), c.f)
		t.Logf("%s: warm-up peak %d, steady peak %d, ceiling %d", c.name, w, steady, c.ceiling)
		if steady > c.ceiling || w > c.ceiling {
			t.Errorf("%s peaked at %d, over the ceiling %d", c.name, max(w, steady), c.ceiling)
		}
		if steady > w+c.margin {
			t.Errorf("%s grew after warm-up: %d → %d", c.name, w, steady)
		}
	}
	// New connections after warm-up: a pool that works reuses them.
	last := samples[len(samples)-1]
	opened := last.connectionsOpened - samples[warm].connectionsOpened
	requests := last.ossRequests - samples[warm].ossRequests
	perRequest := float64(opened) / float64(max(1, requests))
	t.Logf("%d reads in %v, %d OSS requests after warm-up, %d connections opened meanwhile (%.3f per request)",
		reads.Load(), duration, requests, opened, perRequest)
	if requests < 1000 {
		t.Errorf("only %d OSS requests after warm-up: the load did not reach the server", requests)
	}
	if perRequest > 0.1 {
		t.Errorf("%.2f new connections per OSS request after warm-up: connections are not reused", perRequest)
	}
}
