package diskcache

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// lockDir creates dir (0700) and takes its lock file, so that two mounts
// never share one cache directory: their indexes and limits would disagree.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("diskcache: creating cache directory: %w", err)
	}
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("diskcache: opening the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("diskcache: cache directory %s is in use by another ossmount (pid %s): give each mount its own --cache-dir",
				dir, string(holder))
		}
		return nil, fmt.Errorf("diskcache: locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "%d", os.Getpid())
	}
	return f, nil
}

// load prepares the directories and indexes the blocks already on disk,
// newest first in the LRU by modification time. It trusts names and sizes
// only to build the index (every header field and checksum is verified
// when a block is read), so it needs one stat per file, done by
// loadWorkers goroutines: cold, about 10,000 blocks a second per worker on
// this machine's disk. Files whose name or size cannot be a block are
// removed, as are leftovers of writes a crash interrupted.
func (c *Cache) load() error {
	for _, d := range []string{c.blocksDir, c.tmpDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("diskcache: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("diskcache: %w", err)
		}
	}
	if err := removeAll(c.tmpDir); err != nil {
		return err
	}
	var subs [256][]scanned
	var g errgroup.Group
	g.SetLimit(loadWorkers)
	for i := range subs {
		g.Go(func() (err error) {
			subs[i], err = c.scan(filepath.Join(c.blocksDir, hex.EncodeToString([]byte{byte(i)})))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	all := slices.Concat(subs[:]...)
	slices.SortFunc(all, func(a, b scanned) int { return a.mtime.Compare(b.mtime) })
	for _, f := range all {
		f.e.elem = c.lru.PushFront(f.e)
		c.blocks[f.e.id] = f.e
		c.used += f.e.cost
	}
	for c.used > c.limit { // the limit was lowered since the last mount
		e := c.lru.Remove(c.lru.Back()).(*entry)
		delete(c.blocks, e.id)
		os.Remove(c.pathOf(e.id))
		c.used -= e.cost
	}
	return nil
}

// loadWorkers is how many fan-out directories load scans at once: a disk
// answers many stats in parallel.
const loadWorkers = 16

// scanned is a block file seen by load.
type scanned struct {
	e     *entry
	mtime time.Time
}

// scan indexes one fan-out directory, creating it if missing.
func (c *Cache) scan(sub string) ([]scanned, error) {
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return nil, fmt.Errorf("diskcache: %w", err)
	}
	names, err := readDirNames(sub)
	if err != nil {
		return nil, err
	}
	var out []scanned
	for _, name := range names {
		path := filepath.Join(sub, name)
		id, ok := parseRelName(name)
		st, err := os.Lstat(path)
		if !ok || err != nil || !st.Mode().IsRegular() ||
			st.Size() <= headerSize || st.Size() > headerSize+c.blockSize || path != c.pathOf(id) {
			c.log.Debug("removing a file that cannot be a block", "file", path)
			os.Remove(path)
			continue
		}
		out = append(out, scanned{&entry{id: id, cost: fileCost(st.Size() - headerSize)}, st.ModTime()})
	}
	return out, nil
}

func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("diskcache: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("diskcache: reading %s: %w", dir, err)
	}
	return names, nil
}

// removeAll empties dir.
func removeAll(dir string) error {
	names, err := readDirNames(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("diskcache: %w", err)
		}
	}
	return nil
}
