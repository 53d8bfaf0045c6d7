package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBurstGateOpenWithoutEnvelopes(t *testing.T) {
	g := newBurstGate(time.Hour, time.Hour)
	if err := g.wait(t.Context(), time.Now()); err != nil {
		t.Fatalf("wait on a gate no envelope arrived at = %v; want nil", err)
	}
}

func TestBurstGateOff(t *testing.T) {
	g := newBurstGate(-1, time.Hour)
	g.arrived(time.Now())
	if err := g.wait(t.Context(), time.Now()); err != nil {
		t.Fatalf("wait with the hold off = %v; want nil", err)
	}
}

// TestBurstGateHoldsWhileEnvelopesArrive checks that work waits until no envelope has arrived for
// the quiet time, however long the burst lasts (within the hold's bound).
func TestBurstGateHoldsWhileEnvelopesArrive(t *testing.T) {
	const quiet, burst = 30 * time.Millisecond, 150 * time.Millisecond
	g := newBurstGate(quiet, time.Hour)
	start := time.Now()
	g.arrived(start)
	done := make(chan time.Time)
	go func() {
		if err := g.wait(t.Context(), start); err != nil {
			t.Errorf("wait = %v; want nil", err)
		}
		done <- time.Now()
	}()
	// Envelopes keep arriving, closer together than quiet, for burst.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var last time.Time
	for now := range tick.C {
		select {
		case at := <-done:
			t.Fatalf("work released %v into the burst, before the envelopes stopped", at.Sub(start))
		default:
		}
		if now.Sub(start) >= burst {
			break
		}
		last = time.Now()
		g.arrived(last)
	}
	select {
	case at := <-done:
		if got := at.Sub(last); got < quiet {
			t.Errorf("work released %v after the last envelope; want >= %v", got, quiet)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("work still held 10 s after the last envelope")
	}
}

// TestBurstGateBoundsTheHold checks that a steady stream of envelopes delays work by at most the
// hold's bound.
func TestBurstGateBoundsTheHold(t *testing.T) {
	const most = 50 * time.Millisecond
	g := newBurstGate(time.Hour, most)
	arrived := time.Now()
	g.arrived(arrived)
	if err := g.wait(t.Context(), arrived); err != nil {
		t.Fatalf("wait = %v; want nil", err)
	}
	if got := time.Since(arrived); got < most {
		t.Errorf("work released after %v; want >= %v", got, most)
	}
	// Work whose envelope arrived longer ago than the bound goes at once.
	if err := g.wait(t.Context(), time.Now().Add(-most)); err != nil {
		t.Fatalf("wait = %v; want nil", err)
	}
}

func TestBurstGateWaitCancelled(t *testing.T) {
	g := newBurstGate(time.Hour, time.Hour)
	g.arrived(time.Now())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := g.wait(ctx, time.Now()); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v; want %v", err, context.Canceled)
	}
}
