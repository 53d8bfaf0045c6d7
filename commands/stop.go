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
func (h *Handler) request(ctx context.Context, req Request, verb Verb, typed string) (string, error) {
	a := specOf(verb)
	if err := h.authorize(ctx, req.By.UserID, req.By.ChannelID); err != nil {
		return "", err
	}
	c, err := h.findCluster(ctx, typed)
	if err != nil {
		return "", err
	}
	st, err := h.q.ClusterStatus(ctx, h.cfg.OrganizationID, c.ID)
	if err != nil {
		return "", qoveryError("read the cluster's status", err)
	}
	if why := a.refusal(c.Name, st); why != "" {
		return why, nil
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
	}
	op.NeedsSecondPerson = op.Protected && h.cfg.Policy.FourEyes
	if err := h.store.Create(ctx, op); err != nil {
		var busy *BusyError
		if errors.As(err, &busy) {
			return h.busyText(ctx, busy.Existing), nil
		}
		return "", fmt.Errorf("record %s request: %w", a.noun, err)
	}
	return h.postConfirmation(ctx, op)
}

// postConfirmation posts the confirmation message of a new pending operation where it was
// requested and records where it went. When it cannot be posted, the request is withdrawn, so that
// it does not hold the cluster, and the requester learns why.
func (h *Handler) postConfirmation(ctx context.Context, op Operation) (string, error) {
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
			return "", &UserError{Msg: cannotPostText(op), Err: err}
		}
		return "", &UserError{Msg: "The bot could not post the confirmation message, so nothing will be " + op.spec().past + ". Please try again.", Err: err}
	}
	if err := h.attach(ctx, op.ID, op.ChannelID, ts); err != nil {
		return "", fmt.Errorf("record the confirmation message: %w", err)
	}
	op.MessageTS = ts
	h.audit.Requested(op)
	return "", nil
}

// bookkeepingTimeout bounds the store writes that follow a call to the chat or to Qovery.
const bookkeepingTimeout = 5 * time.Second

func cannotPostText(op Operation) string {
	if len(op.ChannelID) > 0 && op.ChannelID[0] == 'D' {
		return "The bot cannot post in this direct message. Run `" + CommandName + " " + string(op.Action()) + "` in a channel where the bot is a member, so the team can see it."
	}
	return "The bot is not a member of this channel, so it cannot post the confirmation. Invite it with `/invite @Qovery` (or the app's name in your workspace) and run the command again. Nothing was " + op.spec().past + "."
}

func (h *Handler) busyText(ctx context.Context, op Operation) string {
	what := "A " + op.spec().noun + " of *" + Escape(op.ClusterName) + "*"
	if op.Phase == PhasePending && op.MessageTS == "" {
		// Its confirmation is being posted, or never was: there is nothing to follow.
		return fmt.Sprintf("%s was requested by %s, but its confirmation message has not been posted. The request lapses at %s; run the command again then.",
			what, Mention(op.RequestedBy), FormatTime(op.ExpiresAt))
	}
	if op.Phase == PhasePending {
		what += " is waiting for confirmation"
	} else {
		what += " is already under way"
	}
	where := fmt.Sprintf("in <#%s>", Escape(op.ChannelID))
	if op.MessageTS != "" {
		if link, err := h.chat.Permalink(ctx, op.ChannelID, op.MessageTS); err == nil && link != "" {
			where = fmt.Sprintf("in <#%s>: <%s|follow it there>", Escape(op.ChannelID), link)
		}
	}
	return fmt.Sprintf("%s (requested by %s %s). Follow that request instead of starting another.", what, Mention(op.RequestedBy), where)
}

// attach records where the confirmation message of a pending operation was posted. When the
// operation ended before its message was posted (it expired while the post was held up), its last
// notice, already audited, is queued again so that the message shows how it ended.
func (h *Handler) attach(ctx context.Context, id uuid.UUID, channelID, ts string) error {
	_, err := h.store.Update(ctx, id, func(op *Operation) error {
		if op.MessageTS == "" && !op.Phase.IsActive() && len(op.Notices) > 0 {
			if last := &op.Notices[len(op.Notices)-1]; last.State == NoticePosted {
				last.State = NoticePending
			}
		}
		op.ChannelID, op.MessageTS = channelID, ts
		return nil
	})
	if err != nil {
		return err
	}
	h.deliver(ctx, id) // a click may have overtaken us
	return nil
}

// discard ends a pending operation whose confirmation could not be posted, releasing its cluster.
func (h *Handler) discard(ctx context.Context, id uuid.UUID) error {
	_, err := h.store.Update(ctx, id, func(op *Operation) error {
		if op.Phase != PhasePending {
			return nil
		}
		op.Phase, op.FinishedAt = PhaseDiscarded, h.now()
		return nil
	})
	return err
}

// act checks a confirmed operation's cluster once more and calls Qovery.
func (h *Handler) act(ctx context.Context, op Operation) (string, error) {
	a := op.spec()

	// The confirmation may be minutes old: act only if the cluster's state still allows it.
	st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID)
	if err != nil {
		uerr := qoveryError("check the cluster before the "+a.noun, err)
		msg, _ := UserMessage(uerr)
		h.finish(ctx, op.ID, PhaseVoid, EventVoided, "", msg+" Nothing was "+a.past+".")
		return "", uerr
	}
	if why := a.refusal(op.ClusterName, st); why != "" {
		h.finish(ctx, op.ID, PhaseVoid, EventVoided, st.Status, fmt.Sprintf("Not %s: the cluster changed since the request. %s", a.past, why))
		return "", nil
	}

	// Record the intent before the side effect: after a crash, a "sending" call is settled by
	// reading the status, never by sending it again.
	op, err = h.store.Update(ctx, op.ID, func(o *Operation) error {
		if o.Phase != PhaseConfirmed || o.Call != CallNone {
			return &errNotPending{*o}
		}
		o.Call = CallSending
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("record %s intent: %w", a.noun, err)
	}
	resp, err := a.call(ctx, h.q, op.OrganizationID, op.ClusterID)
	if err != nil {
		return h.callFailed(ctx, op, err)
	}
	state := a.queued
	if resp.Status != nil && resp.Status.Status != "" {
		state = resp.Status.Status
	}
	return "", h.accept(ctx, op.ID, state, resp.StatusCode)
}

// accept records that Qovery took the call (httpStatus is 0 when that was learnt from a status read
// after a lost answer), notifies, and watches the operation.
func (h *Handler) accept(ctx context.Context, id uuid.UUID, state qovery.State, httpStatus int) error {
	now := h.now()
	op, err := h.change(ctx, id, func(op *Operation) (*Event, error) {
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
	h.goWatch(op.ID)
	return nil
}

// callFailed tells the truth after a failed call. A 409 or a lost answer is settled by reading the
// status again, never by sending the call a second time.
func (h *Handler) callFailed(ctx context.Context, op Operation, callErr error) (string, error) {
	a := op.spec()
	var qe *qovery.Error
	answered := errors.As(callErr, &qe)
	if answered {
		// Kept for the audit trail of the call.
		op, _ = h.store.Update(ctx, op.ID, func(o *Operation) error {
			o.CallHTTPStatus, o.Call = qe.StatusCode, CallAnswered
			return nil
		})
	}
	uncertain := !answered || qe.Temporary() || qovery.IsConflict(callErr)
	if uncertain && !errors.Is(callErr, context.Canceled) {
		if st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID); err == nil {
			switch {
			case a.inPhase(st.Status) && st.Status != a.success && !failed(st.Status):
				// Qovery took it (or someone else did the same at the same moment): watch it either way.
				return "", h.accept(ctx, op.ID, st.Status, 0)
			case st.Status == a.success:
				h.finish(ctx, op.ID, PhaseVoid, EventVoided, st.Status, fmt.Sprintf("*%s* is already %s; nothing more to do.", Escape(op.ClusterName), stateName(st.Status)))
				return "", nil
			case qovery.IsConflict(callErr):
				h.finish(ctx, op.ID, PhaseRejected, EventRejected, st.Status, fmt.Sprintf("Qovery refused the %s: an operation is in progress on *%s* (%s). Try again once it settles.", a.noun, Escape(op.ClusterName), stateName(st.Status)))
				return "", nil
			}
		}
	}
	uerr := qoveryError(a.noun+" the cluster", callErr)
	msg, _ := UserMessage(uerr)
	h.markRetryable(ctx, op.ID)
	h.finish(ctx, op.ID, PhaseRejected, EventRejected, "", msg+" Nothing was "+a.past+".")
	return "", uerr
}

// finish moves an operation to a final phase and notifies once.
func (h *Handler) finish(ctx context.Context, id uuid.UUID, phase Phase, kind EventKind, state qovery.State, note string) Operation {
	now := h.now()
	op, _ := h.change(ctx, id, func(op *Operation) (*Event, error) {
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
func (h *Handler) markRetryable(ctx context.Context, id uuid.UUID) {
	_, _ = h.store.Update(ctx, id, func(o *Operation) error { o.Retryable = true; return nil })
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
		_, err := h.change(ctx, op.ID, func(op *Operation) (*Event, error) {
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
