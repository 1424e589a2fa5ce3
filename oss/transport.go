package oss

import (
	"net"
	"net/http"
	"time"
)

// newTransport returns the default transport: a connection pool large enough
// for many parallel ranged GETs to one host, keep-alive, bounded dial, TLS
// and response-header waits, and no limit on how long a body may stream.
//
// Compression is off so that Content-Length and Content-Range describe the
// bytes read (Go would otherwise ask for gzip and inflate transparently).
// HTTP/2 is not forced: parallel ranged reads do better over several
// HTTP/1.1 connections than multiplexed over one.
func newTransport(responseHeaderTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		// Per connection, and a mount may hold hundreds: the buffers only
		// ever carry headers (a body read into a part's buffer, at least
		// 256 KiB, bypasses a smaller bufio buffer), so Go's 4 KiB default
		// is enough. 64+16 KiB cost 300 readers ~40 MiB of RSS (issue 11.12).
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 4 << 10,
	}
}
