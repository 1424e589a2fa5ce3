package main

import "testing"

func TestParseMetricsAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"9100", "127.0.0.1:9100"},
		{":9100", "127.0.0.1:9100"},
		{"0.0.0.0:9100", "0.0.0.0:9100"},
		{"[::1]:0", "[::1]:0"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseMetricsAddr(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("parseMetricsAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"host:", "host:http", ":70000", "a:b:c"} {
		if got, err := parseMetricsAddr(bad); err == nil {
			t.Errorf("parseMetricsAddr(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "100MiB/s": 100 << 20, "64M": 64 << 20, "1048576/s": 1 << 20} {
		if got, err := parseRate("max-bandwidth", in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"fast", "-1", "10MiB/m"} {
		if _, err := parseRate("max-bandwidth", bad); err == nil {
			t.Errorf("parseRate(%q) accepted", bad)
		}
	}
}
