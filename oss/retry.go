package oss

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// throttleCodes are the OSS codes for "slow down" (protocol 6.2); they are
// retried whatever the status.
var throttleCodes = map[string]bool{
	"TotalQpsLimitExceeded":            true,
	"ActiveRequestLimitExceeded":       true,
	"MetaOperationQpsLimitExceeded":    true,
	"DownloadTrafficRateLimitExceeded": true,
	"UploadTrafficRateLimitExceeded":   true,
	"CpuLimitExceeded":                 true,
	"ServiceUnavailable":               true,
	"InternalError":                    true,
	"SlowDown":                         true,
	"Throttling":                       true,
	"RequestTimeout":                   true,
}

// retryable reports whether err, from one attempt, may succeed if repeated.
func retryable(err error) bool {
	if se, ok := asServiceError(err); ok {
		return se.StatusCode >= 500 || se.StatusCode == http.StatusTooManyRequests ||
			se.StatusCode == http.StatusRequestTimeout || throttleCodes[se.Code]
	}
	var re *retryableError
	return errors.As(err, &re)
}

// attemptFunc performs one attempt with the given credentials.
type attemptFunc func(ctx context.Context, cred creds.Credentials) error

// retry runs attempt until it succeeds or fails for good. Only idempotent
// reads come through here. Between retryable failures it waits a full-jitter
// capped exponential backoff on a timer and ctx; RequestTimeTooSkewed
// corrects the clock offset and a rejected credential is invalidated once,
// both retried at once. MaxAttempts and MaxRetryTime bound the whole call
// (throttling only MaxRetryTime);
// a cancelled ctx ends it immediately with ctx's error.
func (c *Client) retry(ctx context.Context, op, key string, attempt attemptFunc) error {
	start := time.Now()
	refreshed := false
	for n := 1; ; n++ {
		// The rate limit first: credentials taken after a long wait are fresh.
		if err := c.gov.wait(ctx); err != nil {
			return fmt.Errorf("oss: %s %q: waiting for the request rate limit: %w", op, key, err)
		}
		cred, err := c.provider.Retrieve(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("oss: %s %q: %w", op, key, ctx.Err())
			}
			return fmt.Errorf("oss: %s %q: credentials: %w", op, key, err)
		}
		err = attempt(ctx, cred)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("oss: %s %q: %w", op, key, ctx.Err())
		}
		var wait time.Duration
		se, isSE := asServiceError(err)
		// "Slow down" answers (429, 503 and its throttling codes) cost the
		// server nothing and say a retry will work once load falls, so they
		// are bounded by MaxRetryTime alone: a throttling storm longer than
		// MaxAttempts backoffs must not fail reads that would succeed after it.
		slowDown := isSE && (se.StatusCode == http.StatusTooManyRequests || se.StatusCode == http.StatusServiceUnavailable)
		switch {
		case isSE && se.Code == "RequestTimeTooSkewed" && !se.serverTime.IsZero():
			offset := se.serverTime.Sub(c.now())
			c.clockOffset.Store(int64(offset))
			c.log.Warn("oss: clock skew corrected", "op", op, "key", key, "offset", offset.Round(time.Second).String(), "request_id", se.RequestID)
		case isSE && errors.Is(se, ErrCredentials):
			inv, ok := c.provider.(creds.Invalidator)
			if !ok || refreshed {
				return err
			}
			refreshed = true
			inv.Invalidate(cred)
		case retryable(err):
			ceiling := min(c.maxDelay, c.baseDelay<<min(n, 30))
			wait = rand.N(ceiling)
		default:
			return wrapFinal(op, key, err)
		}
		if (n >= c.maxAttempts && !slowDown) || time.Since(start)+wait > c.maxRetryTime {
			return wrapFinal(op, key, err)
		}
		c.stats.retry(retryReason(err))
		c.logRetry(op, key, n, wait, err)
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("oss: %s %q: %w", op, key, ctx.Err())
			case <-t.C:
			}
		}
	}
}

// wrapFinal gives a transport or body error the package prefix; a
// *ServiceError already names op and key and is returned as is.
func wrapFinal(op, key string, err error) error {
	if _, ok := asServiceError(err); ok {
		return err
	}
	return fmt.Errorf("oss: %s %q: %w", op, key, err)
}

func (c *Client) logRetry(op, key string, attempt int, wait time.Duration, err error) {
	attrs := []any{"op", op, "key", key, "attempt", attempt, "wait", wait.Round(time.Millisecond).String()}
	if se, ok := asServiceError(err); ok {
		attrs = append(attrs, "status", se.StatusCode, "code", se.Code, "request_id", se.RequestID, "ec", se.EC)
	} else {
		attrs = append(attrs, "error", err.Error())
	}
	c.log.Log(context.Background(), slog.LevelWarn, "oss: retrying", attrs...)
}
