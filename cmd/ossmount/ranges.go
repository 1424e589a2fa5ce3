package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// Ranges of the numeric options that no package constant already states.
const (
	// maxID is the largest uid or gid a file can show: (uid_t)-1 means
	// "no owner" to the kernel, and larger values do not fit.
	maxID = 1<<32 - 2
	// minPartSize is the smallest part the read-ahead fetches (fs's
	// minPartSize: smaller values were silently raised to it).
	minPartSize = 256 << 10
	// maxPartSize bounds one ranged GET: a part holds its buffer until it
	// has arrived whole.
	maxPartSize = 64 << 20
)

// idFlag reads --uid or --gid, def when not given.
func idFlag(c *cli.Context, name string, def int) (uint32, error) {
	if !c.IsSet(name) {
		return uint32(def), nil
	}
	if v := c.Uint(name); v > maxID {
		return 0, fmt.Errorf("--%s %d is out of range: 0 to %d", name, v, uint64(maxID))
	}
	return uint32(c.Uint(name)), nil
}

// readAheadConfig is what the three read-ahead size options say together.
type readAheadConfig struct{ budget, perFile, part int64 }

// readAheadSizes reads --read-ahead-memory, --read-ahead and --part-size.
// 0 for either of the first two turns read-ahead off; otherwise each must
// hold at least one part.
func readAheadSizes(c *cli.Context) (readAheadConfig, error) {
	var r readAheadConfig
	var err error
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"read-ahead-memory", &r.budget}, {"read-ahead", &r.perFile}, {"part-size", &r.part}} {
		if *f.dst, err = parseSize(f.name, c.String(f.name)); err != nil {
			return r, err
		}
	}
	if r.part < minPartSize || r.part > maxPartSize {
		return r, fmt.Errorf("--part-size %s is out of range: %s to %s", formatSize(r.part), formatSize(minPartSize), formatSize(maxPartSize))
	}
	if r.budget == 0 || r.perFile == 0 {
		// Below the engine's minimum: read-ahead off. (0 itself would
		// mean "the default" to the fs package.)
		r.budget, r.perFile = 1, r.part
		return r, nil
	}
	for _, f := range []struct {
		name string
		n    int64
	}{{"read-ahead-memory", r.budget}, {"read-ahead", r.perFile}} {
		if f.n < r.part {
			return r, fmt.Errorf("--%s %s is smaller than --part-size %s: give at least one part, or 0 to turn read-ahead off", f.name, formatSize(f.n), formatSize(r.part))
		}
	}
	return r, nil
}
