package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Without --log-file a background mount logs to syslog when one listens,
// and says so; with none, it says that logs go nowhere.
func TestBackgroundLogWriter(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	w, where := backgroundLogWriter(sock)
	if !strings.HasPrefix(where, "none") || !strings.Contains(where, "--log-file") {
		t.Fatalf("no syslog: where = %q", where)
	}
	if _, err := w.Write([]byte("dropped\n")); err != nil {
		t.Fatal(err)
	}

	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w, where = backgroundLogWriter(sock)
	if where != "syslog ("+sock+")" {
		t.Fatalf("syslog listening: where = %q", where)
	}
	newLogger(w, 0).Info("mounted", "mountpoint", "/mnt")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound, not a pace: the datagram is already queued
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); !strings.Contains(got, "ossmount[") || !strings.Contains(got, "msg=mounted mountpoint=/mnt") {
		t.Fatalf("syslog got %q", got)
	}
}

// SIGHUP's reopen writes on at the path after the old file was renamed.
func TestLogSinkReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	sink, err := newLogSink(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.Write([]byte("one\n"))
	os.Rename(path, path+".1")
	if ok, err := sink.reopen(); !ok || err != nil {
		t.Fatalf("reopen: %v %v", ok, err)
	}
	sink.Write([]byte("two\n"))
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if string(old) != "one\n" || string(cur) != "two\n" {
		t.Fatalf("rotated %q, new %q", old, cur)
	}
	if ok, _ := (&logSink{w: os.Stderr}).reopen(); ok {
		t.Fatal("a sink without a file reopened something")
	}
}
