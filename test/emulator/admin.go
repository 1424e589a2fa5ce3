package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// adminPrefix is the admin endpoint's path on the OSS listener. "_" is not
// allowed in bucket names, so no path-style request can mean a bucket here.
const adminPrefix = "/_emulator"

// faultsJSON is Faults on the wire, durations as Go duration strings
// ("250ms").
type faultsJSON struct {
	Latency            string  `json:"latency"`
	BandwidthPerConn   int64   `json:"bandwidth_per_conn"`
	ErrorRate          float64 `json:"error_rate"`
	ThrottleRate       float64 `json:"throttle_rate"`
	ResetRate          float64 `json:"reset_rate"`
	WrongContentLength bool    `json:"wrong_content_length"`
	TruncatedXML       bool    `json:"truncated_xml"`
	STSOutage          bool    `json:"sts_outage"`
	STSThrottle        bool    `json:"sts_throttle"`
	Hang               bool    `json:"hang"`
	StallBodies        int     `json:"stall_bodies"`
	StallAfter         int64   `json:"stall_after"`
	TrickleInterval    string  `json:"trickle_interval"`
	StallOps           string  `json:"stall_ops"`
}

func toFaultsJSON(f Faults) faultsJSON {
	return faultsJSON{Latency: f.Latency.String(), BandwidthPerConn: f.BandwidthPerConn,
		ErrorRate: f.ErrorRate, ThrottleRate: f.ThrottleRate, ResetRate: f.ResetRate,
		WrongContentLength: f.WrongContentLength, TruncatedXML: f.TruncatedXML,
		STSOutage: f.STSOutage, STSThrottle: f.STSThrottle, Hang: f.Hang,
		StallBodies: f.StallBodies, StallAfter: f.StallAfter, TrickleInterval: f.TrickleInterval.String(),
		StallOps: f.StallOps}
}

func (j faultsJSON) faults() (Faults, error) {
	d, err := parseDuration("latency", j.Latency)
	if err != nil {
		return Faults{}, err
	}
	trickle, err := parseDuration("trickle_interval", j.TrickleInterval)
	if err != nil {
		return Faults{}, err
	}
	return Faults{StallBodies: j.StallBodies, StallAfter: j.StallAfter, TrickleInterval: trickle,
		StallOps: j.StallOps, Latency: d, BandwidthPerConn: j.BandwidthPerConn, ErrorRate: j.ErrorRate,
		ThrottleRate: j.ThrottleRate, ResetRate: j.ResetRate, WrongContentLength: j.WrongContentLength,
		TruncatedXML: j.TruncatedXML, STSOutage: j.STSOutage, STSThrottle: j.STSThrottle, Hang: j.Hang}, nil
}

// parseDuration reads an optional Go duration string; "" is zero.
func parseDuration(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// serveAdmin answers the admin endpoint (not counted, never faulted):
//
//	GET  /_emulator/faults          current faults as JSON
//	POST /_emulator/faults          replace the faults (JSON body; absent fields are zero)
//	GET  /_emulator/counters        counters as JSON
//	POST /_emulator/counters/reset  zero the counters
//	POST /_emulator/revoke          revoke every issued STS token
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	switch r.Method + " " + r.URL.Path {
	case "GET " + adminPrefix + "/faults":
		reply(toFaultsJSON(s.Faults()))
	case "POST " + adminPrefix + "/faults", "PUT " + adminPrefix + "/faults":
		var j faultsJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			http.Error(w, "bad faults JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		f, err := j.faults()
		if err != nil {
			http.Error(w, "bad faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetFaults(f)
		reply(toFaultsJSON(f))
	case "GET " + adminPrefix + "/counters":
		reply(s.Counters())
	case "POST " + adminPrefix + "/counters/reset":
		s.ResetCounters()
		reply(s.Counters())
	case "POST " + adminPrefix + "/revoke":
		s.RevokeTokens()
		reply(map[string]bool{"revoked": true})
	default:
		http.Error(w, "unknown admin path; see the emulator's doc.go", http.StatusNotFound)
	}
}
