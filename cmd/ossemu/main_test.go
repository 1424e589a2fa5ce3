package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/test/mounttest"
)

func TestRunWritesReadyFileAndServes(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready.json")
	stop := make(chan os.Signal, 1)
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--sample", "--public-read", "demo", "--generate", "gen:2500:1K", "--ready-file", ready}, &out, &errOut, stop)
	}()
	var info readyInfo
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool {
		data, err := os.ReadFile(ready)
		return err == nil && json.Unmarshal(data, &info) == nil
	}) {
		t.Fatalf("hang guard: no ready file after %v; stderr: %s", mounttest.HangGuard, errOut.String())
	}
	if info.DemoAccessKeySecret == "" || !strings.HasPrefix(info.OSSURL, "http://127.0.0.1:") || info.RoleARN == "" {
		t.Fatalf("ready info: %+v", info)
	}
	resp, err := http.Get(info.OSSURL + "/demo/README.txt") // public-read: anonymous works
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET sample object: %d", resp.StatusCode)
	}
	resp, err = http.Get(info.AdminURL + "/counters")
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Requests map[string]int }
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if c.Requests["GetObject"] != 1 {
		t.Fatalf("counters: %+v", c)
	}
	stop <- os.Interrupt
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"OSS endpoint:", "STS endpoint:", "Demo RAM user:", "Role ARN:"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("start banner lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunRejects(t *testing.T) {
	for _, args := range [][]string{
		{"--oss-addr", "0.0.0.0:0"},
		{"--generate", "bucket:x:1"},
		{"--error-rate", "2"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut, make(chan os.Signal)); code == 0 {
			t.Errorf("%q accepted", args)
		}
	}
}
