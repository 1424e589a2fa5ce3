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
// newest first in the LRU by modification time. It reads only headers:
// data checksums are verified when a block is read. Files that are not
// valid blocks of this configuration are removed, as are leftovers of
// writes a crash interrupted.
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
	type found struct {
		e     *entry
		mtime time.Time
	}
	var all []found
	for i := range 256 {
		sub := filepath.Join(c.blocksDir, hex.EncodeToString([]byte{byte(i)}))
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return fmt.Errorf("diskcache: %w", err)
		}
		names, err := readDirNames(sub)
		if err != nil {
			return err
		}
		for _, name := range names {
			path := filepath.Join(sub, name)
			e, mtime, ok := c.check(path, name)
			if !ok {
				c.log.Debug("removing a file that is not a valid block", "file", path)
				os.Remove(path)
				continue
			}
			all = append(all, found{e, mtime})
		}
	}
	slices.SortFunc(all, func(a, b found) int { return a.mtime.Compare(b.mtime) })
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

// check reads a block file's header and size.
func (c *Cache) check(path, name string) (*entry, time.Time, bool) {
	id, ok := parseRelName(name)
	if !ok {
		return nil, time.Time{}, false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, false
	}
	defer f.Close()
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return nil, time.Time{}, false
	}
	hd, err := decodeHeader(h)
	st, serr := f.Stat()
	if err != nil || serr != nil || hd.id != id || hd.blockSize != c.blockSize ||
		st.Size() != headerSize+hd.length || !st.Mode().IsRegular() {
		return nil, time.Time{}, false
	}
	return &entry{id: id, cost: fileCost(hd.length)}, st.ModTime(), true
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
