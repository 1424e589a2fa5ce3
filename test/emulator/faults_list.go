package emulator

import "sync/atomic"

// ListFault makes ListObjectsV2 answers misbehave as a broken gateway or a
// hostile endpoint might, so that clients can show their listings end.
type ListFault int32

const (
	ListFaultNone ListFault = iota
	// ListFaultRepeatToken: a truncated page asked for with a continuation
	// token answers that same token as NextContinuationToken.
	ListFaultRepeatToken
	// ListFaultBackwards: a page asked for with a continuation token lists
	// from the start again, so it moves backwards.
	ListFaultBackwards
)

// listFault holds the active ListFault.
type listFault struct{ v atomic.Int32 }

// SetListFault switches a ListFault on (ListFaultNone switches it off); it
// takes effect for the next request.
func (s *Server) SetListFault(f ListFault) { s.listFaults.v.Store(int32(f)) }

// bentMarker is where a page starts under the active ListFault.
func (s *Server) bentMarker(marker string, continued bool) string {
	if continued && ListFault(s.listFaults.v.Load()) == ListFaultBackwards {
		return ""
	}
	return marker
}

// bendToken rewrites a V2 answer's NextContinuationToken under the active
// ListFault.
func (s *Server) bendToken(res *listBucketResult) {
	if ListFault(s.listFaults.v.Load()) == ListFaultRepeatToken && res.IsTruncated && res.ContinuationToken != "" {
		res.NextContinuationToken = res.ContinuationToken
	}
}
