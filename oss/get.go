package oss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ossmount/ossmount/creds"
)

// GetRange streams n bytes of key starting at off; n < 0 reads to the end of
// the object. With etag != "" the read is pinned to that version (If-Match),
// and a changed object gives an error matching ErrPreconditionFailed.
//
// The body is checked against Content-Range and its length: it yields
// exactly the bytes asked for (fewer only where the object ends), and a body
// cut short is resumed from where it stopped (pinned to the ETag the server
// gave, so the bytes cannot come from two versions) up to MaxAttempts times,
// after which Read fails with an error wrapping io.ErrUnexpectedEOF; a short
// read is never reported as io.EOF. A range starting at or past the end of
// the object reads as empty (io.EOF).
//
// ctx bounds the whole read, body included. The caller must Close the
// returned reader; it is not safe for concurrent use.
func (c *Client) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	if key == "" {
		return nil, errors.New("oss: get: empty key")
	}
	if off < 0 {
		return nil, fmt.Errorf("oss: get %q: negative offset %d", key, off)
	}
	r := &rangeReader{c: c, ctx: ctx, key: key, etag: etag, start: off, pos: off, end: -1, limit: -1}
	if n == 0 {
		r.end = off
		return r, nil
	}
	if n > 0 {
		r.limit = off + n
	}
	if err := r.open(); err != nil {
		if se, ok := asServiceError(err); ok && se.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			r.end = off // the range starts at or past the end: EOF
			return r, nil
		}
		return nil, err
	}
	return r, nil
}

// rangeReader is the body of one GetRange. Invariant: bytes [start, pos)
// have been returned to the caller, exactly as the server holds them.
type rangeReader struct {
	c     *Client
	ctx   context.Context // the GetRange call's ctx; it bounds every resumption
	key   string
	etag  string // pins every request; filled from the first answer if not given
	start int64  // first offset asked for
	pos   int64  // next offset to return
	end   int64  // exclusive end of the data, -1 while unknown
	limit int64  // exclusive end asked for, -1 for "to the end"

	body    io.ReadCloser // nil between a failure and its resumption
	resumes int
	lastErr error // why body was dropped
	err     error // sticky: closed, or failed for good
}

var errReaderClosed = errors.New("oss: read after close")

// Read returns the next bytes of the range, resuming a body cut short.
func (r *rangeReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.end >= 0 && r.pos >= r.end {
		r.closeBody()
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.body == nil {
		if err := r.resume(); err != nil {
			r.err = err
			return 0, err
		}
		if r.end >= 0 && r.pos >= r.end {
			return 0, io.EOF
		}
	}
	if r.end >= 0 && int64(len(p)) > r.end-r.pos {
		p = p[:r.end-r.pos]
	}
	n, err := r.body.Read(p)
	r.pos += int64(n)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF && (r.end < 0 || r.pos >= r.end):
		r.closeBody()
		return n, io.EOF
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	// The body failed before its end: drop it and resume on the next Read,
	// so that the bytes already read reach the caller first.
	r.closeBody()
	r.lastErr = err
	if n > 0 {
		return n, nil
	}
	if err := r.resume(); err != nil {
		r.err = err
		return 0, err
	}
	return 0, nil
}

// Close releases the connection. It is safe to call more than once.
func (r *rangeReader) Close() error {
	r.closeBody()
	if r.err == nil {
		r.err = errReaderClosed
	}
	return nil
}

func (r *rangeReader) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// resume re-requests the rest of the range after a cut body.
func (r *rangeReader) resume() error {
	cause := r.lastErr
	if cause == nil {
		cause = io.ErrUnexpectedEOF
	}
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("oss: get %q: %w", r.key, err)
	}
	r.resumes++
	if r.resumes >= r.c.maxAttempts {
		if !errors.Is(cause, io.ErrUnexpectedEOF) {
			cause = fmt.Errorf("%w (%w)", cause, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("oss: get %q: body cut at offset %d (%d bytes read), gave up after %d resumptions: %w",
			r.key, r.pos, r.pos-r.start, r.resumes-1, cause)
	}
	if r.etag == "" {
		return fmt.Errorf("oss: get %q: body cut at offset %d and no ETag to resume safely: %w",
			r.key, r.pos, errors.Join(io.ErrUnexpectedEOF, cause))
	}
	r.c.stats.retry(RetryBodyCut)
	r.c.log.Warn("oss: resuming cut body", "op", "get", "key", r.key, "attempt", r.resumes,
		"offset", r.pos, "error", cause.Error())
	if err := r.open(); err != nil {
		if se, ok := asServiceError(err); ok && se.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			return fmt.Errorf("oss: get %q: object shorter than announced at offset %d: %w", r.key, r.pos, io.ErrUnexpectedEOF)
		}
		return err
	}
	return nil
}

// open requests [pos, limit) with retries and installs the checked body.
func (r *rangeReader) open() error {
	cl := &call{op: "get", method: http.MethodGet, key: r.key, ifMatch: r.etag, rng: rangeHeader(r.pos, r.limit)}
	return r.c.retry(r.ctx, cl.op, r.key, func(ctx context.Context, cred creds.Credentials) error {
		resp, err := r.c.send(ctx, cl, cred)
		if err != nil {
			return err
		}
		end, err := r.checkResponse(resp)
		if err != nil {
			resp.Body.Close()
			return err
		}
		if r.etag == "" {
			r.etag = resp.Header.Get("Etag")
		}
		r.body, r.end = resp.Body, end
		return nil
	})
}

// checkResponse validates a 2xx answer for [pos, limit) and returns the
// exclusive end offset of the data it carries (-1 if unknown).
func (r *rangeReader) checkResponse(resp *http.Response) (int64, error) {
	switch resp.StatusCode {
	case http.StatusPartialContent:
		first, last, _, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return 0, &retryableError{err}
		}
		if first != r.pos || (r.limit >= 0 && last >= r.limit) {
			return 0, &retryableError{fmt.Errorf("asked for bytes %s, got Content-Range %q",
				rangeHeader(r.pos, r.limit), resp.Header.Get("Content-Range"))}
		}
		if resp.ContentLength >= 0 && resp.ContentLength != last-first+1 {
			return 0, &retryableError{fmt.Errorf("Content-Length %d disagrees with Content-Range %q",
				resp.ContentLength, resp.Header.Get("Content-Range"))}
		}
		return last + 1, nil
	case http.StatusOK:
		// The whole object from offset 0: the server ignored the range.
		// Skip to pos; never hand out bytes from the wrong offset.
		if r.pos > 0 {
			if _, err := io.CopyN(io.Discard, resp.Body, r.pos); err != nil {
				if err == io.EOF {
					return r.pos, nil // the object ends before pos
				}
				return 0, &retryableError{err}
			}
		}
		end := int64(-1)
		if resp.ContentLength >= 0 {
			end = max(resp.ContentLength, r.pos)
		}
		if r.limit >= 0 && (end < 0 || end > r.limit) {
			end = r.limit
		}
		return end, nil
	}
	return 0, fmt.Errorf("unexpected status %d for a ranged GET", resp.StatusCode)
}

// rangeHeader is the Range value for [off, limit), or [off, end) if limit < 0.
func rangeHeader(off, limit int64) string {
	if limit < 0 {
		return "bytes=" + strconv.FormatInt(off, 10) + "-"
	}
	return "bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(limit-1, 10)
}

// parseContentRange parses "bytes first-last/total"; total is -1 for "*".
func parseContentRange(s string) (first, last, total int64, err error) {
	bad := fmt.Errorf("bad Content-Range %q", s)
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	span, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	if first, err = strconv.ParseInt(a, 10, 64); err != nil || first < 0 {
		return 0, 0, 0, bad
	}
	if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
		return 0, 0, 0, bad
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total <= last {
			return 0, 0, 0, bad
		}
	}
	return first, last, total, nil
}
