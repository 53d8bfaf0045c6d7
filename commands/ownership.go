package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Who carries an operation forward. Work that must have one owner across replicas is done under a
// lease ([Leases]):
//   - the organization's watch lease: its holder polls Qovery for the whole fleet and watches every
//     accepted operation;
//   - an operation's lease: its holder makes the stop call, watches, and posts the thread messages.
//
// Goroutines of one process working on the same operation share its lease (counted below), so that
// the click that confirmed a stop and the delivery of the notice it recorded do not refuse each
// other; a second replica is refused until the lease is released or expires.

// holding is an operation lease this process holds, or is taking, and how many goroutines use it.
type holding struct {
	// ready is closed once the lease is taken, or failed to be (err); lease and err are set
	// before, and read only after.
	ready chan struct{}
	lease *Lease
	err   error
	users int // guarded by Handler.mu
	// released is set, under Handler.mu, when the last user starts handing the lease back, and
	// closed once it is: a goroutine wanting the lease meanwhile waits, then takes it anew (the
	// lease is not free before that, and taking it would fail as if another replica held it).
	released chan struct{}
}

// leaseWait bounds how long a click waits for an operation's lease that another replica holds (it
// is handling another click on the same request, which ends within seconds).
const leaseWait = 10 * time.Second

// leaseRetry is the pause between two attempts to take a lease another replica holds.
const leaseRetry = 25 * time.Millisecond

// releaseTimeout bounds handing a lease back; past it the lease simply expires.
const releaseTimeout = 2 * time.Second

// holdOp returns the operation's lease, taking it unless this process holds it already; the caller
// hands it to every store write it makes for the operation, which the store fences with it. It
// returns [ErrLeaseHeld] when another replica holds it. release must be called once the work is
// done; it reports whether the lease was handed back (the last user in this process released it).
// Taking a lease is a database round trip: it is made outside the handler's lock, and goroutines
// wanting the same lease share it.
func (h *Handler) holdOp(ctx context.Context, id uuid.UUID) (_ *Lease, release func() bool, _ error) {
	h.mu.Lock()
	for {
		hd := h.held[id]
		if hd == nil {
			// Take it, counted as its first user from now, so that it cannot be handed back
			// under the goroutines that wait for it.
			hd = &holding{ready: make(chan struct{}), users: 1}
			h.held[id] = hd
			h.mu.Unlock()
			hd.lease, hd.err = h.leases.Acquire(ctx, operationLeaseName(id))
			close(hd.ready)
			if hd.err != nil {
				h.mu.Lock()
				hd.users--
				if h.held[id] == hd {
					delete(h.held, id)
				}
				h.mu.Unlock()
				return nil, nil, hd.err
			}
			return hd.lease, h.releaser(ctx, id, hd), nil
		}
		select {
		case <-hd.ready:
		default: // being taken by another goroutine: wait for it, then look again
			h.mu.Unlock()
			<-hd.ready
			h.mu.Lock()
			continue
		}
		if hd.released != nil { // being handed back: wait for it, then take it anew
			released := hd.released
			h.mu.Unlock()
			<-released
			h.mu.Lock()
			continue
		}
		if hd.err != nil || isLost(hd.lease) {
			if h.held[id] == hd && hd.users == 0 {
				delete(h.held, id)
			}
			if hd.err != nil {
				h.mu.Unlock()
				return nil, nil, hd.err // another replica holds it: so the taker was told
			}
			delete(h.held, id) // lost: take it again if it is free
			continue
		}
		hd.users++
		h.mu.Unlock()
		return hd.lease, h.releaser(ctx, id, hd), nil
	}
}

// releaser returns the release function of one user of hd: the last one hands the lease back.
func (h *Handler) releaser(ctx context.Context, id uuid.UUID, hd *holding) func() bool {
	var done bool
	return func() bool {
		h.mu.Lock()
		if done {
			h.mu.Unlock()
			return false
		}
		done = true
		hd.users--
		if hd.users > 0 {
			h.mu.Unlock()
			return false
		}
		hd.released = make(chan struct{})
		h.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		_ = hd.lease.Release(rctx) // on failure it expires instead
		h.mu.Lock()
		if h.held[id] == hd {
			delete(h.held, id)
		}
		close(hd.released)
		h.mu.Unlock()
		return true
	}
}

// isLost reports whether a lease was lost or released.
func isLost(l *Lease) bool {
	select {
	case <-l.Lost():
		return true
	default:
		return false
	}
}

// holdOpWait is holdOp that waits up to leaseWait while another replica holds the lease.
func (h *Handler) holdOpWait(ctx context.Context, id uuid.UUID) (*Lease, func() bool, error) {
	deadline := time.Now().Add(leaseWait)
	for {
		l, release, err := h.holdOp(ctx, id)
		if !errors.Is(err, ErrLeaseHeld) || time.Now().After(deadline) {
			return l, release, err
		}
		t := time.NewTimer(leaseRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
	}
}

// holdsOp reports whether this process holds the operation's lease.
func (h *Handler) holdsOp(id uuid.UUID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.held[id]
	return ok
}

// watchLease returns the organization's watch lease, taking it when nobody holds it. It returns
// [ErrLeaseHeld] when another replica watches the organization.
func (h *Handler) watchLease(ctx context.Context) (*Lease, error) {
	held := func() *Lease {
		if h.orgWatch != nil && isLost(h.orgWatch) {
			h.orgWatch = nil
		}
		return h.orgWatch
	}
	h.mu.Lock()
	l := held()
	h.mu.Unlock()
	if l != nil {
		return l, nil
	}
	// Outside the lock: taking it is a database round trip.
	l, err := h.leases.Acquire(ctx, watchLeaseName(h.cfg.OrganizationID))
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if mine := held(); mine != nil {
			return mine, nil // another goroutine of this process took it meanwhile
		}
		return nil, err
	}
	h.orgWatch = l
	return l, nil
}

// watchesOrganization reports whether this replica holds the organization's watch lease: it polls
// Qovery and watches the accepted operations for the whole fleet.
func (h *Handler) watchesOrganization() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.orgWatch != nil && !isLost(h.orgWatch)
}

// handback releases the organization's watch lease, when this replica holds it, so that another
// replica takes over the watches at once rather than after the lease expires. Run calls it when it
// ends; the watches themselves hand their operations back as they end.
func (h *Handler) handback(ctx context.Context) {
	h.mu.Lock()
	l := h.orgWatch
	h.orgWatch = nil
	h.mu.Unlock()
	if l != nil {
		_ = l.Release(ctx)
	}
}

// startWatching records that this process watches an operation, and reports false when it already
// does (adoption and the click that got the stop accepted may both ask).
func (h *Handler) startWatching(id uuid.UUID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watching[id] {
		return false
	}
	h.watching[id] = true
	return true
}

func (h *Handler) stopWatching(id uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watching, id)
}

func (h *Handler) isWatching(id uuid.UUID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.watching[id]
}

// untilLost returns a context that ends with ctx or when one of the leases is lost. It starts no
// goroutine: a watch costs one, and there may be a thousand.
func untilLost(ctx context.Context, leases ...*Lease) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stops := make([]func() bool, len(leases))
	for i, l := range leases {
		stops[i] = context.AfterFunc(l.lost, cancel)
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
