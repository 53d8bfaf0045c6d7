package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// EnvelopeLog remembers which Slack envelopes were already handled, so that an envelope Slack
// delivers twice, possibly to another process after a restart, is acted on once.
type EnvelopeLog interface {
	// SeeEnvelope records id and reports whether it was seen for the first time.
	SeeEnvelope(ctx context.Context, id string) (bool, error)
}

// RunEnvelopes runs the subtests every [EnvelopeLog] must pass. open returns a new, empty log for
// the subtest it is given; it should remember at least 100 ids.
func RunEnvelopes(t *testing.T, open func(t *testing.T) EnvelopeLog) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, l EnvelopeLog)
	}{
		{"FirstSightOnly", testFirstSightOnly},
		{"ManyDistinct", testManyDistinct},
		{"Concurrent", testConcurrentSight},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

// see calls SeeEnvelope and checks its answer.
func see(t *testing.T, l EnvelopeLog, id string, want bool) {
	t.Helper()
	got, err := l.SeeEnvelope(t.Context(), id)
	if err != nil {
		t.Fatalf("SeeEnvelope(%q) = %v; want nil", id, err)
	}
	if got != want {
		t.Errorf("SeeEnvelope(%q) = %t; want %t", id, got, want)
	}
}

func testFirstSightOnly(t *testing.T, l EnvelopeLog) {
	see(t, l, "e-1", true)
	see(t, l, "e-1", false)
	see(t, l, "e-1", false)
	see(t, l, "e-2", true)
	see(t, l, "e-1", false)
}

func testManyDistinct(t *testing.T, l EnvelopeLog) {
	const n = 100
	for i := range n {
		see(t, l, fmt.Sprintf("envelope-%03d", i), true)
	}
	see(t, l, fmt.Sprintf("envelope-%03d", n-1), false)
	see(t, l, "envelope-000", false)
}

func testConcurrentSight(t *testing.T, l EnvelopeLog) {
	const n = 10
	start := make(chan struct{})
	type result struct {
		fresh bool
		err   error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			fresh, err := l.SeeEnvelope(t.Context(), "redelivered")
			results <- result{fresh, err}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	fresh := 0
	for r := range results {
		if r.err != nil {
			t.Errorf("SeeEnvelope = %v; want nil", r.err)
		}
		if r.fresh {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of %d concurrent SeeEnvelope calls for one id reported it new; want exactly 1", fresh, n)
	}
}
