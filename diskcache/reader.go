package diskcache

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// flight is one block being downloaded, then waiting for the disk. Readers
// that need the block meanwhile wait on done and share data.
type flight struct {
	done chan struct{} // closed when data or err is set
	data []byte        // the block, immutable once done
	err  error
}

// errAbandoned tells waiters that the downloader stopped before their
// block (its reader failed or was closed, or the object ended first):
// they look again and may download it themselves.
var errAbandoned = errors.New("diskcache: download abandoned")

// reader is the body GetRange returns. It walks [pos, end) block by
// block: from disk, from another reader's download, or from its own run
// of missing blocks fetched with one ranged GET. Not safe for concurrent
// use (an io.ReadCloser is read by one goroutine).
type reader struct {
	c         *Cache
	ctx       context.Context
	key, etag string
	obj       objectID
	pos, end  int64      // next byte to return; end of the range (clipped at the object's end once seen)
	cur       []byte     // bytes available at pos
	buf       *[]byte    // pooled buffer under cur, if cur came from a block file
	run       *run       // the download this reader owns, if any
	ahead     *lookahead // the next block, being read from disk meanwhile
	err       error      // sticky
}

// run is a ranged GET covering blocks [next, last] that this reader has
// claimed: their flights are in the cache's map, and it must finish or
// abandon each.
type run struct {
	body    io.ReadCloser
	next    int64 // next block to read from body
	flights []*flight
}

// Read implements io.Reader.
func (r *reader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.pos >= r.end {
			r.err = io.EOF
			r.abandon()
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			r.err = err
			r.abandon()
			return 0, err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	r.pos += int64(n)
	if len(r.cur) == 0 {
		r.putBuf()
	}
	return n, nil
}

// Close implements io.Closer: blocks claimed and not downloaded are
// handed back to whoever waits for them.
func (r *reader) Close() error {
	if r.err == nil {
		r.err = errors.New("diskcache: read after close")
	}
	r.cur = nil
	r.putBuf()
	r.abandon()
	if a := r.ahead; a != nil {
		r.ahead = nil
		<-a.done // a local read: bounded
		if a.buf != nil {
			r.c.bufs.Put(a.buf)
		}
	}
	return nil
}

// lookahead is the next cached block of a range, read from disk while the
// caller consumes the current one, so that a range of cached blocks
// keeps the disk busy as the kernel's read-ahead does for a plain file.
type lookahead struct {
	index int64
	done  chan struct{}
	data  []byte
	buf   *[]byte
}

// readAhead starts reading block index from disk if it is in the range
// and cached; a block that is not is left to fill.
func (r *reader) readAhead(index int64) {
	if index > r.lastBlock() || r.ahead != nil {
		return
	}
	id := blockID{obj: r.obj, index: index}
	path := r.c.cachedPath(id)
	if path == "" {
		return
	}
	a := &lookahead{index: index, done: make(chan struct{})}
	r.ahead = a
	go func() {
		defer close(a.done)
		a.data, a.buf, _ = r.c.readFile(id, path) // a failure drops the file; fill looks again
	}()
}

// takeAhead returns block index if the lookahead read it.
func (r *reader) takeAhead(index int64) ([]byte, bool) {
	a := r.ahead
	if a == nil {
		return nil, false
	}
	r.ahead = nil
	<-a.done
	if a.index != index || a.buf == nil {
		if a.buf != nil {
			r.c.bufs.Put(a.buf)
		}
		return nil, false
	}
	r.putBuf()
	r.buf = a.buf
	return a.data, true
}

// putBuf gives the block file buffer back once cur no longer uses it.
func (r *reader) putBuf() {
	if r.buf != nil {
		r.c.bufs.Put(r.buf)
		r.buf = nil
	}
}

// fill makes cur the bytes at pos, from the block holding pos.
func (r *reader) fill() error {
	index := r.pos / r.c.blockSize
	if r.run != nil && r.run.next == index && len(r.run.flights) > 0 {
		return r.fromRun()
	}
	r.abandon() // pos left the run (only if the object ended in it)
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		id := blockID{obj: r.obj, index: index}
		if data, ok := r.takeAhead(index); ok {
			r.c.hits.Add(1)
			r.readAhead(index + 1)
			return r.use(index, data)
		}
		got := r.c.lookup(id, r.lastBlock())
		var data []byte
		switch {
		case got.path != "":
			var err error
			if data, r.buf, err = r.c.readFile(id, got.path); err != nil {
				continue // dropped or gone: look again
			}
			r.c.hits.Add(1)
			r.readAhead(index + 1)
		case got.data != nil:
			data = got.data
			r.c.shared.Add(1)
		case got.wait != nil:
			r.c.waiting.Add(1)
			select {
			case <-got.wait.done:
				r.c.waiting.Add(-1)
			case <-r.ctx.Done():
				r.c.waiting.Add(-1)
				return r.ctx.Err()
			}
			if got.wait.err != nil {
				continue // the downloader gave up: look again, maybe download it here
			}
			data = got.wait.data
			r.c.shared.Add(1)
		default:
			return r.startRun(index, got.claimed)
		}
		return r.use(index, data)
	}
}

// lastBlock is the index of the block holding the range's last byte.
func (r *reader) lastBlock() int64 { return (r.end - 1) / r.c.blockSize }

// use makes cur the part of block index's data at pos.
func (r *reader) use(index int64, data []byte) error {
	start := index * r.c.blockSize
	if int64(len(data)) < r.c.blockSize {
		r.end = min(r.end, start+int64(len(data))) // the object ends in this block
	}
	if r.pos >= r.end {
		return nil // Read sees pos >= end: EOF
	}
	r.cur = data[r.pos-start : min(int64(len(data)), r.end-start)]
	return nil
}

// startRun issues one GET for the blocks lookup claimed for this reader,
// one flight per block from index on.
func (r *reader) startRun(index int64, claimed []*flight) error {
	bs := r.c.blockSize
	r.run = &run{next: index, flights: claimed}
	body, err := r.c.store.GetRange(r.ctx, r.key, r.etag, index*bs, int64(len(claimed))*bs)
	if err != nil {
		return err
	}
	r.run.body = body
	return r.fromRun()
}

// fromRun reads the run's next block whole, hands it to its waiters and
// to the disk writer, and serves it.
func (r *reader) fromRun() error {
	rn := r.run
	index := rn.next
	buf := make([]byte, r.c.blockSize)
	n, err := io.ReadFull(rn.body, buf)
	// Equality, not errors.Is: ReadFull returns these sentinels themselves
	// only when the store's body ended with a plain io.EOF, which is the
	// end of the object. A body cut short is another error, which may wrap
	// io.ErrUnexpectedEOF and must not be cached as a short last block.
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	if err != nil {
		return err
	}
	data := buf[:n]
	f := rn.flights[0]
	rn.flights, rn.next = rn.flights[1:], rn.next+1
	r.c.misses.Add(1)
	r.c.finish(blockID{obj: r.obj, index: index}, f, data)
	if int64(n) < r.c.blockSize {
		r.abandon() // nothing after the end of the object
	}
	return r.use(index, data)
}

// abandon ends the run: blocks not downloaded go back to their waiters.
func (r *reader) abandon() {
	rn := r.run
	if rn == nil {
		return
	}
	r.run = nil
	if rn.body != nil {
		rn.body.Close()
	}
	for i, f := range rn.flights {
		r.c.abandon(blockID{obj: r.obj, index: rn.next + int64(i)}, f)
	}
}

// readFile reads a block file into a pooled buffer, which the caller
// gives back with putBuf once no byte of data is used; a damaged file is
// dropped.
func (c *Cache) readFile(id blockID, path string) (data []byte, buf *[]byte, err error) {
	buf = c.getBuf()
	data, err = readBlock(path, id, c.blockSize, *buf)
	if err == nil {
		return data, buf, nil
	}
	c.bufs.Put(buf)
	if errors.Is(err, errBadBlock) {
		c.bad.Add(1)
		c.warnOnce("bad", "damaged disk cache block dropped; it is fetched again (more are counted, not logged)",
			"file", path, "err", err)
	} else if !errors.Is(err, os.ErrNotExist) {
		c.warnOnce("read", "disk cache read failed; the block is fetched again", "file", path, "err", err)
	}
	c.drop(id, path)
	return nil, nil, err
}

func (c *Cache) getBuf() *[]byte {
	if b, ok := c.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, headerSize+c.blockSize+1)
	return &b
}

// pathOf is where block id lives.
func (c *Cache) pathOf(id blockID) string { return filepath.Join(c.blocksDir, id.relPath()) }
