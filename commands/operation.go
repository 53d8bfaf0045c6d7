package commands

import (
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Phase is where a stop or start request stands in its lifecycle:
//
//	pending ─► confirmed ─► watching ─► succeeded | failed | not_started | timed_out | aborted
//	   │           └──────► void | rejected
//	   └─► cancelled | expired | discarded
//
// The values are stored and logged, so they are strings rather than iota.
type Phase string

// The phases of an [Operation].
const (
	// PhasePending: the confirmation message is out, waiting for a click.
	PhasePending Phase = "pending"
	// PhaseConfirmed: the requester clicked Stop (or Start); the bot is checking the status and calling Qovery.
	PhaseConfirmed Phase = "confirmed"
	// PhaseWatching: Qovery accepted the stop or start; the bot is watching the cluster.
	PhaseWatching Phase = "watching"

	PhaseSucceeded  Phase = "succeeded"   // the cluster reached the goal: STOPPED (stop) or DEPLOYED (start)
	PhaseFailed     Phase = "failed"      // the cluster reached a failure state
	PhaseNotStarted Phase = "not_started" // Qovery accepted the call but the cluster stayed as it was past the grace period
	PhaseTimedOut   Phase = "timed_out"   // the goal was still not reached when the watch timeout ran out
	PhaseAborted    Phase = "aborted"     // the watch ended without an answer (shutdown, token revoked, cluster gone)
	PhaseVoid       Phase = "void"        // confirmed, but the verb no longer applied to the cluster: nothing was called
	PhaseRejected   Phase = "rejected"    // Qovery refused or failed the stop or start call
	PhaseCancelled  Phase = "cancelled"   // the Cancel button
	PhaseExpired    Phase = "expired"     // nobody confirmed within the confirmation TTL
	PhaseDiscarded  Phase = "discarded"   // the confirmation message could not be posted
)

// IsActive reports whether an operation in this phase still holds its cluster: while it does, no
// second operation on the same cluster may begin.
func (p Phase) IsActive() bool {
	return p == PhasePending || p == PhaseConfirmed || p == PhaseWatching
}

// Operation is one stop or start request, from the slash command to its final state.
type Operation struct {
	ID uuid.UUID
	// Verb is what the operation does to the cluster: stop or start (see [Operation.Action]).
	Verb Verb

	OrganizationID uuid.UUID
	ClusterID      uuid.UUID
	ClusterName    string
	CloudProvider  string
	Region         string
	Production     bool
	// Protected clusters need their name typed to confirm, and a second person under four-eyes.
	Protected bool
	// NeedsSecondPerson is set under four-eyes: someone other than the requester must confirm.
	NeedsSecondPerson bool
	// StatusAtRequest is what the confirmation message showed the requester.
	StatusAtRequest qovery.State

	RequestedBy string // Slack user id
	ChannelID   string
	// MessageTS is the parent message that carries the buttons and, later, the live status.
	MessageTS   string
	RequestedAt time.Time
	ExpiresAt   time.Time

	Phase       Phase
	ConfirmedBy string
	ConfirmedAt time.Time
	// Retryable is set when the stop or start call failed without Qovery taking it: its final
	// message offers to try again.
	Retryable bool
	// CallHTTPStatus is the HTTP status Qovery answered the call with (0 when no answer came).
	CallHTTPStatus int
	// AcceptedAt is when Qovery accepted the call; elapsed times count from here.
	AcceptedAt time.Time
	// SeenActionPhase and UpSince are what the watch has learnt: whether a state showing the verb
	// under way was seen (before that, the state the cluster was in, DEPLOYED for a stop, is taken for
	// Qovery's stale answer), and since when the cluster has been seen unchanged. Kept so that a
	// watch resumed after a restart judges the same way.
	SeenActionPhase bool
	UpSince         time.Time
	// OutageSince is when Qovery stopped answering the watch (zero while it answers); OutageNoted
	// is set once the thread was told.
	OutageSince time.Time
	OutageNoted bool
	// State is the last cluster state the bot saw after the call was accepted.
	State           qovery.State
	LastExecutionID string
	FinishedAt      time.Time
	// FinishedBy is who ended a pending operation (cancel), when someone did.
	FinishedBy string
	// Note explains why a void, rejected or aborted operation ended that way.
	Note Text
	// ConsoleURL links to the cluster in the Qovery console.
	ConsoleURL string
	// Impact is what the operation takes down or brings back, shown on its confirmation.
	Impact Impact
	// Lock is the cluster's lock when the operation was requested, shown on an unlock's
	// confirmation.
	Lock *qovery.ClusterLock `json:",omitempty"`
	// Failure is why Qovery says a failed operation failed, from the cluster's logs.
	Failure *Failure `json:",omitempty"`
	// Schedule is set on an operation a schedule started: it needed no confirmation.
	Schedule *ScheduledRun `json:",omitempty"`

	// Call records the stop or start call around its side effect, so that a restart never sends it
	// twice.
	Call CallState
	// Notices is the operation's outbox: every event to show in Slack, in order, with how far its
	// delivery got. An event is recorded with the change that causes it and delivered afterwards, so
	// a crash in between loses nothing.
	Notices []Notice
}

// CallState is how far the stop or start call got.
type CallState string

// The states of the call.
const (
	CallNone     CallState = ""         // not made
	CallSending  CallState = "sending"  // about to be sent, or sent with no answer recorded
	CallAnswered CallState = "answered" // Qovery's answer (or its absence) was recorded
)

// NoticeState is how far the delivery of a [Notice] got.
type NoticeState string

// The delivery states of a notice.
const (
	NoticePending NoticeState = "pending" // recorded, not yet sent
	NoticeSending NoticeState = "sending" // a deliverer took it; it may or may not have reached Slack
	NoticePosted  NoticeState = "posted"  // Slack has it
	// NoticeAbandoned: Slack refused it maxDeliveryAttempts times (say, the channel was archived).
	NoticeAbandoned NoticeState = "abandoned"
)

// Notice is one event waiting for, or done with, delivery.
type Notice struct {
	Seq      int
	Event    Event
	State    NoticeState
	Attempts int
	// RetryAt is when a notice whose delivery failed is due to be tried again.
	RetryAt time.Time
}

// clone returns a copy of o that shares no memory with it.
func (o Operation) clone() Operation {
	o.Notices = append([]Notice(nil), o.Notices...)
	return o
}

// Settled reports whether nothing remains to do for the operation: it is final and every notice
// was delivered. Unsettled operations are resumed after a restart.
func (o *Operation) Settled() bool {
	if o.Phase.IsActive() {
		return false
	}
	for _, n := range o.Notices {
		if n.State != NoticePosted && n.State != NoticeAbandoned {
			return false
		}
	}
	return true
}

// Elapsed is the time since Qovery accepted the call, or zero before that.
func (o *Operation) Elapsed(now time.Time) time.Duration {
	if o.AcceptedAt.IsZero() {
		return 0
	}
	if !o.FinishedAt.IsZero() {
		now = o.FinishedAt
	}
	return now.Sub(o.AcceptedAt)
}

// EventKind says what just happened to an [Operation]; the [Chat] decides how to show it.
type EventKind string

// The events of an operation's life.
const (
	EventConfirmed  EventKind = "confirmed"   // the click was taken; Qovery is being called
	EventAccepted   EventKind = "accepted"    // Qovery accepted the stop or start
	EventState      EventKind = "state"       // the cluster moved to a new state
	EventSucceeded  EventKind = "succeeded"   // STOPPED (stop) or DEPLOYED (start)
	EventFailed     EventKind = "failed"      // a failure state
	EventNotStarted EventKind = "not_started" // unchanged after the grace period
	EventTimedOut   EventKind = "timed_out"   // watch timeout
	EventAborted    EventKind = "aborted"     // watch ended without an answer
	EventVoided     EventKind = "voided"      // the verb no longer applied at confirmation
	EventRejected   EventKind = "rejected"    // the stop or start call failed
	EventCancelled  EventKind = "cancelled"
	EventExpired    EventKind = "expired"
	// EventLocked is a cluster locked from Slack (a `lock`, done at once, with no operation to
	// follow); it is only audited.
	EventLocked EventKind = "locked"
	// EventQoveryUnreachable and EventQoveryBack bracket a lasting Qovery outage during a watch.
	EventQoveryUnreachable EventKind = "qovery_unreachable"
	EventQoveryBack        EventKind = "qovery_back"
)

// IsFinal reports whether the event ends the operation.
func (k EventKind) IsFinal() bool {
	switch k {
	case EventConfirmed, EventAccepted, EventState, EventQoveryUnreachable, EventQoveryBack:
		return false
	}
	return true
}

// Event is one change to an operation, delivered with the operation as it stands after the change.
type Event struct {
	Kind  EventKind
	State qovery.State
	At    time.Time
	// Since is when what the event ends began (the outage of EventQoveryBack).
	Since time.Time
	// Days is how long a lock lasts (EventLocked); 0 until unlocked.
	Days int `json:",omitempty"`
}
