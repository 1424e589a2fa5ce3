package emulator

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// takeStall reports whether the next answer of op ("get", "list", "sts")
// stalls, counting it against Faults.StallBodies, and returns the faults
// that shape the stall.
func (fs *faultSwitch) takeStall(op string) (Faults, <-chan struct{}, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	if fs.stallLeft == 0 || (f.StallOps != "" && !hasOp(f.StallOps, op)) {
		return f, fs.changed, false
	}
	if fs.stallLeft > 0 {
		fs.stallLeft--
	}
	return f, fs.changed, true
}

func hasOp(list, op string) bool {
	for o := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(o) == op {
			return true
		}
	}
	return false
}

// writeBody sends body to w after the headers, stalling or trickling it when
// Faults say so for op. It returns early (with an error) when the client
// goes away or the server closes.
func (s *Server) writeBody(ctx context.Context, w io.Writer, op string, body io.Reader) error {
	f, changed, stall := s.faults.takeStall(op)
	if !stall {
		_, err := io.Copy(w, body)
		return err
	}
	s.counts.stalled()
	if _, err := io.CopyN(w, body, f.StallAfter); err != nil {
		return err // io.EOF: the body is shorter than StallAfter, nothing to stall
	}
	flush(w)
	if f.TrickleInterval <= 0 {
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return context.Canceled
		}
		_, err := io.Copy(w, body)
		return err
	}
	var b [1]byte
	for {
		if !s.wait(ctx, f.TrickleInterval) {
			return context.Canceled
		}
		n, err := body.Read(b[:])
		if n > 0 {
			if _, werr := w.Write(b[:n]); werr != nil {
				return werr
			}
			flush(w)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func flush(w io.Writer) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
