package diskcache

import (
	"os"
)

// maxRunBlocks bounds one download: a reader claims at most this many
// missing blocks for one ranged GET (16 MiB with the default block size).
const maxRunBlocks = 64

// found is what lookup knows about a block. Exactly one field is set.
type found struct {
	path    string    // on disk: read and verify this file
	data    []byte    // downloaded, waiting for the disk
	wait    *flight   // being downloaded by another reader
	claimed []*flight // missing: the caller downloads these blocks, the first being the one asked for
}

// lookup finds block id. When it is missing, the caller claims it and the
// missing blocks after it up to block last that nobody downloads, so one
// GET fetches them all and concurrent readers wait for it.
func (c *Cache) lookup(id blockID, last int64) found {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.blocks[id]; e != nil {
		c.lru.MoveToFront(e.elem)
		return found{path: c.pathOf(id)}
	}
	if f := c.flights[id]; f != nil {
		select {
		case <-f.done: // failed flights leave the map first, so this one has data
			return found{data: f.data}
		default:
			return found{wait: f}
		}
	}
	var claimed []*flight
	for next := id; next.index <= last && len(claimed) < maxRunBlocks; next.index++ {
		if c.blocks[next] != nil || c.flights[next] != nil {
			break
		}
		f := &flight{done: make(chan struct{})}
		c.flights[next] = f
		claimed = append(claimed, f)
	}
	return found{claimed: claimed}
}

// cachedPath is block id's file if it is on disk, else "". It does not
// count as a use: the read that follows does (lookup).
func (c *Cache) cachedPath(id blockID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.blocks[id]; e != nil {
		c.lru.MoveToFront(e.elem)
		return c.pathOf(id)
	}
	return ""
}

// finish publishes a downloaded block to its waiters and queues it for
// the disk; the flight stays in the map (serving readers from memory)
// until it is written or dropped.
func (c *Cache) finish(id blockID, f *flight, data []byte) {
	f.data = data
	close(f.done)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(data) == 0 || c.closed {
		c.forgetLocked(id, f)
		return
	}
	select {
	case c.queue <- fill{id: id, f: f}:
	default:
		c.forgetLocked(id, f)
		c.dropped.Add(1)
		c.warnOnce("queue", "disk cache writes fall behind the network; blocks are not cached until the disk catches up (reads are not slowed; more are counted, not logged)",
			"dir", c.dir, "queue", cap(c.queue))
	}
}

// abandon ends a claim without data: waiters look again.
func (c *Cache) abandon(id blockID, f *flight) {
	// Out of the map before done is closed: lookup takes a closed flight
	// found in the map for one with data.
	c.mu.Lock()
	c.forgetLocked(id, f)
	c.mu.Unlock()
	f.err = errAbandoned
	close(f.done)
}

func (c *Cache) forgetLocked(id blockID, f *flight) {
	if c.flights[id] == f {
		delete(c.flights, id)
	}
}

// drop removes a damaged or vanished block file. Its charge is released
// only after the unlink, so the disk never holds more than the limit.
func (c *Cache) drop(id blockID, path string) {
	c.mu.Lock()
	e := c.blocks[id]
	if e != nil {
		delete(c.blocks, id)
		c.lru.Remove(e.elem)
	}
	c.mu.Unlock()
	if e == nil {
		return // someone else dropped or evicted it
	}
	os.Remove(path)
	c.mu.Lock()
	c.used -= e.cost
	c.mu.Unlock()
}

// reserve charges cost bytes for a block about to be written, evicting
// least recently used blocks until it fits. The caller must remove the
// victims' files (even when ok is false: they left the index) before
// writing its own. ok is false if the block does not fit now.
func (c *Cache) reserve(cost int64) (victims []blockID, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cost > c.limit {
		return nil, false
	}
	for c.used+cost > c.limit {
		back := c.lru.Back()
		if back == nil {
			return victims, false // the rest is writes in progress: skip this block
		}
		e := back.Value.(*entry)
		c.lru.Remove(back)
		delete(c.blocks, e.id)
		c.used -= e.cost
		victims = append(victims, e.id)
	}
	c.used += cost
	return victims, true
}

// insert records a written block, whose cost reserve already charged.
func (c *Cache) insert(id blockID, cost int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.blocks[id]; old != nil { // the rename replaced it
		c.lru.Remove(old.elem)
		c.used -= old.cost
	}
	e := &entry{id: id, cost: cost}
	e.elem = c.lru.PushFront(e)
	c.blocks[id] = e
}
