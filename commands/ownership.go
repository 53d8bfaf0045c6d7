package commands

import (
	"context"

	"github.com/google/uuid"
)

// Who carries an operation forward. Work that must have one owner across replicas is done under a
// lease ([Leases]):
//   - the organization's watch lease: its holder polls Qovery for the whole fleet and watches every
//     accepted operation;
//   - an operation's lease: its holder makes the stop call, watches, and posts the thread messages;
//     in this process, the operation's carrier holds it (carrier.go).

// isLost reports whether a lease was lost or released.
func isLost(l *Lease) bool {
	select {
	case <-l.Lost():
		return true
	default:
		return false
	}
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
