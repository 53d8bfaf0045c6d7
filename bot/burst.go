package bot

import (
	"context"
	"sync"
	"time"
)

// burstGate holds envelope work back while envelopes are still arriving, so that the acks come
// first. On a burst (hundreds of clicks in a few tens of milliseconds), every queued envelope's ack
// waits for slack-go to read and decode the envelopes ahead of it on the one socket. That decoding
// needs the CPU, and so does the work behind the envelopes already acked (store writes, Web API
// calls, JSON): on a small machine, work started in the middle of a burst delays the acks of the
// rest of it. Slack drops an ack after 3 s; the work has no such deadline, so it waits.
//
// The gate opens once no envelope has arrived for quiet. A single timer per gate tracks that, so a
// held envelope costs one parked goroutine and no polling. No envelope's work waits more than most
// after its arrival, so a steady stream of envelopes delays work by at most that.
type burstGate struct {
	quiet, most time.Duration

	mu    sync.Mutex
	last  time.Time     // when the latest envelope arrived
	open  chan struct{} // closed once quiet has passed since last
	timer *time.Timer
}

// newBurstGate returns an open gate; quiet <= 0 never closes it.
func newBurstGate(quiet, most time.Duration) *burstGate {
	open := make(chan struct{})
	close(open)
	return &burstGate{quiet: quiet, most: most, open: open}
}

// arrived records an envelope that arrived at t. Only the event loop calls it.
func (g *burstGate) arrived(t time.Time) {
	if g.quiet <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.last = t
	if isClosed(g.open) {
		g.open = make(chan struct{})
	}
	if g.timer == nil {
		g.timer = time.AfterFunc(g.quiet, g.check)
		return
	}
	g.timer.Reset(g.quiet)
}

// check opens the gate if the socket has been quiet long enough, or waits for the rest.
func (g *burstGate) check() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if isClosed(g.open) {
		return
	}
	if left := g.quiet - time.Since(g.last); left > 0 {
		g.timer.Reset(left)
		return
	}
	close(g.open)
}

// wait returns once the gate is open, once the work of an envelope that arrived at arrived has
// waited most, or with ctx's error.
func (g *burstGate) wait(ctx context.Context, arrived time.Time) error {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	if isClosed(open) {
		return nil
	}
	left := g.most - time.Since(arrived)
	if left <= 0 {
		return nil
	}
	t := time.NewTimer(left)
	defer t.Stop()
	select {
	case <-open:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
