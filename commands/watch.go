package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// watchOp follows the cluster of an accepted operation and notifies each state change until it ends:
// the verb's goal (STOPPED, DEPLOYED), a failure state, the cluster unchanged past StaleGrace, or
// WatchTimeout. Statuses come from Config.Statuses (one poll per organization for every watch), or
// from a poll of this cluster every PollInterval when that is nil. It returns when the operation is final or ctx is done; on ctx
// done, a durable operation is left for the next adoption, and otherwise the thread is told.
//
// Only the replica holding the organization's watch lease watches (so that the fleet polls Qovery
// once per interval), in the operation's carrier, under its lease ol. Elsewhere watchOp returns at
// once: the holder adopts the operation. The watch also ends when either lease is lost.
func (h *Handler) watchOp(ctx context.Context, id uuid.UUID, ol *Lease) error {
	wl, err := h.watchLease(ctx)
	if errors.Is(err, ErrLeaseHeld) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("take the organization's watch lease: %w", err)
	}
	if !h.startWatching(id) {
		return nil // this process watches it already
	}
	defer h.stopWatching(id)
	// Steps given to the operation's carrier while it watches (a delivery) run between two reads.
	c := h.carrierOf(id)
	var kick <-chan struct{}
	if c != nil {
		kick = c.kick
	}
	ctx, cancel := untilLost(ctx, wl, ol)
	defer cancel()

	// The watch's state lives on the heap, not in this frame: a thousand watches park here, and a
	// frame over a quarter of a goroutine's first stack keeps every one of them at twice the size.
	w := newWatch(h, ol)
	if w.op, err = h.store.Get(ctx, id); err != nil {
		return err
	}
	if w.op.Phase != PhaseWatching {
		return nil
	}
	w.seenActionPhase, w.upSince = w.op.SeenActionPhase, w.op.UpSince
	if w.upSince.IsZero() && !w.seenActionPhase {
		w.upSince = w.op.AcceptedAt // DEPLOYED from the start counts from the acceptance
	}
	// Right after the acceptance, states change quickly and people are looking: ask for fast polls.
	fast := h.now().Sub(w.op.AcceptedAt) < time.Minute
	updates, unsubscribe := h.statuses.Subscribe(w.op.ClusterID, fast)
	defer unsubscribe()
	for {
		var u qovery.StatusUpdate
		select {
		case <-ctx.Done():
			if !h.cfg.Durable {
				h.stoppedWatching(ctx, ol, id) // nothing will resume this watch
			}
			return ctx.Err()
		case <-kick:
			h.runQueued(c, ol)
			continue
		case u = <-updates:
		}
		if done, err := w.observe(ctx, u.Status, u.Err); done || err != nil {
			return err
		}
	}
}

//go:noinline
func newWatch(h *Handler, l *Lease) *watch { return &watch{h: h, lease: l} } // on the heap, whatever escape analysis says of the caller

// watch is the state of one watchOp loop.
type watch struct {
	h *Handler
	// lease is the operation's: every write the watch makes is fenced with it.
	lease *Lease
	op    Operation
	// seenActionPhase is set once a status read shows the stop under way; before that, DEPLOYED is
	// taken to be Qovery's stale answer.
	seenActionPhase bool
	// upSince is when the cluster was first seen unchanged (still up for a stop, still down for a
	// start) without interruption.
	upSince time.Time
}

// observe acts on one status read. It reports whether the operation is over.
func (w *watch) observe(ctx context.Context, st *qovery.ClusterStatus, err error) (bool, error) {
	h := w.h
	now := h.now()
	if err != nil {
		if ctx.Err() != nil {
			return false, nil // the loop reports the shutdown
		}
		if qovery.IsUnauthorized(err) || qovery.IsForbidden(err) || qovery.IsNotFound(err) {
			msg, _ := UserMessage(qoveryError("read the cluster's status", err))
			h.finish(ctx, w.lease, w.op.ID, PhaseAborted, EventAborted, "", Say(msg, " The bot stopped watching; check the cluster in the Qovery console."))
			return true, nil
		}
		// A passing outage: the client already retried; keep watching until the timeout, and say
		// so once if it lasts.
		w.outage(ctx, now, true)
		return w.checkTimeout(ctx, now), nil
	}
	w.outage(ctx, now, false)
	h.sawStatus(w.op.ClusterID, st.Status) // the bot's answers are never older than what it saw

	state := st.Status
	a := w.op.spec()
	w.op.LastExecutionID = st.LastExecutionID
	switch {
	case state == a.success:
		w.end(ctx, PhaseSucceeded, EventSucceeded, st, nil)
		return true, nil
	case failed(state):
		w.end(ctx, PhaseFailed, EventFailed, st, Say(failureMeaning(a, state)))
		return true, nil
	case a.unchanged(state):
		if w.upSince.IsZero() {
			w.upSince = now
		}
		if now.Sub(w.upSince) >= h.cfg.StaleGrace {
			w.end(ctx, PhaseNotStarted, EventNotStarted, st, Say("Qovery accepted the "+a.noun+", but the cluster has been ", stateName(state), " for "+FormatDuration(now.Sub(w.upSince))+" since, so the "+a.noun+" did not take effect."))
			return true, nil
		}
		if !w.seenActionPhase {
			return w.checkTimeout(ctx, now), nil // stale answer: say nothing yet
		}
	default:
		w.upSince = time.Time{}
		if a.inPhase(state) {
			w.seenActionPhase = true
		}
	}
	if state != w.op.State || w.seenActionPhase != w.op.SeenActionPhase || !w.upSince.Equal(w.op.UpSince) {
		op, err := h.change(ctx, w.lease, w.op.ID, func(op *Operation) (*Event, error) {
			if op.Phase != PhaseWatching {
				return nil, &errNotPending{*op}
			}
			// What the watch has learnt survives a restart with the operation.
			op.SeenActionPhase, op.UpSince = w.seenActionPhase, w.upSince
			if state == op.State {
				return nil, nil
			}
			op.State, op.LastExecutionID = state, st.LastExecutionID
			return &Event{Kind: EventState, State: state, At: now}, nil
		})
		if err != nil {
			return true, nil // finished elsewhere
		}
		w.op = op
	}
	return w.checkTimeout(ctx, now), nil
}

// outage tracks Qovery being unreachable during the watch: one thread note once it has lasted
// OutageNotice, one when it is back, and nothing in between, however long it lasts.
func (w *watch) outage(ctx context.Context, now time.Time, failing bool) {
	op := w.op
	var ev *Event
	switch {
	case failing && op.OutageSince.IsZero():
		op.OutageSince = now
	case failing && !op.OutageNoted && now.Sub(op.OutageSince) >= w.h.cfg.OutageNotice:
		op.OutageNoted = true
		ev = &Event{Kind: EventQoveryUnreachable, At: now}
	case !failing && op.OutageNoted:
		ev = &Event{Kind: EventQoveryBack, At: now, Since: op.OutageSince}
		op.OutageSince, op.OutageNoted = time.Time{}, false
	case !failing && !op.OutageSince.IsZero():
		op.OutageSince = time.Time{}
	default:
		return
	}
	updated, err := w.h.change(ctx, w.lease, op.ID, func(o *Operation) (*Event, error) {
		if o.Phase != PhaseWatching {
			return nil, &errNotPending{*o}
		}
		o.OutageSince, o.OutageNoted = op.OutageSince, op.OutageNoted
		return ev, nil
	})
	if err == nil {
		w.op = updated
	}
}

func (w *watch) checkTimeout(ctx context.Context, now time.Time) bool {
	if now.Sub(w.op.AcceptedAt) < w.h.cfg.WatchTimeout {
		return false
	}
	w.h.finish(ctx, w.lease, w.op.ID, PhaseTimedOut, EventTimedOut, "", Say("Still ", stateName(w.op.State), " after "+FormatDuration(now.Sub(w.op.AcceptedAt))+"; the bot stopped watching. Check the cluster in the Qovery console."))
	return true
}

func (w *watch) end(ctx context.Context, phase Phase, kind EventKind, st *qovery.ClusterStatus, note Text) {
	now := w.h.now()
	// A failure's final message says why, from Qovery's logs, and offers to try again.
	var failure *Failure
	if phase == PhaseFailed && st.Status.IsError() {
		failure = w.h.diagnose(ctx, w.op.ClusterID)
	}
	_, _ = w.h.change(ctx, w.lease, w.op.ID, func(op *Operation) (*Event, error) {
		if op.Phase != PhaseWatching {
			return nil, &errNotPending{*op}
		}
		op.Phase, op.FinishedAt, op.State, op.Note = phase, now, st.Status, note
		op.LastExecutionID = st.LastExecutionID
		if failure != nil {
			op.Failure, op.Retryable = failure, true
		}
		return &Event{Kind: kind, State: st.Status, At: now}, nil
	})
}

// failureMeaning says in one sentence what a failure state means for the action.
func failureMeaning(a verbSpec, s qovery.State) string {
	switch s {
	case qovery.StateStopError, qovery.StateDeploymentError:
		return "Qovery could not " + a.noun + " the cluster; its logs say why."
	case qovery.StateInvalidCredentials:
		return "Qovery's cloud credentials for this cluster are invalid, so no operation on it can finish. Fix the credentials in Qovery."
	case qovery.StateCanceled:
		return "The " + a.noun + " was cancelled in Qovery before it finished."
	case qovery.StateDeleted, qovery.StateDeleteQueued, qovery.StateDeleting:
		return "The cluster is being deleted or was deleted."
	}
	return "The cluster reached a failure state instead of " + string(a.success) + "."
}

// Statuses streams cluster statuses. The qovery.Watcher implements it with one poll per
// organization for every watched cluster.
type Statuses interface {
	Subscribe(clusterID uuid.UUID, fast bool) (<-chan qovery.StatusUpdate, func())
}

// pollEach is the Statuses used when none is configured: one status read of the cluster every
// interval, per subscription.
type pollEach struct {
	q     Qovery
	org   uuid.UUID
	every time.Duration
}

func (p pollEach) Subscribe(clusterID uuid.UUID, _ bool) (<-chan qovery.StatusUpdate, func()) {
	ch := make(chan qovery.StatusUpdate)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			st, err := p.q.ClusterStatus(ctx, p.org, clusterID)
			select {
			case ch <- qovery.StatusUpdate{Status: st, Err: err, At: time.Now()}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, cancel
}
