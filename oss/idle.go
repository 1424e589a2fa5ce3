package oss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// minProgress is the least a response body must deliver, while its reader
// waits, in each idle period: fewer bytes count as no progress, so a
// server that trickles a byte at a time fails the attempt like one that
// stalls. 1 KiB per period is far below any real link.
const minProgress = 1 << 10

// idleBody bounds the wait for a response body: while a Read is waiting,
// the body must deliver minProgress bytes (or end) within idle, else the
// attempt's request is cancelled and the waiting Read fails with a
// retryable "no progress" error, which GetRange turns into a resumption and
// the retry loop into another attempt.
//
// A reader that is not reading (its buffer full, its user idle) is never
// timed out. The hot path costs three atomic operations per Read: a
// watchdog timer, armed once per response, wakes every idle/2 and compares
// counters, so a stall is detected between idle and 1.5×idle after the last
// progress.
type idleBody struct {
	body      io.ReadCloser
	cancel    context.CancelCauseFunc // cancels the attempt's request
	idle      time.Duration
	requestID string

	reading atomic.Bool  // a Read is in progress
	got     atomic.Int64 // bytes returned so far
	tripped atomic.Bool  // the watchdog cancelled the request
	closed  atomic.Bool

	timer *time.Timer
	mu    sync.Mutex // guards the fields below; only the watchdog takes it
	quiet int        // consecutive checks without progress while reading
	since int64      // got at the start of the quiet streak
}

// watchBody wraps body so that a stall cancels the attempt; cancel must
// cancel the request's context. Close stops the watchdog and calls cancel.
func watchBody(body io.ReadCloser, idle time.Duration, requestID string, cancel context.CancelCauseFunc) *idleBody {
	b := &idleBody{body: body, cancel: cancel, idle: idle, requestID: requestID}
	b.timer = time.AfterFunc(idle/2, b.check)
	return b
}

func (b *idleBody) check() {
	if b.closed.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	got := b.got.Load()
	if b.reading.Load() && got-b.since < minProgress {
		b.quiet++
	} else {
		b.quiet, b.since = 0, got
	}
	if b.quiet >= 2 {
		b.tripped.Store(true)
		b.cancel(errNoProgress)
		return
	}
	b.timer.Reset(b.idle / 2)
}

// errNoProgress is the cause given to the cancelled request's context.
var errNoProgress = errors.New("oss: response body made no progress")

func (b *idleBody) Read(p []byte) (int, error) {
	b.reading.Store(true)
	n, err := b.body.Read(p)
	b.reading.Store(false)
	b.got.Add(int64(n))
	if err != nil && err != io.EOF && b.tripped.Load() {
		err = &retryableError{fmt.Errorf("response body made no progress for %v after %d bytes (request id %s)",
			b.idle, b.got.Load(), orDash(b.requestID))}
	}
	return n, err
}

// Close stops the watchdog, releases the request and closes the body.
func (b *idleBody) Close() error {
	b.closed.Store(true)
	b.timer.Stop()
	err := b.body.Close()
	b.cancel(nil)
	return err
}
