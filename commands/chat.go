package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Chat is how the handler speaks to people. The bot implements it over Slack: what to say, and
// when, is decided here; how it looks is decided there.
type Chat interface {
	// PostConfirmation posts the confirmation message of a pending operation in its channel and
	// returns the message's timestamp. It returns an error matching [ErrCannotPost] when the
	// channel does not take the bot's messages.
	PostConfirmation(ctx context.Context, op Operation) (ts string, err error)
	// Notify shows one notice of op: a reply in the thread of its message when the event
	// deserves one, and the message itself kept current. Nothing is shown for an operation whose
	// message was never posted.
	Notify(ctx context.Context, op Operation, n Notice) error
	// Delivered reports whether a notice whose delivery was cut short by a crash reached people
	// anyway, so that a restart neither loses nor repeats it.
	Delivered(ctx context.Context, op Operation, n Notice) (bool, error)
	// Permalink returns a link to a message, so that a second request can point to the first.
	Permalink(ctx context.Context, channelID, ts string) (string, error)
	// Announce posts text in a channel, for everyone there. It returns an error matching
	// [ErrCannotPost] when the channel does not take the bot's messages.
	Announce(ctx context.Context, channelID string, text Text) error
	// Tell shows text to one person only.
	Tell(ctx context.Context, to Actor, text Text) error
	// AskTypedName asks the person behind trigger to type a protected cluster's name (a dialog);
	// their answer comes back through [Handler.CheckTypedName] and [Handler.SubmitTypedName].
	AskTypedName(ctx context.Context, trigger string, ask NameAsk) error
	// PostSchedule posts a message about a schedule in its channel and returns the message's
	// timestamp; an error matching [ErrCannotPost] when the channel does not take the bot's
	// messages.
	PostSchedule(ctx context.Context, m ScheduleMessage) (ts string, err error)
	// EditSchedule shows m in place of the message at ts, in m's schedule's channel.
	EditSchedule(ctx context.Context, ts string, m ScheduleMessage) error
}

// NameAsk is what the dialog asking for a protected cluster's name shows, and what it carries back.
type NameAsk struct {
	// Value comes back as [Submission.Value].
	Value       string
	Verb        Verb
	ClusterName string
	Production  bool
	// Schedule is set when the name creates a schedule rather than confirming an operation now.
	Schedule bool
}

// ScheduleMessageKind says which message about a schedule to show.
type ScheduleMessageKind string

// The messages about a schedule.
const (
	// ScheduleAsk asks to confirm a new schedule: Create schedule / Cancel.
	ScheduleAsk ScheduleMessageKind = "ask"
	// ScheduleCreated, ScheduleAskCancelled and ScheduleAskExpired replace the ask once answered.
	ScheduleCreated      ScheduleMessageKind = "created"
	ScheduleAskCancelled ScheduleMessageKind = "cancelled"
	ScheduleAskExpired   ScheduleMessageKind = "expired"
	// ScheduleHeadsUp says a run is coming, with Skip this time; ScheduleSkipped replaces it once
	// someone skipped that run.
	ScheduleHeadsUp ScheduleMessageKind = "heads_up"
	ScheduleSkipped ScheduleMessageKind = "skipped"
	// ScheduleHeadsUpDone replaces a heads-up once its time has come: no more Skip.
	ScheduleHeadsUpDone ScheduleMessageKind = "heads_up_done"
)

// ScheduleMessage is a message about a schedule, for the chat to render.
type ScheduleMessage struct {
	Kind     ScheduleMessageKind
	Schedule ScheduleRecord
	// At is the run the message is about: the next one (ask, created), or the coming one
	// (heads-up, skipped).
	At time.Time
	// By is who cancelled the schedule or skipped the run.
	By string
	// Value is what the message's buttons carry back (Create schedule and Cancel, or Skip this time).
	Value string
}

// ErrCannotPost means the chat does not take the bot's messages in a channel: the bot is not a
// member, or the channel is a direct message. [Chat] implementations wrap it.
var ErrCannotPost = errors.New("the bot cannot post in this channel")

// Actor is the person behind a command or a click, and where an answer for them alone goes.
type Actor struct {
	UserID    string
	ChannelID string
	// ReplyTo is the chat's own way back to this person for this one action (Slack's
	// response_url); empty when there is none. The handler only hands it back to [Chat.Tell].
	ReplyTo string
}

// Audit keeps the trail of every decision about an operation: who asked, who was refused and why,
// who confirmed or cancelled, and how it ended.
type Audit interface {
	// Requested records a new request, once its confirmation is out.
	Requested(op Operation)
	// Denied records a refusal. op may be empty when nothing was requested yet.
	Denied(op Operation, by Actor, reason string)
	// Event records one step of an operation's life, once.
	Event(op Operation, ev Event)
	// Schedule records one step of a schedule's life: made, removed, a heads-up, a run's outcome.
	Schedule(e ScheduleEvent)
}

// ScheduleEvent is one step of a schedule's life, for the audit trail.
type ScheduleEvent struct {
	// Action is what happened: requested, created, cancelled, expired, unscheduled, heads_up,
	// skipped, or run (see Outcome).
	Action   string
	Schedule ScheduleRecord
	// By is who did it, when a person did.
	By string
	// At is the occurrence the event is about (heads_up, skipped, run); Late how late it ran.
	At      time.Time
	Late    time.Duration
	Outcome RunOutcome
	// Operation is the operation a run started.
	Operation uuid.UUID
}
