package diskcache

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fill is a downloaded block waiting to be written.
type fill struct {
	id blockID
	f  *flight
}

// writeLoop writes queued blocks until Close closes the queue.
func (c *Cache) writeLoop() {
	defer c.writers.Done()
	for job := range c.queue {
		c.write(job)
	}
}

// write stores one block: reserve its space (evicting), remove the
// victims, write a temporary file, rename it into place. No fsync: a block
// torn by a crash fails its checksum on read and is fetched again, and
// fsync per block would cost the first epoch a disk flush per 256 KiB.
func (c *Cache) write(job fill) {
	defer func() {
		c.mu.Lock()
		c.forgetLocked(job.id, job.f)
		c.mu.Unlock()
	}()
	data := job.f.data
	cost := fileCost(int64(len(data)))
	victims, ok := c.reserve(cost)
	for _, v := range victims {
		os.Remove(c.pathOf(v))
		c.evicted.Add(1)
	}
	if !ok {
		c.dropped.Add(1)
		return
	}
	err := c.writeFile(job.id, data)
	if err != nil {
		c.mu.Lock()
		c.used -= cost
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			c.limit = max(c.used, 0) // what fits is what is there: evict to make room from now on
		}
		limit := c.limit
		c.mu.Unlock()
		c.writeErrors.Add(1)
		c.dropped.Add(1)
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			c.warnOnce("full", "disk cache: the file system is full; the cache now keeps at most what it holds (reads are not affected)",
				"dir", c.dir, "limit", limit, "err", err)
		} else {
			c.warnOnce("write", "disk cache write failed; the block is not cached (reads are not affected; more are counted, not logged)",
				"dir", c.dir, "err", err)
		}
		return
	}
	c.insert(job.id, cost)
}

// writeFile writes the block file through a temporary name, so that a
// block file is visible only once complete.
func (c *Cache) writeFile(id blockID, data []byte) error {
	if c.writeFault != nil {
		if err := c.writeFault(); err != nil {
			return fmt.Errorf("diskcache: write block: %w", err)
		}
	}
	tmp, err := os.CreateTemp(c.tmpDir, "block-*") // mode 0600
	if err != nil {
		return err
	}
	_, err = tmp.Write(encodeHeader(id, c.blockSize, data))
	if err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.pathOf(id))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("diskcache: write block: %w", err)
	}
	return nil
}
