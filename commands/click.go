package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Action ids of the buttons the bot puts on its messages; a button's value is the [ActionRef] of
// its operation.
const (
	ActionConfirm = "qovery_confirm"
	ActionCancel  = "qovery_cancel"
	// ActionRetry is on the final message of a call Qovery did not take.
	ActionRetry = "qovery_retry"
	// ActionFollowUp is on the final message of a successful stop (Start again) or start (Stop).
	ActionFollowUp = "qovery_follow_up"
)

// press is a click as the lifecycle sees it: which operation, who, and where.
type press struct {
	ref       ActionRef
	by        Actor
	messageTS string
	trigger   string
	// typed is set when the press comes with the cluster's name typed in the dialog of a
	// protected operation; typedName is what was typed.
	typed     bool
	typedName string
}

// Click handles a press on one of an operation's buttons; buttons of other apps are ignored. The
// clicker is told what came of it when the operation's message does not show it. The error it
// returns, if any, was already explained to them; it is for the caller's log.
func (h *Handler) Click(ctx context.Context, c Click) error {
	switch c.Action {
	case ActionConfirm, ActionCancel, ActionRetry, ActionFollowUp:
	case ActionScheduleCreate, ActionScheduleCancel, ActionScheduleSkip:
		return h.scheduleClick(ctx, c)
	default:
		return nil
	}
	ref, err := ParseActionRef(c.Value)
	if err != nil {
		// Not a value this bot wrote: refuse it, and say so in the audit trail.
		return h.answerPress(ctx, press{by: c.By}, nil, &DeniedError{Reason: "malformed_button_value", Err: err,
			Msg: Say("This button was not made by this bot, so it was ignored.")})
	}
	p := press{ref: ref, by: c.By, messageTS: c.MessageTS, trigger: c.Trigger}
	var text Text
	switch c.Action {
	case ActionConfirm:
		text, err = h.confirm(ctx, p)
	case ActionCancel:
		text, err = h.cancel(ctx, p)
	case ActionRetry:
		text, err = h.retry(ctx, p)
	case ActionFollowUp:
		text, err = h.followUp(ctx, p)
	}
	return h.answerPress(ctx, p, text, err)
}

// scheduleClick handles the buttons of schedule messages: Create schedule, Cancel, Skip this time.
func (h *Handler) scheduleClick(ctx context.Context, c Click) error {
	p := press{by: c.By, messageTS: c.MessageTS, trigger: c.Trigger}
	var text Text
	var err error
	switch c.Action {
	case ActionScheduleCreate:
		text, err = h.createSchedule(ctx, p, c.Value)
	case ActionScheduleCancel:
		text, err = h.cancelSchedule(ctx, p, c.Value)
	case ActionScheduleSkip:
		text, err = h.skipRun(ctx, p, c.Value)
	}
	return h.answerPress(ctx, p, text, err)
}

// answerPress tells the person who pressed what came of it, auditing denials.
func (h *Handler) answerPress(ctx context.Context, p press, text Text, err error) error {
	if err != nil {
		var denied *DeniedError
		if errors.As(err, &denied) {
			var op Operation
			if p.ref.OperationID != uuid.Nil {
				op, _ = h.store.Get(ctx, p.ref.OperationID)
			}
			h.audit.Denied(op, p.by, denied.Reason)
		}
		text, _ = UserMessage(err)
	}
	h.tell(ctx, p.by, text)
	return err
}

// typedNameLookup bounds the check of a typed name: it answers inside the dialog's acknowledgement,
// which Slack waits 3 seconds for.
const typedNameLookup = time.Second

// CheckTypedName checks the cluster name typed in the dialog of a protected operation. It returns
// what to tell the person under the input, or "" when the name is right and [Handler.SubmitTypedName]
// may go on. It reads only the store, so that the answer fits in the dialog's acknowledgement.
func (h *Handler) CheckTypedName(ctx context.Context, s Submission) string {
	ctx, cancel := context.WithTimeout(ctx, typedNameLookup)
	defer cancel()
	if id, ok := strings.CutPrefix(s.Value, scheduleValuePrefix); ok {
		return h.checkScheduleName(ctx, s, id)
	}
	ref, err := ParseActionRef(s.Value)
	if err != nil {
		h.audit.Denied(Operation{}, s.By, "typed_name_mismatch")
		return "This dialog was not made by this bot. Close it and run the command again."
	}
	op, err := h.store.Get(ctx, ref.OperationID)
	var problem string
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && op.ClusterID != ref.ClusterID):
		problem = "This request is unknown to the bot. Close this and run the command again."
	case err != nil:
		return "The bot could not check the name. Try again."
	case strings.TrimSpace(s.Typed) != op.ClusterName:
		problem = fmt.Sprintf("That is not the cluster's name. Type %s exactly to %s it.", op.ClusterName, op.Action())
	default:
		return ""
	}
	by := s.By
	by.ChannelID = op.ChannelID
	h.audit.Denied(op, by, "typed_name_mismatch")
	return problem
}

// SubmitTypedName confirms a protected operation whose name was typed right in its dialog (see
// [Handler.CheckTypedName]), as a click on its confirm button would.
func (h *Handler) SubmitTypedName(ctx context.Context, s Submission) error {
	if _, ok := strings.CutPrefix(s.Value, scheduleValuePrefix); ok {
		p := press{by: s.By, typed: true, typedName: s.Typed}
		text, err := h.createSchedule(ctx, p, s.Value)
		return h.answerPress(ctx, p, text, err)
	}
	ref, err := ParseActionRef(s.Value)
	if err != nil {
		return err // CheckTypedName refused it
	}
	op, err := h.store.Get(ctx, ref.OperationID)
	if err != nil {
		return fmt.Errorf("load operation %s: %w", ref.OperationID, err)
	}
	by := s.By
	by.ChannelID = op.ChannelID
	p := press{ref: ref, by: by, messageTS: op.MessageTS, typed: true, typedName: s.Typed}
	text, err := h.confirm(ctx, p)
	return h.answerPress(ctx, p, text, err)
}

// errNotPending carries the operation a click came too late for.
type errNotPending struct{ op Operation }

func (e *errNotPending) Error() string { return "operation is " + string(e.op.Phase) }

var (
	errExpired = errors.New("confirmation expired")
	// errUnknownRef means a button or dialog names no stored request for that cluster: a forged or
	// stale value, or a request from before a restart.
	errUnknownRef = errors.New("unknown request")
)

// checkPress loads the operation a press is about and checks that the person may act on it now:
// the reference matches, the request is still pending and not expired, the person is allowed,
// and, for a confirmation under four-eyes, they are not the requester.
func (h *Handler) checkPress(ctx context.Context, p press, confirming bool) (Operation, error) {
	op, err := h.store.Get(ctx, p.ref.OperationID)
	if errors.Is(err, ErrNotFound) || (err == nil && op.ClusterID != p.ref.ClusterID) {
		return Operation{}, errUnknownRef
	}
	if err != nil {
		return Operation{}, err
	}
	if op.Phase != PhasePending {
		return op, &errNotPending{op}
	}
	if !h.now().Before(op.ExpiresAt) {
		return h.expire(ctx, op, p)
	}
	if !confirming && p.by.UserID == op.RequestedBy {
		return op, nil // requesters may always withdraw their own request
	}
	if err := h.authorize(ctx, p.by.UserID, op.ChannelID); err != nil {
		return op, err
	}
	if confirming && op.NeedsSecondPerson && p.by.UserID == op.RequestedBy {
		return op, &DeniedError{Reason: DenyFourEyes, Msg: Say(Strong(op.ClusterName), " is protected and needs a second person: another allowed user must confirm this "+op.spec().noun+". You can still cancel it.")}
	}
	return op, nil
}

// expire ends a pending operation whose confirmation TTL has passed and reports errExpired.
func (h *Handler) expire(ctx context.Context, op Operation, p press) (Operation, error) {
	now := h.now()
	expired, err := h.change(ctx, nil, op.ID, func(o *Operation) (*Event, error) {
		if o.Phase != PhasePending {
			return nil, &errNotPending{*o}
		}
		if o.MessageTS == "" && p.messageTS != "" {
			o.ChannelID, o.MessageTS = p.by.ChannelID, p.messageTS
		}
		o.Phase, o.FinishedAt = PhaseExpired, now
		return &Event{Kind: EventExpired, At: now}, nil
	})
	if err != nil {
		return expired, err
	}
	return expired, errExpired
}

// claim moves a pending operation to next for the person who pressed, atomically: of two racing
// clicks, exactly one gets the operation. l is the operation's lease, when the caller holds it.
func (h *Handler) claim(ctx context.Context, l *Lease, p press, next Phase) (Operation, error) {
	now := h.now()
	return h.change(ctx, l, p.ref.OperationID, func(op *Operation) (*Event, error) {
		switch {
		case op.Phase != PhasePending:
			return nil, &errNotPending{*op}
		case !now.Before(op.ExpiresAt):
			return nil, errExpired // expired between the check and now; the sweep reports it
		}
		if op.MessageTS == "" && p.messageTS != "" {
			op.ChannelID, op.MessageTS = p.by.ChannelID, p.messageTS
		}
		op.Phase = next
		if next == PhaseConfirmed {
			op.ConfirmedBy, op.ConfirmedAt = p.by.UserID, now
			return &Event{Kind: EventConfirmed, At: now}, nil
		}
		op.FinishedBy, op.FinishedAt = p.by.UserID, now
		return &Event{Kind: EventCancelled, At: now}, nil
	})
}

// pressRefusal turns a refused press into the answer for the person who pressed. Denials stay
// errors, so that they are audited.
func pressRefusal(op Operation, err error) (Text, error) {
	var np *errNotPending
	switch {
	case errors.Is(err, errUnknownRef):
		return nil, &DeniedError{Reason: "unknown_request", Err: err, Msg: Say("This button does not belong to a request the bot knows (it may predate a restart). Run the command again.")}
	case errors.Is(err, errExpired):
		return Say("This request expired; nothing was done. Run ", runAgain(op), " again."), nil
	case errors.As(err, &np):
		return alreadyAnswered(np.op), nil
	}
	return nil, err
}

// runAgain is the command that asks for op once more.
func runAgain(op Operation) Span {
	return Code(CommandName + " " + string(op.Action()) + " " + op.ClusterName)
}

func alreadyAnswered(op Operation) Text {
	switch op.Phase {
	case PhaseCancelled:
		return Say("This request was already cancelled by ", User(op.FinishedBy), " at "+FormatTime(op.FinishedAt)+".")
	case PhaseExpired:
		return Say("This request expired at "+FormatTime(op.ExpiresAt)+"; nothing was done. Run ", runAgain(op), " again.")
	case PhaseDiscarded:
		return Say("This request was withdrawn. Run the command again.")
	}
	return Say("Already confirmed by ", User(op.ConfirmedBy), " at "+FormatTime(op.ConfirmedAt)+".")
}

// confirm handles a press on the confirm button: the first valid press wins, the status is
// checked again, Qovery is called, and the accepted operation is watched. A protected cluster
// first needs its name typed: the chat asks for it, and the answer comes back typed.
func (h *Handler) confirm(ctx context.Context, p press) (Text, error) {
	op, err := h.checkPress(ctx, p, true)
	if err != nil {
		return pressRefusal(op, err)
	}
	if op.Protected {
		if !p.typed {
			ask := NameAsk{Value: op.Ref().String(), Verb: op.Action(), ClusterName: op.ClusterName, Production: op.Production}
			if err := h.chat.AskTypedName(ctx, p.trigger, ask); err != nil {
				return nil, &UserError{Err: fmt.Errorf("open the typed confirmation: %w", err),
					Msg: Say(fmt.Sprintf("The bot could not open the confirmation dialog (Slack allows 3 seconds for it). Click %s cluster again.", strings.ToUpper(op.spec().noun[:1])+op.spec().noun[1:]))}
			}
			return nil, nil
		}
		if strings.TrimSpace(p.typedName) != op.ClusterName {
			return nil, &DeniedError{Reason: "wrong_name", Msg: Say("The typed name did not match the cluster's; nothing was done.")}
		}
	}
	// The call is made by the operation's carrier, under its lease, taken before the press is
	// claimed: another replica adopting unfinished work then never mistakes this confirmation for
	// one whose replica died before calling Qovery. A press on another replica waits for it, then
	// finds the request answered.
	var text Text
	var stepErr error
	err = h.carry(op.ID, true, func(l *Lease) {
		claimed, err := h.claim(ctx, l, p, PhaseConfirmed)
		if err != nil {
			text, stepErr = pressRefusal(claimed, err)
			return
		}
		text, stepErr = h.act(ctx, l, claimed)
	})
	if errors.Is(err, ErrLeaseHeld) {
		return Say("Another click on this request is still being handled; its outcome will show in the message."), nil
	}
	if err != nil {
		return nil, fmt.Errorf("take the lease of operation %s: %w", op.ID, err)
	}
	return text, stepErr
}

// cancel handles a press on the Cancel button. The requester, or any allowed user, may cancel.
func (h *Handler) cancel(ctx context.Context, p press) (Text, error) {
	op, err := h.checkPress(ctx, p, false)
	if err != nil {
		return pressRefusal(op, err)
	}
	if _, err := h.claim(ctx, nil, p, PhaseCancelled); err != nil {
		return pressRefusal(op, err)
	}
	return nil, nil
}

// retry handles the "Try again" button of a call Qovery did not take: it makes a new request of the
// same verb for the same cluster on behalf of the person, with the usual checks and confirmation.
func (h *Handler) retry(ctx context.Context, p press) (Text, error) {
	op, err := h.store.Get(ctx, p.ref.OperationID)
	if err != nil || op.ClusterID != p.ref.ClusterID || !op.Retryable {
		return pressRefusal(op, errUnknownRef)
	}
	return h.request(ctx, h.requestFrom(p, op), op.Action(), op.ClusterID.String())
}

// followUp handles the button of a successful operation's final message: Start again after a stop,
// Stop after a start. It makes a new request, with the usual checks and confirmation.
func (h *Handler) followUp(ctx context.Context, p press) (Text, error) {
	op, err := h.store.Get(ctx, p.ref.OperationID)
	if err != nil || op.ClusterID != p.ref.ClusterID || op.Phase != PhaseSucceeded {
		return pressRefusal(op, errUnknownRef)
	}
	return h.request(ctx, h.requestFrom(p, op), FollowUpVerb(op.Action()), op.ClusterID.String())
}

// requestFrom is the new request a press on an earlier operation's message makes, in that
// operation's channel.
func (h *Handler) requestFrom(p press, op Operation) Request {
	by := p.by
	by.ChannelID = op.ChannelID
	return Request{ID: uuid.New(), By: by}
}

// FollowUpVerb is the verb offered after a successful one: start after stop, stop after start.
func FollowUpVerb(v Verb) Verb {
	if v == VerbStart {
		return VerbStop
	}
	return VerbStart
}
