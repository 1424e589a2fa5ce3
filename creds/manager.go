package creds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Retrieve after Close.
var ErrClosed = errors.New("creds: manager closed")

const (
	// renewTimeout bounds one renewal: source fetch plus STS call.
	renewTimeout = 30 * time.Second
	// forceInterval is the least time between forced renewals (Invalidate,
	// or callers holding an expired token while STS fails), so that many
	// failing readers cannot flood STS.
	forceInterval = time.Second
)

// Manager holds the current temporary token, renews it in the background
// and hands it out. It implements Provider and Invalidator.
type Manager struct {
	log    *slog.Logger
	clock  Clock
	frac   float64
	sts    *stsClient
	src    source
	params assumeParams
	ctx    context.Context // renewals run on it: no caller can cancel them; Close does
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{} // wakes the refresher when the schedule changed

	cur     atomic.Pointer[Credentials]
	invalid atomic.Pointer[Credentials] // the token a server rejected, if still current

	mu         sync.Mutex // guards the fields below
	closed     bool
	inflight   *renewal
	renewAt    time.Time     // when the refresher renews the current token
	life       time.Duration // lifetime of the current token when obtained
	lastForced time.Time
	lastFail   time.Time
	status     Status
}

// Status is what logs and metrics show about the token.
type Status struct {
	Expiration     time.Time // of the current token
	Renewals       int       // successful renewals after the first token
	Failures       int       // failed renewal attempts
	LastError      error     // the last failure; nil once a renewal succeeds
	Source         string    // which source credential was used
	AssumedRoleARN string    // AssumedRoleUser.Arn of the current token
	AssumedRoleID  string    // AssumedRoleUser.AssumedRoleId
}

type renewal struct {
	done chan struct{}
	err  error // set before done closes
}

var (
	_ Provider    = (*Manager)(nil)
	_ Invalidator = (*Manager)(nil)
)

// New finds the source credential (reference 8.2 order, see resolver),
// assumes the role once with the session policy, failing fast with the STS
// code, message, request id and a hint, and starts the background
// refresher. ctx bounds only this first exchange. Close the Manager to stop
// the refresher.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	sts := &stsClient{endpoint: cfg.STSEndpoint, http: cfg.HTTPClient, now: cfg.Clock.Now}
	r := &resolver{cfg: cfg, sts: sts, imds: &imds{
		endpoint:   cfg.ECSMetadataEndpoint,
		http:       cfg.HTTPClient,
		v1Disabled: cfg.Getenv("ALIBABA_CLOUD_IMDSV1_DISABLED") == "true",
	}}
	src, err := r.resolve(ctx)
	if err != nil {
		return nil, err
	}
	roleARN := cfg.RoleARN
	if roleARN == "" {
		roleARN = src.roleARN
	}
	if err := ValidateRoleARN(roleARN); err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{
		log: cfg.Logger, clock: cfg.Clock, frac: cfg.RefreshFraction, sts: sts, src: src,
		params: assumeParams{RoleARN: roleARN, SessionName: cfg.RoleSessionName, Duration: cfg.Duration, Policy: cfg.Policy},
		ctx:    base, cancel: cancel, kick: make(chan struct{}, 1),
	}
	m.status.Source = src.name
	first, err := m.assume(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("creds: assume role %s with source %s: %w", roleARN, src.name, err)
	}
	m.store(first)
	m.log.Info("token obtained", "source", src.name, "role", roleARN, "expires", first.Creds.Expiration, "request_id", first.RequestID)
	m.wg.Add(1)
	go m.refresher()
	return m, nil
}

// assume runs one exchange on ctx with its own deadline.
func (m *Manager) assume(ctx context.Context) (assumeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	var res assumeResult
	var err error
	if m.src.oidc != nil {
		var tok Secret
		if tok, err = m.src.oidc.token(); err != nil {
			return assumeResult{}, err
		}
		res, err = m.sts.assumeRoleWithOIDC(ctx, m.src.oidc.providerARN, tok, m.params)
	} else {
		var src Credentials
		if src, err = m.src.fetch(ctx); err != nil {
			return assumeResult{}, err
		}
		res, err = m.sts.assumeRole(ctx, src, m.params)
	}
	if err != nil {
		return assumeResult{}, err
	}
	if now := m.clock.Now(); !res.Creds.Expiration.After(now) {
		return assumeResult{}, fmt.Errorf("creds: STS returned a token that expires at %s, not after now (%s): check the clock (request id %s)",
			res.Creds.Expiration.Format(time.RFC3339), now.UTC().Format(time.RFC3339), res.RequestID)
	}
	return res, nil
}

// store makes res the current token and schedules its renewal.
func (m *Manager) store(res assumeResult) {
	c := res.Creds
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur.Store(&c)
	m.renewAt = renewTime(now, c.Expiration, m.frac)
	m.life = c.Expiration.Sub(now)
	m.status.Expiration = c.Expiration
	m.status.AssumedRoleARN, m.status.AssumedRoleID = res.RoleARN, res.RoleID
	m.status.LastError = nil
}

// Retrieve returns the current token. While it is valid nobody waits; once
// it has expired (or a server rejected it, see Invalidate) the caller joins
// the renewal in flight, or starts one, and waits on its own ctx. If STS is
// failing and the token has expired, the error says so and names STS's last
// error; service resumes by itself once STS answers.
func (m *Manager) Retrieve(ctx context.Context) (Credentials, error) {
	for range 3 {
		c := m.cur.Load()
		if !c.Expired(m.clock.Now()) && m.invalid.Load() != c {
			return *c, nil
		}
		r, err := m.renewalFor(c)
		if r == nil {
			if err != nil {
				return Credentials{}, err
			}
			return *c, nil // rejected but unexpired, and no renewal allowed yet
		}
		select {
		case <-ctx.Done():
			return Credentials{}, fmt.Errorf("creds: waiting for the token renewal: %w", ctx.Err())
		case <-r.done:
		}
		if r.err != nil {
			if c := m.cur.Load(); !c.Expired(m.clock.Now()) {
				return *c, nil
			}
			return Credentials{}, m.expiredError(c, r.err)
		}
	}
	return Credentials{}, m.expiredError(m.cur.Load(), errors.New("renewed tokens keep expiring at once"))
}

// renewalFor returns the renewal a caller holding c should wait for, or
// (nil, nil) to use c as is, or (nil, err) when STS failed moments ago and
// c has expired.
func (m *Manager) renewalFor(c *Credentials) (*renewal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.inflight != nil {
		return m.inflight, nil
	}
	now := m.clock.Now()
	if !c.Expired(now) {
		return nil, nil
	}
	if m.status.LastError != nil && now.Sub(m.lastFail) < forceInterval {
		return nil, m.expiredError(c, m.status.LastError)
	}
	return m.startLocked(), nil
}

func (m *Manager) expiredError(c *Credentials, last error) error {
	return fmt.Errorf("creds: the temporary token expired at %s and STS renewals are failing: %w",
		c.Expiration.UTC().Format(time.RFC3339), last)
}

// Invalidate asks for a renewal because a server rejected stale. It does
// nothing if stale is no longer current (another caller already caused a
// renewal) or if a forced renewal ran less than a second ago. It does not
// wait; callers that Retrieve next wait for the renewal.
func (m *Manager) Invalidate(stale Credentials) {
	c := m.cur.Load()
	if c.AccessKeyID != stale.AccessKeyID || c.SecurityToken.Reveal() != stale.SecurityToken.Reveal() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	if m.closed || m.inflight != nil || now.Sub(m.lastForced) < forceInterval {
		return
	}
	m.lastForced = now
	m.invalid.Store(c)
	m.log.Info("token rejected by a server, renewing", "expires", c.Expiration)
	m.startLocked()
}

// startLocked starts the one renewal in flight. m.mu must be held.
func (m *Manager) startLocked() *renewal {
	if m.inflight != nil {
		return m.inflight
	}
	r := &renewal{done: make(chan struct{})}
	m.inflight = r
	m.wg.Add(1)
	go m.run(r)
	return r
}

func (m *Manager) run(r *renewal) {
	defer m.wg.Done()
	m.log.Debug("renewing token", "expires", m.cur.Load().Expiration)
	res, err := m.assume(m.ctx)
	if err == nil {
		m.store(res)
	}
	m.mu.Lock()
	if err == nil {
		m.status.Renewals++
	} else {
		m.status.Failures++
		m.status.LastError = err
		m.lastFail = m.clock.Now()
	}
	m.inflight = nil
	r.err = err
	st := m.status
	m.mu.Unlock()
	close(r.done)
	select { // the schedule changed: let the refresher recompute it
	case m.kick <- struct{}{}:
	default:
	}
	if err != nil {
		m.log.Warn("token renewal failed", "err", err, "failures", st.Failures, "expires", m.cur.Load().Expiration)
		return
	}
	m.log.Info("token renewed", "expires", res.Creds.Expiration, "renewals", st.Renewals, "request_id", res.RequestID)
}

// Status reports the token's expiry, renewal counts and last error.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// Close stops the refresher and any renewal in flight and waits for them.
// Retrieve returns ErrClosed afterwards when it would need a renewal.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	return nil
}
