package keyindex

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
)

// Build lists every key exactly once whatever the layout, with at most
// Parallel requests in flight, and really in parallel: even a tree whose
// root has two entries, or none but files, is cut into many spans.
func TestBuildListsEveryKeyInParallel(t *testing.T) {
	cases := []struct {
		name string
		gen  emulator.Generated
		root string
	}{
		{"flat", emulator.Generated{Count: 20_000, KeyFormat: "flat/file%06d", Size: 1}, "flat/"},
		{"dirs", emulator.Generated{Count: 20_000, PerDir: 100, KeyFormat: "dirs/d%03d/f%05d", Size: 1}, "dirs/"},
		{"two-top", emulator.Generated{Count: 20_000, PerDir: 50, KeyFormat: "two/t%d/d%03d/f%05d", Size: 1}, "two/"},
		{"whole-bucket", emulator.Generated{Count: 5_000, PerDir: 50, KeyFormat: "w%02d/f%04d", Size: 1}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu, c := startOSS(t)
			emu.AddGenerated(testBucket, tc.gen)
			emu.PutObject(testBucket, tc.root, nil) // the root's own marker
			want := listEverything(t, c, oss.ListInput{Prefix: tc.root})
			var wantKeys []string
			for _, p := range want {
				for _, o := range p.Objects {
					wantKeys = append(wantKeys, o.Key)
				}
			}
			emu.SetFaults(emulator.Faults{Latency: 2 * time.Millisecond})
			const parallel = 8
			cl := &countingLister{Lister: c}
			x := buildFrom(t, cl, tc.root, parallel)
			if x.Len() != len(wantKeys) {
				t.Fatalf("index has %d keys, the listing %d", x.Len(), len(wantKeys))
			}
			for i, k := range wantKeys {
				if x.Key(i) != k {
					t.Fatalf("key %d is %q, want %q", i, x.Key(i), k)
				}
			}
			calls, most, spans := cl.calls.Load(), cl.maxInFlight.Load(), len(cl.starts)
			t.Logf("%d keys: %d LIST requests (a flat listing needs %d), %d spans, at most %d in flight", x.Len(), calls, len(want), spans, most)
			if most > parallel {
				t.Errorf("%d requests in flight, limit %d", most, parallel)
			}
			if spans < parallel {
				t.Errorf("the listing was cut into %d spans, fewer than the %d workers", spans, parallel)
			}
			if calls > 3*int64(len(want))+4*parallel {
				t.Errorf("%d requests, for %d pages of a flat listing", calls, len(want))
			}
		})
	}
}

// A failed request fails the build with the cause, and stops the others.
func TestBuildFailure(t *testing.T) {
	emu, c := startOSS(t)
	emu.AddGenerated(testBucket, emulator.Generated{Count: 5_000, PerDir: 100, KeyFormat: "d%03d/f%05d", Size: 1})
	l := failingLister{Lister: c, after: 10}
	_, err := Build(context.Background(), &l, "", BuildConfig{Parallel: 4})
	if !errors.Is(err, oss.ErrAccessDenied) {
		t.Fatalf("Build: %v, want access denied", err)
	}
}

type failingLister struct {
	Lister
	countingLister
	after int64
}

func (f *failingLister) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	if f.calls.Add(1) > f.after {
		return oss.ListPage{}, oss.ErrAccessDenied
	}
	return f.Lister.List(ctx, in)
}

// An empty prefix gives an empty index after one request.
func TestBuildEmpty(t *testing.T) {
	_, c := startOSS(t)
	cl := &countingLister{Lister: c}
	x := buildFrom(t, cl, "nothing/", 4)
	if x.Len() != 0 || cl.calls.Load() != 1 {
		t.Fatalf("%d keys after %d requests, want 0 after 1", x.Len(), cl.calls.Load())
	}
}
