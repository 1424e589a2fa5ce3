package diskcache

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// Store is the object store the cache sits on and, with the same method
// set, what it offers: fs.Store. See fs/store.go for the contract.
type Store interface {
	List(ctx context.Context, in oss.ListInput) (oss.ListPage, error)
	Head(ctx context.Context, key string) (oss.ObjectInfo, error)
	GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error)
}

// Defaults.
const (
	DefaultBlockSize  = 256 << 10
	DefaultWriteQueue = 256 // 64 MiB of default blocks: bursts of 8 readers' read-ahead fit
	defaultWriters    = 4
)

// Config says where the cache lives and how big it may grow.
type Config struct {
	Dir        string       // cache directory; created 0700 if missing. Required.
	Size       int64        // bytes the cache may use on disk (du), at least 16 blocks. Required.
	Bucket     string       // part of every block's identity. Required.
	BlockSize  int64        // bytes per block; default DefaultBlockSize (the read-ahead's first part)
	WriteQueue int          // blocks waiting for the disk before fills are dropped; default DefaultWriteQueue
	Logger     *slog.Logger // nil: discard
}

// Stats counts what the cache did since New.
type Stats struct {
	Hits        int64 // blocks served from disk
	Misses      int64 // blocks fetched from the store
	Shared      int64 // blocks a reader got from another reader's download
	Bad         int64 // block files found damaged and dropped
	Dropped     int64 // fills not written: queue full, disk full or failing
	Evicted     int64 // blocks removed to stay under Size
	Blocks      int64 // blocks on disk now
	Bytes       int64 // bytes charged now (block files, rounded to 4 KiB, plus reservations)
	LimitBytes  int64 // the limit now: Size minus directory reserve, lowered after ENOSPC
	WriteErrors int64 // failed block writes
}

// Cache is a Store that keeps the blocks it reads on local disk.
// Safe for concurrent use; Close stops its writers and frees the lock.
type Cache struct {
	store     Store
	dir       string
	blocksDir string
	tmpDir    string
	bucket    string
	blockSize int64
	log       *slog.Logger
	lock      *os.File

	bufs       sync.Pool // *[]byte of headerSize+blockSize+1 bytes, for reading block files
	queue      chan fill
	writers    sync.WaitGroup
	writeFault func() error // tests only: fails block writes (a full or broken disk)

	mu      sync.Mutex // guards the fields below; never held across I/O
	limit   int64
	used    int64               // charged bytes: files on disk and writes in progress
	lru     *list.List          // of *entry, most recent first
	blocks  map[blockID]*entry  // on disk
	flights map[blockID]*flight // downloading, or downloaded and waiting for the disk
	closed  bool

	hits, misses, shared, bad, dropped, evicted, writeErrors atomic.Int64
	waiting                                                  atomic.Int64 // readers waiting for another's download now
	warned                                                   sync.Map     // cause -> struct{}: Warn once per cause
}

// entry is a block on disk.
type entry struct {
	id   blockID
	cost int64
	elem *list.Element
}

var _ Store = (*Cache)(nil)

// New opens (or creates) the cache in cfg.Dir over store. It takes the
// directory's lock, so a second cache on the same directory fails, and
// indexes the blocks already there, so a remount reuses them at once.
func New(cfg Config, store Store) (*Cache, error) {
	if cfg.BlockSize == 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.WriteQueue == 0 {
		cfg.WriteQueue = DefaultWriteQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Dir == "":
		return nil, errors.New("diskcache: no cache directory")
	case cfg.Bucket == "":
		return nil, errors.New("diskcache: no bucket")
	case store == nil:
		return nil, errors.New("diskcache: no store")
	case cfg.BlockSize < 4096 || cfg.BlockSize > 64<<20:
		return nil, fmt.Errorf("diskcache: block size %d is outside 4 KiB..64 MiB", cfg.BlockSize)
	case cfg.WriteQueue < 0:
		return nil, fmt.Errorf("diskcache: negative write queue %d", cfg.WriteQueue)
	}
	limit := cfg.Size - dirReserve
	if limit < 16*fileCost(cfg.BlockSize) {
		return nil, fmt.Errorf("diskcache: cache size %d bytes is too small: give at least %d (16 blocks of %d bytes plus %d for directories)",
			cfg.Size, 16*fileCost(cfg.BlockSize)+dirReserve, cfg.BlockSize, dirReserve)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("diskcache: %w", err)
	}
	c := &Cache{
		store: store, dir: dir, blocksDir: filepath.Join(dir, "blocks"), tmpDir: filepath.Join(dir, "tmp"),
		bucket: cfg.Bucket, blockSize: cfg.BlockSize, log: cfg.Logger,
		queue: make(chan fill, cfg.WriteQueue),
		limit: limit, lru: list.New(), blocks: map[blockID]*entry{}, flights: map[blockID]*flight{},
	}
	start := time.Now()
	if c.lock, err = lockDir(dir); err != nil {
		return nil, err
	}
	if err := c.load(); err != nil {
		c.lock.Close()
		return nil, err
	}
	for range defaultWriters {
		c.writers.Add(1)
		go c.writeLoop()
	}
	st := c.Stats()
	c.log.Info("disk cache ready", "dir", dir, "blocks", st.Blocks, "bytes", st.Bytes, "limit", st.LimitBytes,
		"elapsed", time.Since(start).Round(time.Millisecond).String())
	return c, nil
}

// dirReserve is kept out of the limit for the fan-out directories and the
// lock file, which du counts too: DIR, blocks, tmp, 256 fan-out directories and the lock file take 260 4-KiB blocks.
const dirReserve = 264 * 4096

// Close waits for queued writes, then releases the directory lock.
// Readers still running are not affected but fill nothing more.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.queue)
	c.writers.Wait()
	st := c.Stats()
	c.log.Info("disk cache closed", "dir", c.dir, "hits", st.Hits, "misses", st.Misses, "bad", st.Bad,
		"dropped", st.Dropped, "evicted", st.Evicted, "blocks", st.Blocks, "bytes", st.Bytes)
	return c.lock.Close() // closing the descriptor releases the flock
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	blocks, used, limit := int64(len(c.blocks)), c.used, c.limit
	c.mu.Unlock()
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Shared: c.shared.Load(), Bad: c.bad.Load(),
		Dropped: c.dropped.Load(), Evicted: c.evicted.Load(), WriteErrors: c.writeErrors.Load(),
		Blocks: blocks, Bytes: used, LimitBytes: limit,
	}
}

// List passes through: the cache holds data, never metadata.
func (c *Cache) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	return c.store.List(ctx, in)
}

// Head passes through.
func (c *Cache) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	return c.store.Head(ctx, key)
}

// GetRange serves [off, off+n) of the object version etag from cached
// blocks, downloading missing blocks whole (one ranged GET per run of
// missing blocks) and queueing them for the disk. Without an ETag there
// is no version to key on, and the call passes through.
func (c *Cache) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	if etag == "" || off < 0 {
		return c.store.GetRange(ctx, key, etag, off, n)
	}
	end := off + n
	if n < 0 || end < off {
		end = 1<<63 - 1
	}
	r := &reader{c: c, ctx: ctx, key: key, etag: etag, obj: newObjectID(c.bucket, key, etag), pos: off, end: end}
	if off < end {
		// The first block now, so that the store's refusal (such as
		// ErrPreconditionFailed) comes from GetRange, as without the cache.
		if err := r.fill(); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// warnOnce logs msg the first time cause happens.
func (c *Cache) warnOnce(cause, msg string, args ...any) {
	if _, seen := c.warned.LoadOrStore(cause, struct{}{}); !seen {
		c.log.Warn(msg, args...)
	}
}
