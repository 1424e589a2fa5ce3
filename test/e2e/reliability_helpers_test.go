package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// Helpers shared by the reliability tests (issue 8).

// soak reports whether the long variants run (make soak).
func soak() bool { return os.Getenv("OSSMOUNT_SOAK") == "1" }

// generatedMD5 is the hex MD5 of a generated object's content.
func generatedMD5(t *testing.T, seed int64, key string, size int64) string {
	t.Helper()
	h := md5.New()
	n, err := io.Copy(h, emulator.GeneratedContent(seed, key, size))
	if err != nil || n != size {
		t.Fatalf("generated content of %q: %d bytes, %v", key, n, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileMD5 is the hex MD5 of a local file.
func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// totalRequests sums the OSS requests of c (AssumeRole and Denied excluded).
func totalRequests(c emulator.Counters) int {
	n := 0
	for op, v := range c.Requests {
		switch op {
		case "AssumeRole", "AssumeRoleWithOIDC", "Denied":
		default:
			n += v
		}
	}
	return n
}

// statusCount sums ByStatus entries whose key ends in " "+status.
func statusCount(c emulator.Counters, status string) int {
	n := 0
	for k, v := range c.ByStatus {
		if strings.HasSuffix(k, " "+status) {
			n += v
		}
	}
	return n
}

// waitLog polls the log file until it contains every one of subs.
func waitLog(logFile string, d time.Duration, subs ...string) bool {
	return mounttest.WaitFor(d, func() bool {
		data, _ := os.ReadFile(logFile)
		for _, s := range subs {
			if !strings.Contains(string(data), s) {
				return false
			}
		}
		return true
	})
}

// tail returns the last n bytes of s, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// serveLoopback serves h on 127.0.0.1 until the test ends and returns its URL.
func serveLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
