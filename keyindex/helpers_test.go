package keyindex

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
)

const testBucket = "test-bucket"

type staticCreds creds.Credentials

func (p staticCreds) Retrieve(context.Context) (creds.Credentials, error) {
	return creds.Credentials(p), nil
}

// startOSS starts an emulator with one bucket and returns it with a client.
func startOSS(t testing.TB) (*emulator.Server, *oss.Client) {
	t.Helper()
	s, err := emulator.Start(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.CreateBucket(testBucket, false)
	c, err := oss.New(oss.Config{Endpoint: s.OSSURL(), Region: s.Region(), Bucket: testBucket,
		MaxAttempts: 4, RetryBaseDelay: time.Millisecond, RetryMaxDelay: 5 * time.Millisecond},
		staticCreds{AccessKeyID: emulator.DemoAccessKeyID, AccessKeySecret: creds.NewSecret(emulator.DemoAccessKeySecret)})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// countingLister counts LIST calls and the most in flight at once.
type countingLister struct {
	Lister
	calls, inFlight, maxInFlight atomic.Int64
	mu                           sync.Mutex
	starts                       map[string]bool // StartAfter of requests without a token: spans begun
}

func (c *countingLister) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	c.calls.Add(1)
	if in.ContinuationToken == "" && in.Delimiter == "" {
		c.mu.Lock()
		if c.starts == nil {
			c.starts = map[string]bool{}
		}
		c.starts[in.StartAfter] = true
		c.mu.Unlock()
	}
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	c.mu.Lock()
	if n > c.maxInFlight.Load() {
		c.maxInFlight.Store(n)
	}
	c.mu.Unlock()
	return c.Lister.List(ctx, in)
}

// listEverything pages through in and returns every page.
func listEverything(t *testing.T, l Lister, in oss.ListInput) []oss.ListPage {
	t.Helper()
	var pages []oss.ListPage
	for range 100_000 {
		p, err := l.List(context.Background(), in)
		if err != nil {
			t.Fatalf("list %+v: %v", in, err)
		}
		pages = append(pages, p)
		if !p.IsTruncated {
			return pages
		}
		in.ContinuationToken = p.NextContinuationToken
	}
	t.Fatalf("list %+v did not end", in)
	return nil
}

// buildFrom builds an index of root from c.
func buildFrom(t testing.TB, l Lister, root string, parallel int) *Index {
	t.Helper()
	x, err := Build(context.Background(), l, root, BuildConfig{Parallel: parallel})
	if err != nil {
		t.Fatal(err)
	}
	return x
}
