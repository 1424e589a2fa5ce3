package creds

import (
	"math/rand/v2"
	"time"
)

const (
	backoffBase = 200 * time.Millisecond
	backoffMax  = 30 * time.Second
	// floorRemaining is reference 8.3's "at least 180 s before expiry",
	// capped at two thirds of the lifetime so that short tokens are not
	// renewed continuously yet still leave slack for a slow STS.
	floorRemaining = 180 * time.Second
)

// renewTime is when to renew a token obtained at now that expires at exp:
// once max(frac·lifetime, min(180 s, 2/3·lifetime)) remains, minus up to 20%
// of that as jitter so that many mounts do not renew in step. The lifetime
// comes from the returned Expiration, not the requested duration.
func renewTime(now, exp time.Time, frac float64) time.Time {
	life := exp.Sub(now)
	if life <= 0 {
		return now
	}
	ahead := max(time.Duration(frac*float64(life)), min(floorRemaining, life*2/3))
	ahead += time.Duration(rand.Int64N(int64(ahead)/5 + 1))
	return exp.Add(-ahead)
}

// retryDelay is the capped, jittered backoff after the n-th consecutive
// failure (n >= 1). The cap is an eighth of the token's lifetime (within
// [200 ms, 30 s]) so that several attempts fit before it expires.
func retryDelay(n int, life time.Duration) time.Duration {
	ceiling := min(max(life/8, backoffBase), backoffMax)
	d := backoffBase
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d - d/5 + time.Duration(rand.Int64N(int64(d)*2/5+1)) // ±20%
}

// refresher renews the token at its scheduled time and, after a failure,
// retries with backoff while the token stays valid and after it expired.
// It recomputes the schedule whenever a renewal (its own, a forced one or a
// caller's) finishes.
func (m *Manager) refresher() {
	defer m.wg.Done()
	failures := 0
	var retryAt time.Time
	for {
		m.mu.Lock()
		at := m.renewAt
		life := m.life
		m.mu.Unlock()
		if retryAt.After(at) {
			at = retryAt
		}
		if wait := at.Sub(m.clock.Now()); wait > 0 {
			fired, stop := m.clock.NewTimer(wait)
			select {
			case <-m.ctx.Done():
				stop()
				return
			case <-m.kick:
				stop()
				continue
			case <-fired:
				continue // re-check: the schedule may have moved meanwhile
			}
		}
		m.mu.Lock()
		r := m.startLocked()
		m.mu.Unlock()
		select {
		case <-m.ctx.Done():
			return
		case <-r.done:
		}
		select { // drop the kick of the renewal we waited for
		case <-m.kick:
		default:
		}
		if r.err != nil {
			failures++
			retryAt = m.clock.Now().Add(retryDelay(failures, life))
			continue
		}
		failures, retryAt = 0, time.Time{}
	}
}
