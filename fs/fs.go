package fs

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sync/singleflight"
)

// Defaults: New fills those of sizes and modes; the TTLs are the command's
// defaults (a zero TTL means "do not cache", not "default").
const (
	// DefaultMetadataTTL keeps positive metadata for a minute: the mount is
	// read-only and buckets mounted this way change rarely (goofys uses the
	// same value; mountpoint-s3 uses 1 s for stricter freshness).
	DefaultMetadataTTL = 60 * time.Second
	// DefaultNegativeTTL is shorter, so that new objects appear quickly.
	DefaultNegativeTTL = 5 * time.Second
	// DefaultMetadataCacheMemory bounds the metadata cache: a listed name
	// costs about 56 bytes plus its length, so 256 MiB hold a directory of
	// 2,000,000 names of up to ~60 bytes with room to spare.
	DefaultMetadataCacheMemory = 256 << 20
	DefaultFileMode            = 0o444
	DefaultDirMode             = 0o555
	// DefaultReadAheadBudget bounds the read-ahead buffers of all open
	// files together: with go-fuse's request buffers and the heap, 8
	// concurrent sequential readers stay under 256 MiB RSS.
	DefaultReadAheadBudget = 128 << 20
	// DefaultReadAheadMaxBytes is the most one file reads ahead: at 20 ms
	// latency and 50 MB/s per connection, 64 MiB in 2 MiB parts keeps
	// about 30 GETs in flight, ~1 GB/s.
	DefaultReadAheadMaxBytes = 64 << 20
	// DefaultPartSize is the largest ranged GET of the read-ahead. Smaller
	// parts need less memory for the same throughput when latency
	// dominates (a part holds its buffer for latency + size/bandwidth).
	DefaultPartSize = 2 << 20
)

// Config configures the node tree. The zero value of each field selects
// its default, except the TTLs: there 0 means "do not cache" (every lookup
// asks OSS, the kernel keeps nothing), TTLIndefinite means "until
// unmount", and callers pass DefaultMetadataTTL and DefaultNegativeTTL
// for the defaults.
type Config struct {
	Prefix   string // root prefix inside the bucket: "" or ending in "/"; the mount root maps to it
	UID, GID uint32 // owner shown for every node (the command defaults them to the mounting user)
	// FileMode and DirMode are the permission bits shown (above 0o7777
	// ignored); 0 selects DefaultFileMode / DefaultDirMode, so no mount
	// shows mode 0 (cmd/ossmount refuses it too).
	FileMode, DirMode uint32
	MetadataTTL       time.Duration // names, sizes, listings and kernel entry/attr timeouts; 0: none; TTLIndefinite
	NegativeTTL       time.Duration // names that do not exist; 0: none; TTLIndefinite
	// MetadataCacheMemory bounds the metadata cache, in bytes (directories
	// are evicted whole, least recently used first); default 256 MiB.
	MetadataCacheMemory int64
	// Read-ahead of sequential reads, in bytes; see DefaultReadAheadBudget,
	// DefaultReadAheadMaxBytes and DefaultPartSize. A budget below 256 KiB
	// turns read-ahead off (every read is an exact ranged GET).
	ReadAheadBudget   int64        // all open files together; default 128 MiB
	ReadAheadMaxBytes int64        // one open file; default 64 MiB (its share shrinks as more files read ahead)
	PartSize          int64        // largest ranged GET; default 2 MiB, at least 256 KiB is used
	Logger            *slog.Logger // nil: discard
	// RecordOps times every FUSE operation and counts open files for
	// Metrics (metrics.go); off, the mount runs go-fuse's server as is.
	RecordOps bool

	// Now is the clock for cache expiry; nil means time.Now. Tests inject it.
	Now func() time.Time
}

// FS is a mountable read-only view of a Store. It holds the root node, the
// metadata cache and counters.
type FS struct {
	t    *tree
	root *dirNode
	ops  *opRecorder // nil unless Config.RecordOps
}

// Stats are counters over the life of the mount.
type Stats struct {
	SkippedKeys int64 // keys that cannot be path components, seen in listings
	StaleReads  int64 // reads that failed because the object changed while open
}

// tree is the state every node shares. Its fields are set once in New and
// never change; the cache, singleflight group and counters are safe for
// concurrent use.
type tree struct {
	store         Store
	cache         *metaCache
	group         singleflight.Group
	log           *slog.Logger
	uid, gid      uint32
	fileMode      uint32
	dirMode       uint32
	mountTime     time.Time
	shadowLog     onceSet
	pageSize      int // MaxKeys of readdir pages; listPageSize except in tests
	maxEmptyPages int // empty pages in a row that end a listing; defaultMaxEmptyPages except in tests
	hugeDir       int // names of a listing that get a node; hugeDirEntries except in tests
	budget        *readBudget
	pruner        pruner // drops nodes of huge directories (pruner.go)
	prefetch      prefetchConfig

	skipped, stale atomic.Int64

	rootPrefix string // Config.Prefix: the key prefix the mount root shows
}

// New checks cfg, fills defaults and builds the tree over store.
func New(cfg Config, store Store) (*FS, error) {
	if store == nil {
		return nil, errors.New("fs: nil Store")
	}
	if !validPrefix(cfg.Prefix) {
		return nil, fmt.Errorf("fs: invalid prefix %q: want \"\" or path components ending in \"/\"", cfg.Prefix)
	}
	if cfg.MetadataTTL < 0 || cfg.NegativeTTL < 0 || cfg.MetadataCacheMemory < 0 {
		return nil, errors.New("fs: negative MetadataTTL, NegativeTTL or MetadataCacheMemory")
	}
	if cfg.ReadAheadBudget < 0 || cfg.ReadAheadMaxBytes < 0 || cfg.PartSize < 0 {
		return nil, errors.New("fs: negative ReadAheadBudget, ReadAheadMaxBytes or PartSize")
	}
	// Zero means the default.
	cfg.ReadAheadBudget = cmp.Or(cfg.ReadAheadBudget, DefaultReadAheadBudget)
	cfg.ReadAheadMaxBytes = cmp.Or(cfg.ReadAheadMaxBytes, DefaultReadAheadMaxBytes)
	cfg.PartSize = cmp.Or(cfg.PartSize, DefaultPartSize)
	cfg.MetadataCacheMemory = cmp.Or(cfg.MetadataCacheMemory, DefaultMetadataCacheMemory)
	cfg.FileMode = cmp.Or(cfg.FileMode, DefaultFileMode)
	cfg.DirMode = cmp.Or(cfg.DirMode, DefaultDirMode)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &tree{
		store:         newSharedStore(store, min(cfg.MetadataTTL, cfg.NegativeTTL), cfg.Now),
		cache:         newMetaCache(cfg.MetadataCacheMemory, cfg.MetadataTTL, cfg.NegativeTTL, cfg.Now, cfg.Logger),
		log:           cfg.Logger,
		uid:           cfg.UID,
		gid:           cfg.GID,
		fileMode:      cfg.FileMode & 0o7777,
		dirMode:       cfg.DirMode & 0o7777,
		mountTime:     cfg.Now(),
		pageSize:      listPageSize,
		maxEmptyPages: defaultMaxEmptyPages,
		hugeDir:       hugeDirEntries,
		budget:        newReadBudget(cfg.ReadAheadBudget),
		prefetch: prefetchConfig{
			maxPart:    cfg.PartSize,
			maxWindow:  cfg.ReadAheadMaxBytes,
			backWindow: 4 << 20, // the kernel's concurrent reads land up to ~4 MiB behind the newest
		},
		rootPrefix: cfg.Prefix,
	}
	f := &FS{t: t, root: newDirNode(t, cfg.Prefix)}
	if cfg.RecordOps {
		f.ops = &opRecorder{}
	}
	return f, nil
}

// Root is the node to mount.
func (f *FS) Root() fusefs.InodeEmbedder { return f.root }

// Stats returns the counters so far.
func (f *FS) Stats() Stats {
	return Stats{
		SkippedKeys: f.t.skipped.Load(),
		StaleReads:  f.t.stale.Load(),
	}
}

// MountOptions returns go-fuse options for a read-only mount whose kernel
// attribute and negative timeouts match the metadata cache (entry
// timeouts are set per lookup), with
// large asynchronous reads (go-fuse asks for CAP_ASYNC_READ unless
// SyncRead is set) and a kernel read-ahead of max_read, which Mount
// applies. fsName is shown as the mount source (e.g. "bucket:/prefix").
func (f *FS) MountOptions(fsName string, allowOther, debug bool) *fusefs.Options {
	pos, neg := f.t.cache.posTTL, f.t.cache.negTTL
	return &fusefs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:   allowOther,
			Debug:        debug,
			FsName:       fsName,
			Name:         "ossmount",
			Options:      []string{"ro", "default_permissions"},
			MaxWrite:     fuse.MAX_KERNEL_WRITE, // also max_read: 1 MiB reads
			MaxReadAhead: fuse.MAX_KERNEL_WRITE,
			// Parallel reads and lookups from many processes.
			MaxBackground: 64,
			Logger:        slog.NewLogLogger(f.t.log.Handler(), slog.LevelDebug),
		},
		// No EntryTimeout: every lookup sets its own (the time its cache
		// entry has left, or 0 in a huge directory), and go-fuse would
		// replace a 0 by this option.
		AttrTimeout:     &pos,
		NegativeTimeout: &neg,
		UID:             f.t.uid,
		GID:             f.t.gid,
		Logger:          slog.NewLogLogger(f.t.log.Handler(), slog.LevelWarn),
	}
}

// Mount mounts f at mountpoint and returns once the mount is live.
func Mount(mountpoint string, f *FS, opts *fusefs.Options) (*fuse.Server, error) {
	if opts == nil {
		opts = f.MountOptions("ossmount", false, false)
	}
	srv, err := f.mount(mountpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("fs: mount %s: %w", mountpoint, err)
	}
	// The pruner belongs to the mount: it ends when the server does.
	stop := make(chan struct{})
	go func() { srv.Wait(); close(stop) }()
	go f.t.pruner.run(stop)
	// A /dev/fd/N mount was made by a privileged parent, which sets the
	// read-ahead itself: stat would name /dev/fuse, not the mount.
	if n := opts.MaxReadAhead; n > 0 && !strings.HasPrefix(mountpoint, "/dev/fd/") {
		if err := setKernelReadAhead(mountpoint, n); err != nil {
			// Not root: reads still work, in the kernel's smaller pieces.
			f.t.log.Debug("kernel read-ahead left at its default", "mountpoint", mountpoint, "want_bytes", n, "error", err.Error())
		}
	}
	return srv, nil
}

// inodeNumber is a stable inode number for a full key (files) or prefix
// (directories, with the trailing "/"), for the life of the mount, given
// in parts that are hashed as if joined. A 64-bit FNV-1a hash: with a
// million keys the chance of any collision is ~3e-8. 0 and 1 (the root)
// are never returned.
func inodeNumber(parts ...string) uint64 {
	// FNV-1a inline: hash/fnv would allocate per call, and READDIRPLUS
	// asks for every entry of a listing.
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for _, key := range parts {
		for i := 0; i < len(key); i++ {
			h ^= uint64(key[i])
			h *= prime64
		}
	}
	if h > 1 {
		return h
	}
	return 2
}
