package oss

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// call is one logical request; every attempt builds and signs a fresh
// *http.Request from it.
type call struct {
	op      string // list, head, get: for errors and logs
	method  string
	key     string // raw object key; "" for bucket-level requests
	query   string // wire-encoded query
	rng     string // Range header value, if any
	ifMatch string // If-Match header value, if any
}

// newRequest builds the unsigned request for c: virtual-hosted or path
// style, the key escaped in the path exactly as in the canonical URI.
func (c *Client) newRequest(ctx context.Context, cl *call) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, cl.method, "", nil)
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: c.scheme, RawQuery: cl.query}
	b := make([]byte, 0, len(c.sign.bucket)+len(cl.key)*3/2+4)
	b = append(b, '/')
	if c.pathStyle {
		u.Host = c.host
		b = append(b, c.sign.bucket...)
		b = append(b, '/')
		u.Path = "/" + c.sign.bucket + "/" + cl.key
	} else {
		u.Host = c.sign.bucket + "." + c.host
		u.Path = "/" + cl.key
	}
	b = appendEscapedPath(b, cl.key)
	u.RawPath = string(b)
	req.URL = u
	req.Host = u.Host
	h := req.Header
	h["User-Agent"] = []string{c.userAgent}
	if cl.rng != "" {
		h["Range"] = []string{cl.rng}
		h[hdrRangeBehavior] = []string{"standard"}
	}
	if cl.ifMatch != "" {
		h["If-Match"] = []string{cl.ifMatch}
	}
	return req, nil
}

// send makes one signed attempt. A non-2xx answer becomes a *ServiceError
// (its body read and closed); transport failures are marked retryable.
// Every response body, error answers included, is watched for progress
// (idleBody): no progress for c.idleTimeout while it is read fails the
// attempt. Closing the returned body releases the attempt.
func (c *Client) send(ctx context.Context, cl *call, cred creds.Credentials) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := c.newRequest(ctx, cl)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	signTime := c.now().Add(time.Duration(c.clockOffset.Load()))
	c.sign.signRequest(req, cl.key, cred, signTime, nil, nil)
	sent := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel(nil)
		c.observe(ctx, cl.op, nil, sent)
		if isPermanentTransportError(err) {
			return nil, err
		}
		return nil, &retryableError{err}
	}
	// The watchdog goes under the governor's pacing: a wait for bandwidth
	// tokens is ours, not the server's, and never counts as no progress.
	resp.Body = watchBody(resp.Body, c.idleTimeout, resp.Header.Get("X-Oss-Request-Id"), cancel)
	c.observe(ctx, cl.op, resp, sent) // metrics, the governor, counted body bytes
	if resp.StatusCode >= 300 {
		se := newServiceError(resp, cl.op, cl.key)
		se.temporaryKey = !cred.SecurityToken.IsZero()
		resp.Body.Close()
		c.observeError(se, sent)
		return nil, se
	}
	return resp, nil
}

// isPermanentTransportError reports failures that a retry cannot fix: a
// certificate the client does not trust, or an unusable URL.
func isPermanentTransportError(err error) bool {
	var (
		certErr  *tls.CertificateVerificationError
		authErr  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalErr x509.CertificateInvalidError
	)
	return errors.As(err, &certErr) || errors.As(err, &authErr) ||
		errors.As(err, &hostErr) || errors.As(err, &invalErr)
}

// retryableError marks a failure worth another attempt: a transport error,
// a truncated or unparsable 2xx body, a response that contradicts itself.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }
