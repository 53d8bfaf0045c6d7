package commands

import (
	"context"
	"fmt"
)

// Resume picks up where a previous run of the bot stopped, from what the store recorded:
//   - notices whose delivery a crash cut short are checked with the Notifier (posted, or sent again);
//   - a stop call recorded as "sending" is settled by reading the cluster's status, never by
//     sending it again;
//   - a confirmation whose stop call was never sent is voided (the person who confirmed may have
//     gone; a stop must not happen by surprise minutes later);
//   - overdue confirmations expire.
//
// It returns the operations to watch again; the caller runs [Handler.Watch] for each, which reports
// what happened while the bot was down.
func (h *Handler) Resume(ctx context.Context) ([]Operation, error) {
	ops, err := h.store.Unsettled(ctx)
	if err != nil {
		return nil, fmt.Errorf("list unsettled operations: %w", err)
	}
	var watch []Operation
	for _, op := range ops {
		h.settleDeliveries(ctx, op)
		switch op.Phase {
		case PhaseConfirmed:
			if r, _ := h.settleCall(ctx, op); r.Watch != nil {
				watch = append(watch, *r.Watch)
			}
		case PhaseWatching:
			watch = append(watch, op)
		}
		h.deliver(ctx, op.ID)
	}
	if _, err := h.ExpireDue(ctx); err != nil {
		return watch, err
	}
	return watch, nil
}

// settleDeliveries asks the Notifier about notices left "sending" and records the answer; when it
// cannot tell, the notice is sent again (a repeated line is better than a lost one).
func (h *Handler) settleDeliveries(ctx context.Context, op Operation) {
	for _, n := range op.Notices {
		if n.State != NoticeSending {
			continue
		}
		posted, err := h.n.Delivered(ctx, op, n)
		next := NoticePending
		if err == nil && posted {
			next = NoticePosted
		}
		_, _ = h.store.Update(ctx, op.ID, func(o *Operation) error {
			if o.Notices[n.Seq-1].State == NoticeSending {
				o.Notices[n.Seq-1].State = next
			}
			return nil
		})
	}
}

// settleCall decides what became of a confirmed operation whose run ended before the outcome of
// its stop call was recorded.
func (h *Handler) settleCall(ctx context.Context, op Operation) (Reply, error) {
	a := op.action()
	if op.Call == CallNone {
		h.finish(ctx, op.ID, PhaseVoid, EventVoided, "", fmt.Sprintf("The bot restarted before it called Qovery, so nothing was %s. Run the command again if the %s is still needed.", a.past, a.noun))
		return Reply{}, nil
	}
	st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID)
	if err != nil {
		// Leave it confirmed: the next start tries again, and the call is never sent blindly.
		return Reply{}, qoveryError("check whether Qovery received the "+a.noun, err)
	}
	switch {
	case a.inPhase(st.Status) && st.Status != a.success && !failed(st.Status):
		return h.accept(ctx, op.ID, st.Status, 0)
	case st.Status == a.success:
		// Qovery took the call and finished it while the bot was down.
		if _, err := h.accept(ctx, op.ID, st.Status, 0); err != nil {
			return Reply{}, err
		}
		op, _ := h.store.Get(ctx, op.ID)
		return Reply{Watch: &op}, nil
	default:
		h.markRetryable(ctx, op.ID)
		h.finish(ctx, op.ID, PhaseRejected, EventRejected, st.Status, fmt.Sprintf(
			"The bot restarted while sending the %s, and Qovery shows *%s* as %s: the %s was not taken. Run the command again if it is still needed.",
			a.noun, Escape(op.ClusterName), stateName(st.Status), a.noun))
		return Reply{}, nil
	}
}
