package main

import (
	"testing"
	"time"

	ossfs "github.com/ossmount/ossmount/fs"
)

// Every value --metadata-ttl and --negative-ttl accept means what it says:
// 0 is "do not cache", never the default.
func TestParseTTL(t *testing.T) {
	cases := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"0", 0, false},
		{"0s", 0, false},
		{"30s", 30 * time.Second, false},
		{"1m0s", time.Minute, false},
		{"indefinite", ossfs.TTLIndefinite, false},
		{" Indefinite ", ossfs.TTLIndefinite, false},
		{"-1s", 0, true},
		{"forever", 0, true},
		{"10", 0, true},
		{"", 0, true},
	}
	for _, c := range cases {
		got, err := parseTTL("metadata-ttl", c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("parseTTL(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}
