package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// One owner per operation in each process. Every step of an operation that needs its lease (the
// call after a click, settling what a dead replica left, delivering its notices, its watch) runs in
// the operation's carrier: a goroutine that takes the lease, runs the steps given to it one after
// the other, and hands the lease back once it has none left. So the steps of one operation never
// overlap in a process, the lease is never shared, and a second replica is refused until the lease
// is handed back or expires.

// carrier carries one operation forward in this process. Its fields are guarded by Handler.mu.
type carrier struct {
	steps []step
	// kick has a token when steps are queued: a long step (the watch) takes it and runs them.
	kick chan struct{}
}

// step is one piece of an operation's work: run under its lease, or dropped (with the reason)
// when the lease could not be taken.
type step struct {
	run  func(l *Lease)
	drop func(err error)
}

// leaseWait bounds how long a click waits for an operation's lease that another replica holds (it
// is handling another click on the same request, which ends within seconds).
const leaseWait = 10 * time.Second

// leaseRetry is the pause between two attempts to take a lease another replica holds.
const leaseRetry = 25 * time.Millisecond

// releaseTimeout bounds handing a lease back; past it the lease simply expires.
const releaseTimeout = 2 * time.Second

// carry runs step in the carrier of operation id, started if this process has none, and returns
// once step has run. step gets the operation's lease, to fence every write it makes; it must end
// when its own context does, and must not carry a step of the same operation itself (it would wait
// for its own end). When another replica holds the lease, carry returns [ErrLeaseHeld], at once
// or, with wait, after up to leaseWait, and step does not run.
func (h *Handler) carry(id uuid.UUID, wait bool, run func(l *Lease)) error {
	res := make(chan error, 1)
	h.enqueue(id, wait, step{
		run:  func(l *Lease) { run(l); res <- nil },
		drop: func(err error) { res <- err },
	})
	return <-res
}

// enqueue gives s to the carrier of operation id, starting one if there is none, and returns at
// once.
func (h *Handler) enqueue(id uuid.UUID, wait bool, s step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.carriers[id]
	if c == nil {
		if len(h.carriers) == 0 {
			h.noCarriers = make(chan struct{}) // closed when the last carrier ends
		}
		c = &carrier{kick: make(chan struct{}, 1)}
		h.carriers[id] = c
		go h.runCarrier(id, c, wait)
	}
	c.steps = append(c.steps, s)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// runQueued runs, from a long step of c (the watch), the steps queued behind it, under its lease l.
func (h *Handler) runQueued(c *carrier, l *Lease) {
	for {
		h.mu.Lock()
		if len(c.steps) == 0 {
			h.mu.Unlock()
			return
		}
		s := c.steps[0]
		c.steps = c.steps[1:]
		h.mu.Unlock()
		s.run(l)
	}
}

// carrierOf returns the carrier of operation id, or nil.
func (h *Handler) carrierOf(id uuid.UUID) *carrier {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.carriers[id]
}

// runCarrier takes the lease of operation id and runs c's steps until none is left, then hands the
// lease back. Steps given while the lease is being handed back are run under the lease taken anew.
func (h *Handler) runCarrier(id uuid.UUID, c *carrier, wait bool) {
	for {
		l, err := h.takeLease(id, wait)
		if err != nil {
			h.mu.Lock()
			h.forget(id)
			dropped := c.steps
			c.steps = nil
			h.mu.Unlock()
			for _, s := range dropped {
				s.drop(err)
			}
			return
		}
		h.runQueued(c, l)
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		_ = l.Release(ctx) // on failure it expires instead
		cancel()
		h.mu.Lock()
		if len(c.steps) == 0 {
			h.forget(id)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock() // steps came while the lease was handed back: take it anew
	}
}

// forget removes the carrier of operation id, under Handler.mu, and says so when it was the last.
func (h *Handler) forget(id uuid.UUID) {
	delete(h.carriers, id)
	if len(h.carriers) == 0 && h.noCarriers != nil {
		close(h.noCarriers)
		h.noCarriers = nil
	}
}

// takeLease takes the lease of operation id; with wait, it tries again for up to leaseWait while
// another replica holds it.
func (h *Handler) takeLease(id uuid.UUID, wait bool) (*Lease, error) {
	ctx, cancel := context.WithTimeout(context.Background(), leaseWait+releaseTimeout)
	defer cancel()
	deadline := time.Now().Add(leaseWait)
	for {
		l, err := h.leases.Acquire(ctx, operationLeaseName(id))
		if !errors.Is(err, ErrLeaseHeld) || !wait || time.Now().After(deadline) {
			return l, err
		}
		t := time.NewTimer(leaseRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// carries reports whether this process carries operation id: it holds its lease, or is taking it.
func (h *Handler) carries(id uuid.UUID) bool { return h.carrierOf(id) != nil }

// carriersDone waits, up to limit, until no carrier is left: those whose steps are over are handing
// their leases back, which a shutdown must not cut short (another replica would wait for the
// leases to expire). Run calls it once the watches have ended; a step still running elsewhere (a
// click's, which the bot waits for) is not waited for past limit.
func (h *Handler) carriersDone(limit time.Duration) {
	h.mu.Lock()
	idle := h.noCarriers
	h.mu.Unlock()
	if idle == nil {
		return // no carrier
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}
