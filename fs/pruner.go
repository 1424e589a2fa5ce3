package fs

import (
	"sync"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// pruneDelay is how long a node waits before the kernel is asked to drop
// it: long enough for the stat that looked it up to have finished (the
// kernel only drops names nothing uses).
const pruneDelay = 200 * time.Millisecond

// maxPrunePending bounds the nodes waiting; beyond it a node is simply
// kept (it costs memory, nothing else).
const maxPrunePending = 200_000

// pruner asks the kernel to forget the nodes of files looked up in huge
// directories once they are no longer in use (FUSE_NOTIFY_PRUNE, Linux
// 6.16; older kernels get one FUSE_NOTIFY_INVAL_ENTRY per name). The
// kernel keeps every name it looked up, and go-fuse a node (~400 bytes)
// per name the kernel keeps, until memory pressure: `ls -l` of a million
// names would leave a million nodes. A pruned name costs one LOOKUP,
// answered from the metadata cache, when it is used again.
//
// Nodes wait at least pruneDelay: a tick moves the newer batch to older
// and prunes the older one. Mount starts run; it ends when the mount does.
type pruner struct {
	mu           sync.Mutex // guards the fields below
	newer, older []pruneItem
	noPrune      bool // the kernel lacks NOTIFY_PRUNE: invalidate entries instead
}

type pruneItem struct {
	dir  *dirNode
	name string
	node *fusefs.Inode
}

// add queues the node of name in dir to be dropped.
func (p *pruner) add(dir *dirNode, name string, node *fusefs.Inode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.newer)+len(p.older) < maxPrunePending {
		p.newer = append(p.newer, pruneItem{dir, name, node})
	}
}

// run prunes every pruneDelay until stop is closed.
func (p *pruner) run(stop <-chan struct{}) {
	tick := time.NewTicker(pruneDelay)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			p.pruneOlder()
		}
	}
}

// pruneOlder asks the kernel to drop the nodes queued before the last
// tick. It runs on run's goroutine only, never inside a FUSE request:
// the kernel may wait for the directory's lock, which a request holds.
func (p *pruner) pruneOlder() {
	p.mu.Lock()
	ready := p.older
	p.older, p.newer = p.newer, nil
	noPrune := p.noPrune
	p.mu.Unlock()
	if len(ready) == 0 {
		return
	}
	if !noPrune {
		nodes := make([]*fusefs.Inode, len(ready))
		for i, it := range ready {
			nodes[i] = it.node
		}
		errno := ready[0].dir.NotifyPrune(nodes)
		if errno != syscall.ENOSYS && errno != syscall.Errno(fuse.ENOSYS) {
			return
		}
		p.mu.Lock()
		p.noPrune = true
		p.mu.Unlock()
	}
	for _, it := range ready {
		it.dir.NotifyEntry(it.name)
	}
}
