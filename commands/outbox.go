package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// maxDeliveryAttempts bounds how often a notice Slack keeps refusing is tried before it is given up
// (it stays in the operation, marked abandoned, for the record). With retryBackoff, that is about
// twenty minutes of refusals.
const maxDeliveryAttempts = 10

// retryBackoff is how long a notice that failed its attempt-th delivery waits before Adopt tries it
// again (a new change to the operation tries it at once): 5 s, doubling, at most 5 min. It is the
// Qovery client's back-off without the jitter, which a stored RetryAt does not need.
func retryBackoff(attempt int) time.Duration {
	return qovery.Backoff(attempt, 5*time.Second, 5*time.Minute)
}

// notifyTimeout bounds one notice's delivery, inside the shutdown grace period.
const notifyTimeout = 5 * time.Second

// change applies fn to an operation and records the event fn returns, if any, in the operation's
// outbox within the same atomic update; then it delivers the outbox. Recording the event with the
// change that causes it means a crash between the two cannot lose the message, and delivering
// after the write means no message announces a change that was not recorded.
//
// l is the operation's lease when the caller is a step of the operation's carrier (a watch, a
// confirmation), or nil. Under it, the write is fenced, and it also claims the notice for delivery,
// which the carrier then sends at once: one write fewer per notice. Without it, the notice is handed
// to the operation's carrier in this process, or left to the replica whose carrier holds the lease.
// Either way one carrier, holding the lease, delivers an operation's notices.
func (h *Handler) change(ctx context.Context, l *Lease, id uuid.UUID, fn func(op *Operation) (*Event, error)) (Operation, error) {
	var claimed int
	op, err := h.store.Update(ctx, id, l, func(op *Operation) error {
		claimed = 0
		ev, err := fn(op)
		if err != nil {
			return err
		}
		if ev != nil {
			op.Notices = append(op.Notices, Notice{Seq: len(op.Notices) + 1, Event: *ev, State: NoticePending})
			if l != nil {
				claimed = claimNext(op)
			}
		}
		return nil
	})
	if err != nil {
		return op, err
	}
	if claimed != 0 {
		h.deliverFrom(ctx, l, op, claimed)
		return op, nil
	}
	if l == nil {
		h.deliver(ctx, op.ID)
	}
	return op, nil
}

// claimNext marks the first pending notice of op as being sent and returns its sequence number, or
// 0 when there is none, when one is already being sent (nothing overtakes a notice in flight), or
// when the operation is still waiting for its confirmation message (attach delivers then). A
// finished operation whose message was never posted is claimed all the same: its notices are
// audited, with nothing to show in Slack, so that they do not wait for ever.
func claimNext(op *Operation) int {
	if op.MessageTS == "" && op.Phase.IsActive() {
		return 0
	}
	for i := range op.Notices {
		switch op.Notices[i].State {
		case NoticePending:
			op.Notices[i].State = NoticeSending
			return op.Notices[i].Seq
		case NoticeSending:
			return 0
		}
	}
	return 0
}

var errNothingToDeliver = errors.New("no notice to deliver")

// deliver sends an operation's pending notices to the chat, in order, each once, from the
// operation's carrier: when another replica holds its lease, that replica delivers them. It must not
// be called from a step of the same operation (use deliverHeld there). Within the lease, a
// notice is claimed (pending → sending) in the store before it is sent and marked posted after, so
// that two goroutines never send the same notice. A notice left "sending" by a crash is settled by
// the next adoption ([Handler.Run]).
func (h *Handler) deliver(ctx context.Context, id uuid.UUID) {
	_, lone := h.leases.(*LocalLeases)
	for round := 0; ; round++ {
		err := h.carry(id, false, func(l *Lease) { h.deliverHeld(ctx, l, id) })
		if err != nil || lone || round > 0 {
			return // another replica carries the operation and delivers, or its lease is out of reach
		}
		// While this process held the lease, another replica may have recorded a notice and found
		// the lease taken: look once more now that it is free. (Adopt catches what a race leaves.)
		if !h.undelivered(ctx, id) {
			return
		}
	}
}

// undelivered reports whether an operation has notices waiting to be sent.
func (h *Handler) undelivered(ctx context.Context, id uuid.UUID) bool {
	op, err := h.store.Get(ctx, id)
	return err == nil && (op.MessageTS != "" || !op.Phase.IsActive()) && hasPending(op)
}

// hasPending reports whether op has a notice waiting to be sent.
func hasPending(op Operation) bool {
	for _, n := range op.Notices {
		if n.State == NoticePending {
			return true
		}
	}
	return false
}

// deliverHeld is deliver once the operation's lease l is held.
func (h *Handler) deliverHeld(ctx context.Context, l *Lease, id uuid.UUID) {
	var seq int
	op, err := h.store.Update(ctx, id, l, func(op *Operation) error {
		if seq = claimNext(op); seq == 0 {
			return errNothingToDeliver
		}
		return nil
	})
	if err == nil {
		h.deliverFrom(ctx, l, op, seq)
	}
}

// deliverFrom sends notice seq of op, which is claimed under l, then the pending notices after it,
// in order.
func (h *Handler) deliverFrom(ctx context.Context, l *Lease, op Operation, seq int) {
	for seq != 0 {
		op, seq = h.send(ctx, l, op, seq)
	}
}

// send delivers notice seq of op and records the outcome; when it went out, the same write claims
// the next pending notice, whose sequence number it returns (0 for none, or after a failure).
func (h *Handler) send(ctx context.Context, l *Lease, op Operation, seq int) (Operation, int) {
	// A notice under way is finished even when ctx ends (shutdown): half a notice (the thread reply
	// without the parent's edit) would leave the parent stale, since the notice counts as posted.
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	n := op.Notices[seq-1]
	if n.Attempts == 0 {
		h.audit.Event(op, n.Event) // once, whether or not the chat takes it
	}
	err := h.chat.Notify(nctx, op, n)
	next := NoticePosted
	if err != nil {
		next = NoticePending // tried again with the next change, or by Adopt after its back-off
	}
	var claimed int
	op, uerr := h.store.Update(context.WithoutCancel(ctx), op.ID, l, func(o *Operation) error {
		claimed = 0
		n := &o.Notices[seq-1]
		n.Attempts++
		n.State = next
		if err == nil && op.MessageTS == "" && o.MessageTS != "" {
			// Shown with no message, whose post came back meanwhile: show it there too.
			n.State = NoticePending
		}
		if err != nil {
			n.RetryAt = h.now().Add(retryBackoff(n.Attempts))
			if n.Attempts >= maxDeliveryAttempts {
				n.State = NoticeAbandoned
			}
			return nil
		}
		claimed = claimNext(o)
		return nil
	})
	if uerr != nil {
		return op, 0
	}
	return op, claimed
}
