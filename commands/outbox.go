package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// maxDeliveryAttempts bounds how often a notice Slack keeps refusing is tried before it is given up
// (it stays in the operation, marked abandoned, for the record). With retryBackoff, that is about
// twenty minutes of refusals.
const maxDeliveryAttempts = 10

// retryBackoff is how long a notice that failed its attempt-th delivery waits before Adopt tries it
// again (a new change to the operation tries it at once): 5 s, doubling, at most 5 min.
func retryBackoff(attempt int) time.Duration {
	return min(5*time.Second<<min(attempt-1, 10), 5*time.Minute)
}

// notifyTimeout bounds one notice's delivery, inside the shutdown grace period.
const notifyTimeout = 5 * time.Second

// change applies fn to an operation and records the event fn returns, if any, in the operation's
// outbox within the same atomic update; then it delivers the outbox. Recording the event with the
// change that causes it means a crash between the two cannot lose the message, and delivering
// after the write means no message announces a change that was not recorded.
func (h *Handler) change(ctx context.Context, id uuid.UUID, fn func(op *Operation) (*Event, error)) (Operation, error) {
	op, err := h.store.Update(ctx, id, func(op *Operation) error {
		ev, err := fn(op)
		if err != nil {
			return err
		}
		if ev != nil {
			op.Notices = append(op.Notices, Notice{Seq: len(op.Notices) + 1, Event: *ev, State: NoticePending})
		}
		return nil
	})
	if err != nil {
		return op, err
	}
	h.deliver(ctx, op.ID)
	return op, nil
}

var (
	errNothingToDeliver = errors.New("no notice to deliver")
	errDeliveryBusy     = errors.New("another delivery is under way")
)

// deliver sends an operation's pending notices to the Notifier, in order, each once, under the
// operation's lease: when another replica holds it, that replica delivers them. Within the lease, a
// notice is claimed (pending → sending) in the store before it is sent and marked posted after, so
// that two goroutines never send the same notice. A notice left "sending" by a crash is settled by
// [Handler.Adopt].
func (h *Handler) deliver(ctx context.Context, id uuid.UUID) {
	_, lone := h.leases.(*LocalLeases)
	for round := 0; ; round++ {
		lctx, _, release, err := h.holdOp(ctx, id)
		if err != nil {
			return // another replica carries the operation and delivers
		}
		h.deliverHeld(lctx, id)
		if !release() || lone || round > 0 {
			return
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
	if err != nil || op.MessageTS == "" {
		return false
	}
	for _, n := range op.Notices {
		if n.State == NoticePending {
			return true
		}
	}
	return false
}

// deliverHeld is deliver once the operation's lease is held.
func (h *Handler) deliverHeld(ctx context.Context, id uuid.UUID) {
	for {
		var seq int
		op, err := h.store.Update(ctx, id, func(op *Operation) error {
			if op.MessageTS == "" {
				return errNothingToDeliver // nowhere to show it yet; Attach delivers
			}
			for i := range op.Notices {
				switch op.Notices[i].State {
				case NoticePending:
					op.Notices[i].State = NoticeSending
					seq = op.Notices[i].Seq
					return nil
				case NoticeSending:
					return errDeliveryBusy // keeps the order: nothing overtakes a notice in flight
				}
			}
			return errNothingToDeliver
		})
		if err != nil {
			return
		}
		if !h.send(ctx, op, seq) {
			return
		}
	}
}

// send delivers notice seq of op and records the outcome. It reports whether delivery may go on
// with the next notice.
func (h *Handler) send(ctx context.Context, op Operation, seq int) bool {
	// A notice under way is finished even when ctx ends (shutdown): half a notice (the thread reply
	// without the parent's edit) would leave the parent stale, since the notice counts as posted.
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	err := h.n.Notify(nctx, op, op.Notices[seq-1])
	next := NoticePosted
	if err != nil {
		next = NoticePending // tried again with the next change, or at the next start
	}
	_, uerr := h.store.Update(context.WithoutCancel(ctx), op.ID, func(o *Operation) error {
		n := &o.Notices[seq-1]
		n.Attempts++
		n.State = next
		if err != nil {
			n.RetryAt = h.now().Add(retryBackoff(n.Attempts))
		}
		if err != nil && n.Attempts >= maxDeliveryAttempts {
			n.State = NoticeAbandoned
		}
		return nil
	})
	return err == nil && uerr == nil
}
