package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// request makes a pending operation for a verb that changes a cluster (stop, start), after checking
// who asks, which cluster, and whether its state allows it.
//
// The request is recorded before its confirmation is posted, so that a click never finds an
// unknown request; when the post fails the request is withdrawn, and when the process dies in
// between, the request expires at its TTL like any other.
func (h *Handler) request(ctx context.Context, req Request, verb Verb, typed string) (Text, error) {
	a := specOf(verb)
	if err := h.authorize(ctx, req.By.UserID, req.By.ChannelID); err != nil {
		return nil, err
	}
	c, err := h.findCluster(ctx, typed)
	if err != nil {
		return nil, err
	}
	// What the cluster runs and costs is read beside the status, within its own short budget:
	// the confirmation never waits for it longer, and says what could not be read.
	var impact Impact
	impactCtx, stopImpact := context.WithCancel(ctx)
	defer stopImpact()
	impactRead := make(chan struct{})
	go func() {
		defer close(impactRead)
		if !a.instant { // an unlock takes nothing down
			impact = h.impactOf(impactCtx, c.ID)
		}
	}()
	st, err := h.q.ClusterStatus(ctx, h.cfg.OrganizationID, c.ID)
	var refusal Text
	if err == nil {
		refusal = a.refusal(c.Name, st)
	}
	if err != nil || !refusal.IsZero() {
		stopImpact() // no confirmation: what it would have shown is not needed
	}
	<-impactRead
	if err != nil {
		return nil, qoveryError("read the cluster's status", err)
	}
	if !refusal.IsZero() {
		return refusal, nil
	}
	now := h.now()
	id := req.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	op := Operation{
		ID:              id,
		Verb:            verb,
		OrganizationID:  h.cfg.OrganizationID,
		ClusterID:       c.ID,
		ClusterName:     c.Name,
		CloudProvider:   c.CloudProvider,
		Region:          c.Region,
		Production:      c.Production,
		Protected:       h.cfg.Policy.IsProtected(c.Name, c.Production),
		StatusAtRequest: st.Status,
		RequestedBy:     req.By.UserID,
		ChannelID:       req.By.ChannelID,
		RequestedAt:     now,
		ExpiresAt:       now.Add(h.cfg.ConfirmTTL),
		Phase:           PhasePending,
		ConsoleURL:      qovery.ConsoleClusterURL(h.cfg.OrganizationID, c.ID),
		Impact:          impact,
		Lock:            st.ClusterLock,
	}
	op.NeedsSecondPerson = op.Protected && h.cfg.Policy.FourEyes
	if err := h.store.Create(ctx, op); err != nil {
		var busy *BusyError
		if errors.As(err, &busy) {
			return h.busyText(ctx, busy.Existing), nil
		}
		return nil, fmt.Errorf("record %s request: %w", a.noun, err)
	}
	return h.postConfirmation(ctx, op)
}

// postConfirmation posts the confirmation message of a new pending operation where it was
// requested and records where it went. When it cannot be posted, the request is withdrawn, so that
// it does not hold the cluster, and the requester learns why.
func (h *Handler) postConfirmation(ctx context.Context, op Operation) (Text, error) {
	ts, err := h.chat.PostConfirmation(ctx, op)
	// What follows is bookkeeping that must happen whatever became of the post: never on ctx,
	// which may be what cut the post short (a long Retry-After, shutdown).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err != nil {
		if derr := h.discard(ctx, op.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("withdraw the request: %w", derr))
		}
		if errors.Is(err, ErrCannotPost) {
			return nil, &UserError{Msg: cannotPostText(op), Err: err}
		}
		return nil, &UserError{Msg: Say("The bot could not post the confirmation message, so nothing will be " + op.spec().past + ". Please try again."), Err: err}
	}
	if err := h.attach(ctx, op.ID, op.ChannelID, ts); err != nil {
		return nil, fmt.Errorf("record the confirmation message: %w", err)
	}
	op.MessageTS = ts
	h.audit.Requested(op)
	return nil, nil
}

// bookkeepingTimeout bounds the store writes that follow a call to the chat or to Qovery.
const bookkeepingTimeout = 5 * time.Second

func cannotPostText(op Operation) Text {
	if len(op.ChannelID) > 0 && op.ChannelID[0] == 'D' {
		return Say("The bot cannot post in this direct message. Run ", Code(CommandName+" "+string(op.Action())), " in a channel where the bot is a member, so the team can see it.")
	}
	return Say("The bot is not a member of this channel, so it cannot post the confirmation. Invite it with ", Code("/invite @Qovery"),
		" (or the app's name in your workspace) and run the command again. Nothing was "+op.spec().past+".")
}

func (h *Handler) busyText(ctx context.Context, op Operation) Text {
	what := Say("A "+op.spec().noun+" of ", Strong(op.ClusterName))
	if op.Phase == PhasePending && op.MessageTS == "" {
		// Its confirmation is being posted, or never was: there is nothing to follow.
		return Say(what, " was requested by ", User(op.RequestedBy), ", but its confirmation message has not been posted. The request lapses at "+
			FormatTime(op.ExpiresAt)+"; run the command again then.")
	}
	if op.Phase == PhasePending {
		what = Say(what, " is waiting for confirmation")
	} else {
		what = Say(what, " is already under way")
	}
	where := Say("in ", Channel(op.ChannelID))
	if op.MessageTS != "" {
		if link, err := h.chat.Permalink(ctx, op.ChannelID, op.MessageTS); err == nil && link != "" {
			where = Say(where, ": ", Link(link, "follow it there"))
		}
	}
	return Say(what, " (requested by ", User(op.RequestedBy), " ", where, "). Follow that request instead of starting another.")
}

// attach records where the confirmation message of a pending operation was posted. When the
// operation ended before its message was posted (it expired while the post was held up), its last
// notice, already audited, is queued again so that the message shows how it ended.
func (h *Handler) attach(ctx context.Context, id uuid.UUID, channelID, ts string) error {
	op, err := h.recordMessage(ctx, nil, id, channelID, ts)
	if err != nil {
		return err
	}
	if hasPending(op) {
		h.deliver(ctx, id) // a click overtook us
	}
	return nil
}

// recordMessage is attach's write, fenced by l when the caller holds the operation's lease.
func (h *Handler) recordMessage(ctx context.Context, l *Lease, id uuid.UUID, channelID, ts string) (Operation, error) {
	return h.store.Update(ctx, id, l, func(op *Operation) error {
		if op.MessageTS == "" && !op.Phase.IsActive() && len(op.Notices) > 0 {
			if last := &op.Notices[len(op.Notices)-1]; last.State == NoticePosted {
				last.State = NoticePending
			}
		}
		op.ChannelID, op.MessageTS = channelID, ts
		return nil
	})
}

// discard ends a pending operation whose confirmation could not be posted, releasing its cluster.
func (h *Handler) discard(ctx context.Context, id uuid.UUID) error {
	_, err := h.store.Update(ctx, id, nil, func(op *Operation) error {
		if op.Phase != PhasePending {
			return nil
		}
		op.Phase, op.FinishedAt = PhaseDiscarded, h.now()
		return nil
	})
	return err
}

// act checks a confirmed operation's cluster once more and calls Qovery, under the operation's
// lease l.
func (h *Handler) act(ctx context.Context, l *Lease, op Operation) (Text, error) {
	a := op.spec()

	// The confirmation may be minutes old: act only if the cluster's state still allows it.
	st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID)
	if err != nil {
		uerr := qoveryError("check the cluster before the "+a.noun, err)
		msg, _ := UserMessage(uerr)
		h.finish(ctx, l, op.ID, PhaseVoid, EventVoided, "", Say(msg, " Nothing was "+a.past+"."))
		return nil, uerr
	}
	if why := a.refusal(op.ClusterName, st); !why.IsZero() {
		h.finish(ctx, l, op.ID, PhaseVoid, EventVoided, st.Status, Say("Not "+a.past+": the cluster changed since the request. ", why))
		return nil, nil
	}

	// Record the intent before the side effect: after a crash, a "sending" call is settled by
	// reading the status, never by sending it again.
	op, err = h.store.Update(ctx, op.ID, l, func(o *Operation) error {
		if o.Phase != PhaseConfirmed || o.Call != CallNone {
			return &errNotPending{*o}
		}
		o.Call = CallSending
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record %s intent: %w", a.noun, err)
	}
	resp, err := a.call(ctx, h.q, op.OrganizationID, op.ClusterID)
	h.forgetCluster(op.ClusterID) // whatever came of the call, what the cache holds may be past
	if err != nil {
		return h.callFailed(ctx, l, op, err)
	}
	if a.instant {
		h.done(ctx, l, op.ID, resp.StatusCode)
		return nil, nil
	}
	state := a.queued
	if resp.Status != nil && resp.Status.Status != "" {
		state = resp.Status.Status
	}
	return nil, h.accept(ctx, l, op.ID, state, resp.StatusCode)
}

// accept records that Qovery took the call (httpStatus is 0 when that was learnt from a status read
// after a lost answer), notifies, and watches the operation. l is the operation's lease.
func (h *Handler) accept(ctx context.Context, l *Lease, id uuid.UUID, state qovery.State, httpStatus int) error {
	now := h.now()
	op, err := h.change(ctx, l, id, func(op *Operation) (*Event, error) {
		if op.Phase != PhaseConfirmed {
			return nil, &errNotPending{*op}
		}
		op.Phase, op.AcceptedAt, op.State, op.Call = PhaseWatching, now, state, CallAnswered
		if httpStatus != 0 {
			op.CallHTTPStatus = httpStatus
		}
		return &Event{Kind: EventAccepted, State: state, At: now}, nil
	})
	if err != nil {
		return fmt.Errorf("record accepted call: %w", err)
	}
	h.goWatch(l, op.ID)
	return nil
}

// callFailed tells the truth after a failed call. A 409 or a lost answer is settled by reading the
// status again, never by sending the call a second time.
func (h *Handler) callFailed(ctx context.Context, l *Lease, op Operation, callErr error) (Text, error) {
	a := op.spec()
	var qe *qovery.Error
	answered := errors.As(callErr, &qe)
	if answered {
		// Kept for the audit trail of the call.
		op, _ = h.store.Update(ctx, op.ID, l, func(o *Operation) error {
			o.CallHTTPStatus, o.Call = qe.StatusCode, CallAnswered
			return nil
		})
	}
	uncertain := !answered || qe.Temporary() || qovery.IsConflict(callErr)
	if uncertain && !errors.Is(callErr, context.Canceled) {
		if st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID); err == nil {
			switch {
			case a.instant && st.ClusterLock == nil:
				h.done(ctx, l, op.ID, 0) // the answer was lost, not the unlock
				return nil, nil
			case a.instant: // still locked: the unlock was not taken (below)
			case a.inPhase(st.Status) && st.Status != a.success && !failed(st.Status):
				// Qovery took it (or someone else did the same at the same moment): watch it either way.
				return nil, h.accept(ctx, l, op.ID, st.Status, 0)
			case st.Status == a.success:
				h.finish(ctx, l, op.ID, PhaseVoid, EventVoided, st.Status, Say(Strong(op.ClusterName), " is already ", stateName(st.Status), "; nothing more to do."))
				return nil, nil
			case qovery.IsConflict(callErr):
				h.finish(ctx, l, op.ID, PhaseRejected, EventRejected, st.Status, Say("Qovery refused the "+a.noun+": an operation is in progress on ", Strong(op.ClusterName), " (", stateName(st.Status), "). Try again once it settles."))
				return nil, nil
			}
		}
	}
	uerr := qoveryError(a.noun+" the cluster", callErr)
	msg, _ := UserMessage(uerr)
	h.markRetryable(ctx, l, op.ID)
	h.finish(ctx, l, op.ID, PhaseRejected, EventRejected, "", Say(msg, " Nothing was "+a.past+"."))
	return nil, uerr
}

// done records that Qovery did an instant verb (unlock): the operation succeeds at once. l is the
// operation's lease; httpStatus is 0 when the answer was lost and the status read told.
func (h *Handler) done(ctx context.Context, l *Lease, id uuid.UUID, httpStatus int) {
	now := h.now()
	_, _ = h.change(ctx, l, id, func(op *Operation) (*Event, error) {
		if op.Phase != PhaseConfirmed {
			return nil, &errNotPending{*op}
		}
		op.Phase, op.Call, op.AcceptedAt, op.FinishedAt = PhaseSucceeded, CallAnswered, now, now
		if httpStatus != 0 {
			op.CallHTTPStatus = httpStatus
		}
		return &Event{Kind: EventSucceeded, At: now}, nil
	})
}

// finish moves an operation to a final phase and notifies once. l is the operation's lease, when
// the caller holds it.
func (h *Handler) finish(ctx context.Context, l *Lease, id uuid.UUID, phase Phase, kind EventKind, state qovery.State, note Text) Operation {
	now := h.now()
	op, _ := h.change(ctx, l, id, func(op *Operation) (*Event, error) {
		if !op.Phase.IsActive() {
			return nil, &errNotPending{*op}
		}
		op.Phase, op.FinishedAt, op.Note = phase, now, note
		if op.Call == CallSending {
			op.Call = CallAnswered
		}
		if state != "" {
			op.State = state
		}
		return &Event{Kind: kind, State: state, At: now}, nil
	})
	return op
}

// markRetryable records that the stop or start call failed without Qovery taking it, so that its final
// message offers to try again.
func (h *Handler) markRetryable(ctx context.Context, l *Lease, id uuid.UUID) {
	_, _ = h.store.Update(ctx, id, l, func(o *Operation) error { o.Retryable = true; return nil })
}

// ExpireDue expires the pending operations whose confirmation TTL has passed, so that their buttons
// disappear even when nobody clicks. It returns how many it expired.
func (h *Handler) ExpireDue(ctx context.Context) (int, error) {
	ops, err := h.store.Active(ctx)
	if err != nil {
		return 0, err
	}
	now := h.now()
	n := 0
	for _, op := range ops {
		// A request whose confirmation was never posted (the post failed, or the process died
		// before it) expires too, or it would hold its cluster for ever; with no message, its
		// expiry is audited and nothing is edited.
		if op.Phase != PhasePending || now.Before(op.ExpiresAt) {
			continue
		}
		_, err := h.change(ctx, nil, op.ID, func(op *Operation) (*Event, error) {
			if op.Phase != PhasePending || now.Before(op.ExpiresAt) {
				return nil, &errNotPending{*op}
			}
			op.Phase, op.FinishedAt = PhaseExpired, now
			return &Event{Kind: EventExpired, At: now}, nil
		})
		if err != nil {
			continue // clicked meanwhile
		}
		n++
	}
	return n, nil
}

// Operation returns a stored operation.
func (h *Handler) Operation(ctx context.Context, id uuid.UUID) (Operation, error) {
	return h.store.Get(ctx, id)
}
