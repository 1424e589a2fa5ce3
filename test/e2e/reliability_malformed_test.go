package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// manglingProxy sits between ossmount and the emulator and, when mode is
// set, corrupts answers the emulator cannot: garbage list XML and a
// Content-Range that does not match the Range asked for.
type manglingProxy struct {
	mode atomic.Value // string: "", "garbage-xml", "bad-range"
	url  string
}

func startManglingProxy(t *testing.T, target string) *manglingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &manglingProxy{}
	p.mode.Store("")
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // cut bodies are the point
	rp.ModifyResponse = func(resp *http.Response) error {
		mode := p.mode.Load().(string)
		req := resp.Request
		switch {
		case mode == "garbage-xml" && req.URL.Query().Get("list-type") != "" && resp.StatusCode == 200:
			body := []byte("\x00\x01<<not xml at all>> &&& <ListBucketResult><Contents><Key>")
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		case mode == "bad-range" && resp.StatusCode == http.StatusPartialContent:
			// Shift the declared range by one byte; the body is unchanged.
			var first, last, size int64
			if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &size); err == nil {
				resp.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first+1, last+1, size+1))
			}
		}
		return nil
	}
	p.url = serveLoopback(t, rp)
	return p
}

// Malformed answers give EIO with a log line, never a panic or a hang, and
// the mount stays up.
func TestMalformedAnswersGiveEIO(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, dir := range []string{"wcl", "trunc", "garbage", "range"} {
		e.emu.PutObject("mal", dir+"/obj.bin", data)
		e.emu.PutObject("mal", dir+"/sub/x.txt", []byte("x"))
	}
	e.emu.PutObject("mal", "ok.txt", []byte("still fine"))
	proxy := startManglingProxy(t, e.emu.OSSURL())
	mnt, logFile := e.mount("mal", "--endpoint", proxy.url, "--request-timeout", "2s")
	sh(t, mnt, "ls -l . */ >/dev/null") // names and sizes cached; sub/ listings not yet made

	cases := []struct {
		name   string
		faults emulator.Faults
		mode   string
		op     func(dir string) error
	}{
		{"wrong Content-Length", emulator.Faults{WrongContentLength: true}, "", readObj(mnt)},
		{"truncated list XML", emulator.Faults{TruncatedXML: true}, "", listSub(mnt)},
		{"garbage list XML", emulator.Faults{}, "garbage-xml", listSub(mnt)},
		{"mismatched Content-Range", emulator.Faults{}, "bad-range", readObj(mnt)},
	}
	dirs := []string{"wcl", "trunc", "garbage", "range"}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := dirs[i]
			logBefore := len(readFile(t, logFile))
			e.emu.SetFaults(tc.faults)
			proxy.mode.Store(tc.mode)
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- tc.op(dir) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(mounttest.HangGuard):
				e.emu.SetFaults(emulator.Faults{})
				proxy.mode.Store("")
				t.Fatalf("hang guard: still blocked after %v", mounttest.HangGuard)
			}
			elapsed := time.Since(start)
			e.emu.SetFaults(emulator.Faults{})
			proxy.mode.Store("")
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("got %v, want EIO", err)
			}
			if !mounttest.WaitFor(mounttest.HangGuard, func() bool {
				return strings.Contains(readFile(t, logFile)[logBefore:], "operation failed")
			}) {
				t.Errorf("no log line for the failure:\n%s", tail(readFile(t, logFile)[logBefore:], 3000))
			}
			newLog := readFile(t, logFile)[logBefore:]
			if strings.Contains(newLog, "panic") {
				t.Errorf("panic in the log:\n%s", tail(newLog, 3000))
			}
			if !mounttest.IsMounted(mnt) {
				t.Fatal("mount gone")
			}
			if got, err := os.ReadFile(filepath.Join(mnt, "ok.txt")); err != nil || string(got) != "still fine" {
				t.Fatalf("mount unusable afterwards: %q %v", got, err)
			}
			if err := tc.op(dir); err != nil {
				t.Errorf("same operation once the server behaves: %v", err)
			}
			var reason string
			for _, l := range strings.Split(newLog, "\n") {
				if strings.Contains(l, "operation failed") {
					_, reason, _ = strings.Cut(l, " err=")
					break
				}
			}
			t.Logf("EIO after %v, %d retries logged; cause: %s", elapsed.Round(time.Millisecond), strings.Count(newLog, "oss: retrying"), reason)
		})
	}
}

func readObj(mnt string) func(dir string) error {
	return func(dir string) error {
		got, err := os.ReadFile(filepath.Join(mnt, dir, "obj.bin"))
		if err == nil && len(got) != 1<<20 {
			return fmt.Errorf("read %d bytes, want %d", len(got), 1<<20)
		}
		return err
	}
}

func listSub(mnt string) func(dir string) error {
	return func(dir string) error {
		entries, err := os.ReadDir(filepath.Join(mnt, dir, "sub"))
		if err == nil && (len(entries) != 1 || entries[0].Name() != "x.txt") {
			return fmt.Errorf("listing: %v", entries)
		}
		return err
	}
}
