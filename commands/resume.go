package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Adopt takes over the operations nobody carries forward: at start-up, those of the previous run;
// later, those a replica left by shutting down (handed back) or dying (its lease expired). For
// each, under its lease, from what the store recorded:
//   - notices whose delivery was cut short are checked with the chat (posted, or sent again);
//   - a stop or start call recorded as "sending" is settled by reading the cluster's status, never
//     by sending it again;
//   - a confirmation whose call was never sent is voided (the person who confirmed may have gone;
//     a stop or start must not happen by surprise minutes later);
//   - pending notices are delivered.
//
// It returns the operations to watch, when this replica holds the organization's watch lease (then
// it watches every accepted operation of the organization, and polls Qovery for the whole fleet);
// [Handler.Run] watches each, which reports what happened meanwhile. Run calls it at start-up,
// then periodically and on [Leases.Released].
func (h *Handler) adopt(ctx context.Context) ([]Operation, error) {
	_, err := h.watchLease(ctx)
	watcher := err == nil
	if err != nil && !errors.Is(err, ErrLeaseHeld) {
		return nil, fmt.Errorf("take the organization's watch lease: %w", err)
	}
	// Ids first, and only the operations nobody holds are read: most of the time every unsettled
	// operation is being carried forward, here or by another replica.
	ids, err := h.store.Unsettled(ctx)
	if err != nil {
		return nil, fmt.Errorf("list unsettled operations: %w", err)
	}
	var candidates []uuid.UUID
	var names []string
	for _, id := range ids {
		if h.carries(id) || h.isWatching(id) {
			continue
		}
		candidates = append(candidates, id)
		names = append(names, operationLeaseName(id))
	}
	held, err := h.leases.Held(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("look up operation leases: %w", err)
	}
	var ops []Operation
	for _, id := range candidates {
		if held[operationLeaseName(id)] {
			continue // its owner is alive
		}
		op, err := h.store.Get(ctx, id)
		if err != nil || !h.needsOwner(op, watcher) {
			continue
		}
		ops = append(ops, op)
	}
	SortOldestFirst(ops) // the oldest first: fairer, and logs compare from one run to the next
	var watch []Operation
	for _, op := range ops {
		if w, ok := h.adoptOne(ctx, op.ID, watcher); ok {
			watch = append(watch, w)
		}
	}
	return watch, nil
}

// needsOwner reports whether an unsettled operation has work an owner must do: a confirmed
// call to settle, a watch (for the watching replica only), or notices to deliver (those Slack
// refused once wait for their RetryAt).
func (h *Handler) needsOwner(op Operation, watcher bool) bool {
	switch op.Phase {
	case PhaseConfirmed:
		return true
	case PhaseWatching:
		if watcher {
			return true
		}
	}
	now := h.now()
	for _, n := range op.Notices {
		if n.State == NoticeSending || (n.State == NoticePending && !now.Before(n.RetryAt)) {
			return true
		}
	}
	return false
}

// adoptOne settles one operation under its lease and reports whether this replica, the watcher or
// not, is to watch it.
func (h *Handler) adoptOne(ctx context.Context, id uuid.UUID, watcher bool) (Operation, bool) {
	var op Operation
	var watch bool
	err := h.carry(id, false, func(l *Lease) {
		// Read it again under the lease: its previous owner may have finished it meanwhile.
		var err error
		if op, err = h.store.Get(ctx, id); err != nil {
			return
		}
		h.settleDeliveries(ctx, l, op)
		if op.Phase == PhaseConfirmed {
			_ = h.settleCall(ctx, l, op) // accepted: it is being watched; not settled: tried again later
		}
		h.deliverHeld(ctx, l, id)
		watch = op.Phase == PhaseWatching && watcher // else the watching replica adopts it in turn
	})
	if err != nil || !watch {
		return Operation{}, false // taken by another replica meanwhile, or not to watch here
	}
	return op, true
}

// settleDeliveries asks the chat about notices left "sending" and records the answer; when it
// cannot tell, the notice is sent again (a repeated line is better than a lost one).
func (h *Handler) settleDeliveries(ctx context.Context, l *Lease, op Operation) {
	for _, n := range op.Notices {
		if n.State != NoticeSending {
			continue
		}
		posted, err := h.chat.Delivered(ctx, op, n)
		next := NoticePending
		if err == nil && posted {
			next = NoticePosted
		}
		_, _ = h.store.Update(ctx, op.ID, l, func(o *Operation) error {
			if o.Notices[n.Seq-1].State == NoticeSending {
				o.Notices[n.Seq-1].State = next
			}
			return nil
		})
	}
}

// settleCall decides what became of a confirmed operation whose run ended before the outcome of
// its stop call was recorded.
func (h *Handler) settleCall(ctx context.Context, l *Lease, op Operation) error {
	a := op.spec()
	if op.Call == CallNone {
		h.finish(ctx, l, op.ID, PhaseVoid, EventVoided, "", Say("The bot stopped handling this request (a restart, or another replica took its work over) before it called Qovery, so nothing was "+a.past+". Run the command again if the "+a.noun+" is still needed."))
		return nil
	}
	st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID)
	if err != nil {
		// Leave it confirmed: the next look tries again, and the call is never sent blindly.
		return qoveryError("check whether Qovery received the "+a.noun, err)
	}
	switch {
	case a.instant && st.ClusterLock == nil:
		h.done(ctx, l, op.ID, 0) // Qovery did it before the bot went down
		return nil
	case !a.instant && (a.inPhase(st.Status) && st.Status != a.success && !failed(st.Status) || st.Status == a.success):
		// Qovery took the call, and maybe finished it while the bot was down.
		return h.accept(ctx, l, op.ID, st.Status, 0)
	default:
		h.markRetryable(ctx, l, op.ID)
		h.finish(ctx, l, op.ID, PhaseRejected, EventRejected, st.Status, Say(
			"The bot restarted while sending the "+a.noun+", and Qovery shows ", Strong(op.ClusterName), " as ", stateName(st.Status),
			": the "+a.noun+" was not taken. Run the command again if it is still needed."))
		return nil
	}
}
