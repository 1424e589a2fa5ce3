package oss

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ossmount/ossmount/creds"
)

// Head returns what HeadObject says about key. An absent key gives an error
// matching ErrNotFound.
func (c *Client) Head(ctx context.Context, key string) (ObjectInfo, error) {
	if key == "" {
		return ObjectInfo{}, fmt.Errorf("oss: head: empty key")
	}
	var info ObjectInfo
	err := c.headerCall(ctx, &call{op: "head", method: http.MethodHead, key: key}, func(resp *http.Response) (err error) {
		info, err = objectInfoFromHeader(key, resp.Header, resp.ContentLength)
		return err
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	c.log.Debug("oss: head", "op", "head", "key", key, "size", info.Size)
	return info, nil
}

// objectInfoFromHeader reads the HeadObject headers (protocol 5.1). The
// size comes from Content-Length; a HEAD without one is an error.
func objectInfoFromHeader(key string, h http.Header, contentLength int64) (ObjectInfo, error) {
	size := contentLength
	if v := h.Get("Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("content-length %q", v)
		}
		size = n
	}
	if size < 0 {
		return ObjectInfo{}, fmt.Errorf("no content-length in the answer")
	}
	o := ObjectInfo{Key: key, Size: size, ETag: h.Get("Etag"), ObjectType: h.Get("X-Oss-Object-Type")}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		o.LastModified = t.UTC()
	}
	return o, nil
}

// headerCall sends a request whose answer is all in its headers (HEAD,
// GetSymlink), with retries; parse reads one answer, and its error (a
// header missing or malformed) makes the attempt retryable.
func (c *Client) headerCall(ctx context.Context, cl *call, parse func(*http.Response) error) error {
	return c.retry(ctx, cl.op, cl.key, func(ctx context.Context, cred creds.Credentials) error {
		ctx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
		defer cancel()
		resp, err := c.send(ctx, cl, cred)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if err := parse(resp); err != nil {
			return &retryableError{err}
		}
		return nil
	})
}
