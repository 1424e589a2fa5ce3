package fs

import (
	"sync/atomic"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/oss"
)

// Metrics are the node tree's counters and gauges, read when an exporter
// is scraped. Counters count since New.
type Metrics struct {
	CacheHits, CacheMisses int64 // metadata cache lookups answered / not answered (absent or expired)
	CacheEvictions         int64 // names dropped with their directory to fit the memory bound
	CacheEntries           int   // names held now, expired ones included
	CacheBytes             int64 // memory the cache counts now
	CacheLimit             int64 // MetadataCacheMemory

	ReadAheadUsed    int64 // bytes of read-ahead buffers in use now
	ReadAheadPeak    int64 // highest ReadAheadUsed so far
	ReadAheadLimit   int64 // ReadAheadBudget
	ReadAheadHandles int   // open files reading ahead now

	// Ops are the FUSE operations answered, by op name (lookup, getattr,
	// open, read, ...), and OpenFiles the files open now; both only with
	// Config.RecordOps (nil and -1 without).
	Ops       map[string]OpMetrics
	OpenFiles int64
}

// OpMetrics describe one kind of FUSE operation.
type OpMetrics struct {
	Latency oss.HistogramSnapshot // from the kernel's request to the answer
	Errors  int64                 // answered with an errno
}

// Metrics returns the counters now.
func (f *FS) Metrics() Metrics {
	c, b := f.t.cache, f.t.budget
	m := Metrics{
		CacheHits:      c.hits.Load(),
		CacheMisses:    c.misses.Load(),
		CacheEvictions: c.evicted.Load(),
		CacheEntries:   c.entries(),
		CacheLimit:     c.limit,
		ReadAheadLimit: b.limit,
		OpenFiles:      -1,
	}
	m.CacheBytes, _ = c.usage()
	m.ReadAheadUsed, m.ReadAheadPeak, m.ReadAheadHandles = b.stats()
	if r := f.ops; r != nil {
		m.Ops = make(map[string]OpMetrics, len(opNames))
		for i, name := range opNames {
			m.Ops[name] = OpMetrics{Latency: r.ops[i].latency.Snapshot(), Errors: r.ops[i].errors.Load()}
		}
		m.OpenFiles = r.open.Load()
	}
	return m
}

// The FUSE operations timed one by one; the rest (forget, access, the
// write operations that answer EROFS) are not worth a series.
const (
	opLookup = iota
	opGetattr
	opOpen
	opRead
	opFlush
	opRelease
	opOpendir
	opReaddir
	opReaddirplus
	opReleasedir
	opStatfs
	opCount
)

var opNames = [opCount]string{"lookup", "getattr", "open", "read", "flush", "release",
	"opendir", "readdir", "readdirplus", "releasedir", "statfs"}

// opRecorder wraps go-fuse's raw filesystem (the node API has no per-op
// hook) and times the operations ossmount serves. Each costs two clock
// reads and two atomic adds; a 1 MiB read takes a thousand times longer.
type opRecorder struct {
	fuse.RawFileSystem
	ops [opCount]struct {
		latency oss.Histogram
		errors  atomic.Int64
	}
	open atomic.Int64 // files opened and not yet released
}

// time runs one operation and records its latency, and an error unless
// it answered OK.
func (r *opRecorder) time(op int, call func() fuse.Status) fuse.Status {
	start := time.Now()
	st := call()
	r.ops[op].latency.Observe(time.Since(start))
	if st != fuse.OK {
		r.ops[op].errors.Add(1)
	}
	return st
}

// mount mounts the tree, through the recorder when there is one.
func (f *FS) mount(mountpoint string, opts *fusefs.Options) (*fuse.Server, error) {
	if f.ops == nil {
		return fusefs.Mount(mountpoint, f.Root(), opts)
	}
	f.ops.RawFileSystem = fusefs.NewNodeFS(f.Root(), opts)
	srv, err := fuse.NewServer(f.ops, mountpoint, &opts.MountOptions)
	if err != nil {
		return nil, err
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		return nil, err
	}
	return srv, nil
}

func (r *opRecorder) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	return r.time(opLookup, func() fuse.Status { return r.RawFileSystem.Lookup(cancel, h, name, out) })
}

func (r *opRecorder) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	return r.time(opGetattr, func() fuse.Status { return r.RawFileSystem.GetAttr(cancel, in, out) })
}

func (r *opRecorder) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	st := r.time(opOpen, func() fuse.Status { return r.RawFileSystem.Open(cancel, in, out) })
	if st == fuse.OK {
		r.open.Add(1)
	}
	return st
}

func (r *opRecorder) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (res fuse.ReadResult, st fuse.Status) {
	st = r.time(opRead, func() fuse.Status { res, st = r.RawFileSystem.Read(cancel, in, buf); return st })
	return res, st
}

func (r *opRecorder) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	return r.time(opFlush, func() fuse.Status { return r.RawFileSystem.Flush(cancel, in) })
}

func (r *opRecorder) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	r.time(opRelease, func() fuse.Status { r.RawFileSystem.Release(cancel, in); return fuse.OK })
	r.open.Add(-1)
}

func (r *opRecorder) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return r.time(opOpendir, func() fuse.Status { return r.RawFileSystem.OpenDir(cancel, in, out) })
}

func (r *opRecorder) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return r.time(opReaddir, func() fuse.Status { return r.RawFileSystem.ReadDir(cancel, in, out) })
}

func (r *opRecorder) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return r.time(opReaddirplus, func() fuse.Status { return r.RawFileSystem.ReadDirPlus(cancel, in, out) })
}

func (r *opRecorder) ReleaseDir(in *fuse.ReleaseIn) {
	r.time(opReleasedir, func() fuse.Status { r.RawFileSystem.ReleaseDir(in); return fuse.OK })
}

func (r *opRecorder) StatFs(cancel <-chan struct{}, in *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	return r.time(opStatfs, func() fuse.Status { return r.RawFileSystem.StatFs(cancel, in, out) })
}
