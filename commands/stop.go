package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Action ids of the confirmation buttons; the button value is the operation id.
const (
	ActionConfirm = "qovery_confirm"
	ActionCancel  = "qovery_cancel"
	// ActionRetry is on the final message of a call Qovery did not take.
	ActionRetry = "qovery_retry"
	// ActionFollowUp is on the final message of a successful stop (Start again) or start (Stop).
	ActionFollowUp = "qovery_follow_up"
)

// request makes a pending operation for a verb that changes a cluster (stop, start), after checking
// who asks, which cluster, and whether its state allows it.
func (h *Handler) request(ctx context.Context, req Request, verb Verb, typed string) (Reply, error) {
	a := actionOf(verb)
	if err := h.authorize(ctx, req.UserID, req.ChannelID); err != nil {
		return Reply{}, err
	}
	c, err := h.findCluster(ctx, typed)
	if err != nil {
		return Reply{}, err
	}
	st, err := h.q.ClusterStatus(ctx, h.cfg.OrganizationID, c.ID)
	if err != nil {
		return Reply{}, qoveryError("read the cluster's status", err)
	}
	if why := a.refusal(c.Name, st); why != "" {
		return Reply{Text: why}, nil
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
		RequestedBy:     req.UserID,
		ChannelID:       req.ChannelID,
		RequestedAt:     now,
		ExpiresAt:       now.Add(h.cfg.ConfirmTTL),
		Phase:           PhasePending,
		ConsoleURL:      qovery.ConsoleClusterURL(h.cfg.OrganizationID, c.ID),
	}
	op.NeedsSecondPerson = op.Protected && h.cfg.Policy.FourEyes
	if err := h.store.Create(ctx, op); err != nil {
		var busy *BusyError
		if errors.As(err, &busy) {
			return Reply{Text: h.busyText(ctx, busy.Existing)}, nil
		}
		return Reply{}, fmt.Errorf("record stop request: %w", err)
	}
	return Reply{Confirm: &op}, nil
}

func (h *Handler) busyText(ctx context.Context, op Operation) string {
	what := "A " + op.action().noun + " of *" + Escape(op.ClusterName) + "*"
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
		if link, err := h.n.Permalink(ctx, op.ChannelID, op.MessageTS); err == nil && link != "" {
			where = fmt.Sprintf("in <#%s>: <%s|follow it there>", Escape(op.ChannelID), link)
		}
	}
	return fmt.Sprintf("%s (requested by %s %s). Follow that request instead of starting another.", what, Mention(op.RequestedBy), where)
}

// Attach records where the confirmation message of a pending operation was posted. When the
// operation ended before its message was posted (it expired while the post was held up), its last
// notice, already audited, is queued again so that the message shows how it ended.
func (h *Handler) Attach(ctx context.Context, id uuid.UUID, channelID, ts string) error {
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

// Discard ends a pending operation whose confirmation could not be posted, releasing its cluster.
func (h *Handler) Discard(ctx context.Context, id uuid.UUID) error {
	_, err := h.store.Update(ctx, id, func(op *Operation) error {
		if op.Phase != PhasePending {
			return nil
		}
		op.Phase, op.FinishedAt = PhaseDiscarded, h.now()
		return nil
	})
	return err
}

// errNotPending carries the operation a click came too late for.
type errNotPending struct{ op Operation }

func (e *errNotPending) Error() string { return "operation is " + string(e.op.Phase) }

var (
	errExpired = errors.New("confirmation expired")
	// errUnknownRef means a button or modal names no stored request for that cluster: a forged or
	// stale value, or a request from before a restart.
	errUnknownRef = errors.New("unknown request")
)

// checkClick loads the operation a click is about and checks that the clicker may act on it now:
// the reference matches, the request is still pending and not expired, the clicker is allowed,
// and, for a confirmation under four-eyes, the clicker is not the requester.
func (h *Handler) checkClick(ctx context.Context, c Click, confirming bool) (Operation, error) {
	op, err := h.store.Get(ctx, c.Ref.OperationID)
	if errors.Is(err, ErrNotFound) || (err == nil && op.ClusterID != c.Ref.ClusterID) {
		return Operation{}, errUnknownRef
	}
	if err != nil {
		return Operation{}, err
	}
	if op.Phase != PhasePending {
		return op, &errNotPending{op}
	}
	if !h.now().Before(op.ExpiresAt) {
		return h.expire(ctx, op, c)
	}
	if !confirming && c.UserID == op.RequestedBy {
		return op, nil // requesters may always withdraw their own request
	}
	if err := h.authorize(ctx, c.UserID, op.ChannelID); err != nil {
		return op, err
	}
	if confirming && op.NeedsSecondPerson && c.UserID == op.RequestedBy {
		return op, &DeniedError{Reason: DenyFourEyes, Msg: fmt.Sprintf("*%s* is protected and needs a second person: another allowed user must confirm this %s. You can still cancel it.", Escape(op.ClusterName), op.action().noun)}
	}
	return op, nil
}

// expire ends a pending operation whose confirmation TTL has passed and reports errExpired.
func (h *Handler) expire(ctx context.Context, op Operation, c Click) (Operation, error) {
	now := h.now()
	expired, err := h.change(ctx, op.ID, func(o *Operation) (*Event, error) {
		if o.Phase != PhasePending {
			return nil, &errNotPending{*o}
		}
		if o.MessageTS == "" && c.MessageTS != "" {
			o.ChannelID, o.MessageTS = c.ChannelID, c.MessageTS
		}
		o.Phase, o.FinishedAt = PhaseExpired, now
		return &Event{Kind: EventExpired, At: now}, nil
	})
	if err != nil {
		return expired, err
	}
	return expired, errExpired
}

// claim moves a pending operation to next for the user who clicked, atomically: of two racing
// clicks, exactly one gets the operation.
func (h *Handler) claim(ctx context.Context, c Click, next Phase) (Operation, error) {
	now := h.now()
	return h.change(ctx, c.Ref.OperationID, func(op *Operation) (*Event, error) {
		switch {
		case op.Phase != PhasePending:
			return nil, &errNotPending{*op}
		case !now.Before(op.ExpiresAt):
			return nil, errExpired // expired between the check and now; the sweep reports it
		}
		if op.MessageTS == "" && c.MessageTS != "" {
			op.ChannelID, op.MessageTS = c.ChannelID, c.MessageTS
		}
		op.Phase = next
		if next == PhaseConfirmed {
			op.ConfirmedBy, op.ConfirmedAt = c.UserID, now
			return &Event{Kind: EventConfirmed, At: now}, nil
		}
		op.FinishedBy, op.FinishedAt = c.UserID, now
		return &Event{Kind: EventCancelled, At: now}, nil
	})
}

// clickRefusal turns a refused click into the ephemeral answer for the person who clicked. Denials
// stay errors, so that the caller audits them.
func (h *Handler) clickRefusal(op Operation, err error) (Reply, error) {
	var np *errNotPending
	switch {
	case errors.Is(err, errUnknownRef):
		return Reply{}, &DeniedError{Reason: "unknown_request", Err: err, Msg: "This button does not belong to a request the bot knows (it may predate a restart). Run the command again."}
	case errors.Is(err, errExpired):
		return Reply{Text: fmt.Sprintf("This request expired; nothing was done. Run `%s %s %s` again.", CommandName, op.Action(), Escape(op.ClusterName))}, nil
	case errors.As(err, &np):
		return Reply{Text: alreadyAnswered(np.op)}, nil
	}
	return Reply{}, err
}

func alreadyAnswered(op Operation) string {
	switch op.Phase {
	case PhaseCancelled:
		return fmt.Sprintf("This request was already cancelled by %s at %s.", Mention(op.FinishedBy), FormatTime(op.FinishedAt))
	case PhaseExpired:
		return fmt.Sprintf("This request expired at %s; nothing was done. Run `%s %s %s` again.", FormatTime(op.ExpiresAt), CommandName, op.Action(), Escape(op.ClusterName))
	case PhaseDiscarded:
		return "This request was withdrawn. Run the command again."
	}
	return fmt.Sprintf("Already confirmed by %s at %s.", Mention(op.ConfirmedBy), FormatTime(op.ConfirmedAt))
}

// TypedNameProblem checks the cluster name typed in a protected stop's confirmation modal. It
// returns what to tell the user under the input, or "" when the name is right. It reads only the
// store, so the bot can answer inside the modal's ack.
func (h *Handler) TypedNameProblem(ctx context.Context, ref ActionRef, typed string) (string, error) {
	op, err := h.store.Get(ctx, ref.OperationID)
	if errors.Is(err, ErrNotFound) || (err == nil && op.ClusterID != ref.ClusterID) {
		return "This request is unknown to the bot. Close this and run the command again.", nil
	}
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(typed) != op.ClusterName {
		return fmt.Sprintf("That is not the cluster's name. Type %s exactly to stop it.", op.ClusterName), nil
	}
	return "", nil
}

// Confirm handles a click on the Stop button: the first valid click wins, the status is checked
// again, and Qovery is asked to stop the cluster. When Qovery accepts, the reply's Watch is set. A
// protected cluster first needs its name typed: the reply's TypeName asks the caller to collect it
// and call Confirm again with Typed set.
func (h *Handler) Confirm(ctx context.Context, c Click) (Reply, error) {
	op, err := h.checkClick(ctx, c, true)
	if err != nil {
		return h.clickRefusal(op, err)
	}
	if op.Protected {
		if !c.Typed {
			return Reply{TypeName: &op}, nil
		}
		if strings.TrimSpace(c.TypedName) != op.ClusterName {
			return Reply{}, &DeniedError{Reason: "wrong_name", Msg: "The typed name did not match the cluster's; nothing was done."}
		}
	}
	// The stop call is made under the operation's lease, taken before the click is: another
	// replica adopting unfinished work then never mistakes this confirmation for one whose
	// replica died before calling Qovery. A click on another replica waits for it, then finds the
	// request answered.
	lctx, _, release, err := h.holdOpWait(ctx, op.ID)
	if errors.Is(err, ErrLeaseHeld) {
		return Reply{Text: "Another click on this request is still being handled; its outcome will show in the message."}, nil
	}
	if err != nil {
		return Reply{}, fmt.Errorf("take the lease of operation %s: %w", op.ID, err)
	}
	defer release()
	op, err = h.claim(lctx, c, PhaseConfirmed)
	if err != nil {
		return h.clickRefusal(op, err)
	}
	return h.act(lctx, op)
}

// act checks a confirmed operation's cluster once more and calls Qovery.
func (h *Handler) act(ctx context.Context, op Operation) (Reply, error) {
	a := op.action()

	// The confirmation may be minutes old: act only if the cluster's state still allows it.
	st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID)
	if err != nil {
		uerr := qoveryError("check the cluster before the "+a.noun, err)
		msg, _ := UserMessage(uerr)
		h.finish(ctx, op.ID, PhaseVoid, EventVoided, "", msg+" Nothing was "+a.past+".")
		return Reply{}, uerr
	}
	if why := a.refusal(op.ClusterName, st); why != "" {
		h.finish(ctx, op.ID, PhaseVoid, EventVoided, st.Status, fmt.Sprintf("Not %s: the cluster changed since the request. %s", a.past, why))
		return Reply{}, nil
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
		return Reply{}, fmt.Errorf("record %s intent: %w", a.noun, err)
	}
	resp, err := a.call(ctx, h.q, op.OrganizationID, op.ClusterID)
	h.forgetCluster(op.ClusterID) // whatever came of the call, what the cache holds may be past
	if err != nil {
		return h.callFailed(ctx, op, err)
	}
	state := a.queued
	if resp.Status != nil && resp.Status.Status != "" {
		state = resp.Status.Status
	}
	return h.accept(ctx, op.ID, state, resp.StatusCode)
}

// accept records that Qovery took the stop (httpStatus is 0 when that was learnt from a status read
// after a lost answer) and notifies.
func (h *Handler) accept(ctx context.Context, id uuid.UUID, state qovery.State, httpStatus int) (Reply, error) {
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
		return Reply{}, fmt.Errorf("record accepted call: %w", err)
	}
	return Reply{Watch: &op}, nil
}

// callFailed tells the truth after a failed call. A 409 or a lost answer is settled by reading the
// status again, never by sending the call a second time.
func (h *Handler) callFailed(ctx context.Context, op Operation, callErr error) (Reply, error) {
	a := op.action()
	var qe *qovery.Error
	answered := errors.As(callErr, &qe)
	if answered {
		// Kept for the audit trail of the call.
		op, _ = h.store.Update(ctx, op.ID, func(o *Operation) error {
			o.CallHTTPStatus, o.Call = qe.StatusCode, CallAnswered
			return nil
		})
	}
	uncertain := !answered || qe.StatusCode >= 500 || qe.StatusCode == 409 || qe.StatusCode == 429
	if uncertain && !errors.Is(callErr, context.Canceled) {
		if st, err := h.q.ClusterStatus(ctx, op.OrganizationID, op.ClusterID); err == nil {
			switch {
			case a.inPhase(st.Status) && st.Status != a.success && !failed(st.Status):
				// Qovery took it (or someone else did the same at the same moment): watch it either way.
				return h.accept(ctx, op.ID, st.Status, 0)
			case st.Status == a.success:
				h.finish(ctx, op.ID, PhaseVoid, EventVoided, st.Status, fmt.Sprintf("*%s* is already %s; nothing more to do.", Escape(op.ClusterName), stateName(st.Status)))
				return Reply{}, nil
			case answered && qe.StatusCode == 409:
				h.finish(ctx, op.ID, PhaseRejected, EventRejected, st.Status, fmt.Sprintf("Qovery refused the %s: an operation is in progress on *%s* (%s). Try again once it settles.", a.noun, Escape(op.ClusterName), stateName(st.Status)))
				return Reply{}, nil
			}
		}
	}
	uerr := qoveryError(a.noun+" the cluster", callErr)
	msg, _ := UserMessage(uerr)
	h.markRetryable(ctx, op.ID)
	h.finish(ctx, op.ID, PhaseRejected, EventRejected, "", msg+" Nothing was "+a.past+".")
	return Reply{}, uerr
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

// markRetryable records that the stop call failed without Qovery taking it, so that its final
// message offers to try again.
func (h *Handler) markRetryable(ctx context.Context, id uuid.UUID) {
	_, _ = h.store.Update(ctx, id, func(o *Operation) error { o.Retryable = true; return nil })
}

// Retry handles the "Try again" button of a call Qovery did not take: it makes a new request of the
// same verb for the same cluster on behalf of the clicker, with the usual checks and confirmation.
func (h *Handler) Retry(ctx context.Context, c Click) (Reply, error) {
	op, err := h.store.Get(ctx, c.Ref.OperationID)
	if err != nil || op.ClusterID != c.Ref.ClusterID || !op.Retryable {
		return h.clickRefusal(op, errUnknownRef)
	}
	return h.request(ctx, Request{ID: uuid.New(), UserID: c.UserID, ChannelID: op.ChannelID}, op.Action(), op.ClusterID.String())
}

// FollowUp handles the button of a successful operation's final message: Start again after a stop,
// Stop after a start. It makes a new request, with the usual checks and confirmation.
func (h *Handler) FollowUp(ctx context.Context, c Click) (Reply, error) {
	op, err := h.store.Get(ctx, c.Ref.OperationID)
	if err != nil || op.ClusterID != c.Ref.ClusterID || op.Phase != PhaseSucceeded {
		return h.clickRefusal(op, errUnknownRef)
	}
	return h.request(ctx, Request{ID: uuid.New(), UserID: c.UserID, ChannelID: op.ChannelID}, FollowUpVerb(op.Action()), op.ClusterID.String())
}

// FollowUpVerb is the verb offered after a successful one: start after stop, stop after start.
func FollowUpVerb(v Verb) Verb {
	if v == VerbStart {
		return VerbStop
	}
	return VerbStart
}

// Cancel handles a click on the Cancel button. The requester, or any allowed user, may cancel.
func (h *Handler) Cancel(ctx context.Context, c Click) (Reply, error) {
	op, err := h.checkClick(ctx, c, false)
	if err != nil {
		return h.clickRefusal(op, err)
	}
	if _, err := h.claim(ctx, c, PhaseCancelled); err != nil {
		return h.clickRefusal(op, err)
	}
	return Reply{}, nil
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
