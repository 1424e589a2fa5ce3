package fs

import (
	"bytes"
	"context"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// viewBytes is what go-fuse writes for a ReadResult: its slices when it
// has them, else Bytes.
func viewBytes(t *testing.T, res fuse.ReadResult) []byte {
	t.Helper()
	if s, ok := res.(interface {
		Slices() ([][]byte, fuse.Status)
	}); ok {
		parts, st := s.Slices()
		if !st.Ok() {
			t.Fatalf("Slices: %v", st)
		}
		return bytes.Join(parts, nil)
	}
	b, st := res.Bytes(make([]byte, res.Size()))
	if !st.Ok() {
		t.Fatalf("Bytes: %v", st)
	}
	return b
}

// A sequential read through ReadView hands out the parts' own bytes,
// across part boundaries too, and keeps each part's buffer out of the
// budget until the reply is done with it, even past Close.
func TestPrefetchReadViewLendsParts(t *testing.T) {
	const size, chunk = 8 << 20, 96 << 10 // chunks straddle the 256 KiB+ parts
	budget := newReadBudget(64 << 20)
	st, r, data := newPrefetchFixture(t, size, budget)
	p := make([]byte, chunk)
	var lent, multi int
	var last fuse.ReadResult
	for off := 0; off < size; off += chunk {
		q := p[:min(chunk, size-off)]
		res, err := r.ReadView(context.Background(), q, int64(off))
		if err != nil {
			t.Fatalf("ReadView %d: %v", off, err)
		}
		if got := viewBytes(t, res); res.Size() != len(q) || !bytes.Equal(got, data[off:off+len(q)]) {
			t.Fatalf("ReadView %d: %d bytes (size %d), want %d right ones", off, len(got), res.Size(), len(q))
		}
		if v, ok := res.(*partView); ok {
			lent++
			if len(v.data) > 1 {
				multi++
			}
			b, _ := v.Bytes(nil) // the single-slice fallback joins them
			if !bytes.Equal(b, data[off:off+len(q)]) {
				t.Fatalf("Bytes at %d: wrong bytes", off)
			}
		}
		if off+chunk < size {
			res.Done()
			res.Done() // a second Done must not give the buffers back twice
		} else {
			last = res
		}
	}
	if lent == 0 || multi == 0 {
		t.Fatalf("%d of the reads lent parts, %d of them several; want both > 0", lent, multi)
	}
	if n := len(st.records()); n > 40 {
		t.Errorf("%d GETs for 8 MiB read sequentially", n)
	}
	r.Close()
	if used, _, _ := budget.stats(); used == 0 {
		t.Error("the budget got the lent buffer back before the reply was done")
	}
	last.Done()
	if used, _, _ := budget.stats(); used != 0 {
		t.Errorf("budget in use after Close and Done: %d bytes, want 0", used)
	}
}

// Reads outside the window are exact GETs into the caller's buffer.
func TestPrefetchReadViewExact(t *testing.T) {
	budget := newReadBudget(64 << 20)
	st, r, data := newPrefetchFixture(t, 4<<20, budget)
	p := make([]byte, 1000)
	res, err := r.ReadView(context.Background(), p, 3_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if got := viewBytes(t, res); !bytes.Equal(got, data[3_000_000:3_001_000]) || &got[0] != &p[0] {
		t.Errorf("exact read: wrong bytes or not in the caller's buffer")
	}
	res.Done()
	if g := st.records(); len(g) != 1 || g[0] != (getRecord{3_000_000, 1000}) {
		t.Errorf("GETs %v, want one exact", g)
	}
	if used, _, _ := budget.stats(); used != 0 {
		t.Errorf("budget in use %d, want 0", used)
	}
}
