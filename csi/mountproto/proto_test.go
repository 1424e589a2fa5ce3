package mountproto

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRequestCheck(t *testing.T) {
	ok := Request{MountID: "m", Target: "bkt:/p", LogFile: "/s/log", Args: []string{"--endpoint=https://e", "--path-style"}}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Request){
		"slash in ID":      func(r *Request) { r.MountID = "../x" },
		"no target":        func(r *Request) { r.Target = "" },
		"flag as target":   func(r *Request) { r.Target = "--policy-file=/x" },
		"no log":           func(r *Request) { r.LogFile = "" },
		"path option":      func(r *Request) { r.Args = []string{"--credentials-file=/x"} },
		"single dash":      func(r *Request) { r.Args = []string{"-f"} },
		"positional":       func(r *Request) { r.Args = []string{"other-bucket"} },
		"listener":         func(r *Request) { r.Args = []string{"--metrics-addr=:9"} },
		"manifest file":    func(r *Request) { r.Args = []string{"--manifest=/etc/x"} },
		"cache directory":  func(r *Request) { r.Args = []string{"--cache-dir=/"} },
		"profile selector": func(r *Request) { r.Args = []string{"--profile=x"} },
		"bad memory limit": func(r *Request) { r.MemoryLimit = "1 GB" },
	} {
		r := ok
		r.Args = append([]string(nil), ok.Args...)
		mutate(&r)
		if err := r.Check(); err == nil {
			t.Errorf("%s: accepted %+v", name, r)
		}
	}
}

// A request and its fd cross a SOCK_SEQPACKET socket; the reply comes back.
func TestSendReceive(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "m.sock")
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: sock, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			got <- err.Error()
			return
		}
		defer conn.Close()
		req, f, err := Receive(conn)
		if err != nil {
			got <- err.Error()
			Answer(conn, Reply{Error: err.Error()})
			return
		}
		data := make([]byte, 5)
		n, _ := f.ReadAt(data, 0)
		f.Close()
		got <- req.Target + " " + string(data[:n])
		Answer(conn, Reply{OK: true, PID: 42})
	}()
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, []byte("hello"), 0o600)
	f, _ := os.Open(file)
	defer f.Close()
	reply, err := Send(sock, Request{MountID: "m", Target: "bkt", LogFile: "/l"}, f, time.Now().Add(10*time.Second))
	if err != nil || !reply.OK || reply.PID != 42 {
		t.Fatalf("reply %+v, %v", reply, err)
	}
	if s := <-got; s != "bkt hello" {
		t.Fatalf("server saw %q", s)
	}
	if _, err := Send(filepath.Join(t.TempDir(), "none.sock"), Request{}, f, time.Now().Add(time.Second)); err == nil || !strings.Contains(err.Error(), "connecting to the mounter") {
		t.Errorf("no mounter: %v", err)
	}
}
