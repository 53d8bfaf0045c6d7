// Package commands is what the bot does, independent of Slack: it parses `/qovery <verb> <cluster>`,
// answers the read-only verbs, locks clusters, and owns each stop, start or unlock from the request
// to its final message: the confirmation, the call to Qovery, the watch of the cluster to a final
// state, expiry, and the adoption of work a previous run or another replica left. It reaches
// Qovery through [Qovery], people through [Chat] and the audit trail through [Audit], all declared
// here where they are used. What it says is [Text], which the chat renders.
package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Qovery is the part of *qovery.Client that commands need.
type Qovery interface {
	Clusters(ctx context.Context, orgID uuid.UUID) ([]qovery.Cluster, error)
	ClusterStatus(ctx context.Context, orgID, clusterID uuid.UUID) (*qovery.ClusterStatus, error)
	StopCluster(ctx context.Context, orgID, clusterID uuid.UUID) (*qovery.ActionResponse, error)
	DeployCluster(ctx context.Context, orgID, clusterID uuid.UUID) (*qovery.ActionResponse, error)
	Insight
	Locker
}

// Config tunes a [Handler].
type Config struct {
	OrganizationID   uuid.UUID
	OrganizationName string
	// PollInterval is the time between two status reads while an operation is watched.
	PollInterval time.Duration
	// WatchTimeout bounds how long an operation is watched before the bot gives up.
	WatchTimeout time.Duration
	// ConfirmTTL is how long a confirmation message stays actionable.
	ConfirmTTL time.Duration
	// StaleGrace is how long the old state (DEPLOYED after a stop, STOPPED after a start) may still
	// be reported after Qovery accepted the call before the bot concludes nothing began: right after
	// a call, Qovery can return the old state.
	StaleGrace time.Duration
	// OutageNotice is how long Qovery may fail to answer a watch before the thread is told.
	OutageNotice time.Duration
	// Policy says who may stop and start what.
	Policy Policy
	// Statuses streams the statuses of watched clusters; nil polls each watched cluster every
	// PollInterval.
	Statuses Statuses
	// Leases decide which replica carries each piece of work forward; nil means a lone replica
	// ([LocalLeases]).
	Leases Leases
	// Durable says the store survives restarts. Then a watch cut short by a shutdown is left for
	// the next run to adopt; otherwise the thread is told the bot stopped watching.
	Durable bool
	// ExpirySweep is how often [Handler.Run] expires the confirmations nobody answered. Default 15s.
	ExpirySweep time.Duration
	// AdoptEvery is how often [Handler.Run] looks for operations nobody carries forward (a replica
	// died), besides start-up and every lease handed back. Default 3s.
	AdoptEvery time.Duration
	// Now is the clock; tests replace it. Nil means time.Now.
	Now func() time.Time
	// Log is where the work nobody's click carries (watches, expiry, adoption) reports problems.
	Log zerolog.Logger
	// Metrics counts watches; nil counts nothing.
	Metrics Metrics
	// InsightBudget bounds the reads of what a cluster runs and costs before a confirmation.
	// Default DefaultInsightBudget.
	InsightBudget time.Duration
	// ReadCacheTTL is how long list, status and name resolution reuse what Qovery answered.
	// Default DefaultReadCacheTTL.
	ReadCacheTTL time.Duration
	// ReadBurst and ReadEvery throttle each user's list and status. Defaults DefaultReadBurst and
	// DefaultReadEvery.
	ReadBurst int
	ReadEvery time.Duration
	// Zone is the time zone of a schedule made without tz (QOVERY_BOT_TIMEZONE). Nil means UTC.
	Zone *time.Location
	// ScheduleNotice is how long before a scheduled run its heads-up is posted. Zero means
	// DefaultScheduleNotice; negative, no heads-up.
	ScheduleNotice time.Duration
	// ScheduleGrace is how late a run missed while the bot was down may still be made. Default
	// DefaultScheduleGrace.
	ScheduleGrace time.Duration
	// ScheduleTick is how often the scheduler looks for what is due. Default DefaultScheduleTick.
	ScheduleTick time.Duration
}

// Defaults used when a [Config] field is zero.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultWatchTimeout = 4 * time.Hour
	DefaultConfirmTTL   = 10 * time.Minute
	DefaultStaleGrace   = 2 * time.Minute
	DefaultOutageNotice = 2 * time.Minute
	DefaultExpirySweep  = 15 * time.Second
	DefaultAdoptEvery   = 3 * time.Second
)

// Handler handles slash commands, button clicks and dialog submissions, and carries every
// operation forward. Its methods are safe for concurrent use; [Handler.Run] runs the work that is
// nobody's click (watches, expiry, adoption) and returns once all of it has stopped.
type Handler struct {
	q        Qovery
	chat     Chat
	audit    Audit
	store    Store
	groups   Groups
	statuses Statuses
	cfg      Config
	leases   Leases
	// clusterList caches the organization's clusters, statusCache their statuses, for the
	// read-only verbs and name resolution; readers throttles each user's read-only verbs.
	clusterList listCache
	statusCache statusCache
	readers     readThrottle
	// impacts caches what clusters run and cost, for confirmations.
	impacts impactCache
	// watches are the watches under way; Run waits for them. watchesUnderWay counts them for Busy.
	watches         sync.WaitGroup
	watchesUnderWay atomic.Int64

	mu sync.Mutex
	// carriers carry the operations whose lease this process holds (carrier.go); orgWatch is the
	// organization's watch lease when this replica holds it; watching are the operations this
	// process watches.
	carriers map[uuid.UUID]*carrier
	// noCarriers is closed when the last carrier ends (nil while there is none).
	noCarriers chan struct{}
	orgWatch   *Lease
	watching   map[uuid.UUID]bool
	// running is the context of Run while it runs (watches run under it); nil before and after.
	// ran is set once Run has returned.
	running context.Context
	ran     bool
}

// NewHandler returns a Handler acting on cfg.OrganizationID. groups resolves the user groups of
// cfg.Policy; it may be nil when the policy names none.
func NewHandler(q Qovery, chat Chat, audit Audit, store Store, groups Groups, cfg Config) (*Handler, error) {
	if q == nil || chat == nil || audit == nil || store == nil {
		return nil, errors.New("commands: NewHandler needs a Qovery client, a chat, an audit trail and a store")
	}
	if len(cfg.Policy.Groups) > 0 && groups == nil {
		return nil, errors.New("commands: the policy names user groups but no way to resolve them was given")
	}
	if cfg.OrganizationID == uuid.Nil {
		return nil, errors.New("commands: an organization id is required")
	}
	defaults := []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&cfg.PollInterval, DefaultPollInterval}, {&cfg.WatchTimeout, DefaultWatchTimeout},
		{&cfg.ConfirmTTL, DefaultConfirmTTL}, {&cfg.StaleGrace, DefaultStaleGrace},
		{&cfg.OutageNotice, DefaultOutageNotice}, {&cfg.ExpirySweep, DefaultExpirySweep},
		{&cfg.AdoptEvery, DefaultAdoptEvery}, {&cfg.ReadCacheTTL, DefaultReadCacheTTL},
		{&cfg.ReadEvery, DefaultReadEvery}, {&cfg.InsightBudget, DefaultInsightBudget},
		{&cfg.ScheduleGrace, DefaultScheduleGrace}, {&cfg.ScheduleTick, DefaultScheduleTick},
	}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ScheduleNotice == 0 {
		cfg.ScheduleNotice = DefaultScheduleNotice
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.ReadBurst <= 0 {
		cfg.ReadBurst = DefaultReadBurst
	}
	statuses := cfg.Statuses
	if statuses == nil {
		statuses = pollEach{q: q, org: cfg.OrganizationID, every: cfg.PollInterval}
	}
	leases := cfg.Leases
	if leases == nil {
		leases = NewLocalLeases()
	}
	return &Handler{q: q, chat: chat, audit: audit, store: store, groups: groups, statuses: statuses, cfg: cfg, leases: leases,
		clusterList: listCache{ttl: cfg.ReadCacheTTL, now: cfg.Now},
		statusCache: statusCache{ttl: cfg.ReadCacheTTL, now: cfg.Now},
		impacts:     impactCache{ttl: cfg.ReadCacheTTL},
		readers:     readThrottle{every: cfg.ReadEvery, burst: cfg.ReadBurst},
		carriers:    map[uuid.UUID]*carrier{}, watching: map[uuid.UUID]bool{}}, nil
}

// Request is one slash command invocation.
type Request struct {
	// ID identifies the request in logs and becomes the operation id of a stop or start.
	ID uuid.UUID
	By Actor
	// Text is what followed the command name.
	Text string
}

// Click is a press on one of an operation's buttons.
type Click struct {
	// Action is the button's action id (ActionConfirm, ActionCancel, ActionRetry, ActionFollowUp)
	// and Value its value, the [ActionRef] the bot wrote.
	Action, Value string
	By            Actor
	// MessageTS is the message clicked. A click can arrive before the handler has recorded where
	// the confirmation was posted; the click itself says where it is.
	MessageTS string
	// Trigger lets the chat open a dialog for the person who clicked (Slack's trigger_id).
	Trigger string
}

// Submission is the dialog of a protected operation, submitted with the cluster's name typed.
type Submission struct {
	// Value is what the dialog carries: the [ActionRef] the bot wrote.
	Value string
	By    Actor
	Typed string
}

// UserError is a failure with a message that is useful to show the user; Err keeps the detail for
// the log.
type UserError struct {
	Msg Text
	Err error
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Msg.String()
	}
	return e.Err.Error()
}

func (e *UserError) Unwrap() error { return e.Err }

// UserMessage returns the text to show a user for err, and whether err was expected (bad input or a
// known upstream problem) rather than a bug.
func UserMessage(err error) (msg Text, expected bool) {
	var ue *UsageError
	if errors.As(err, &ue) {
		return ue.Msg, true
	}
	var uerr *UserError
	if errors.As(err, &uerr) {
		return uerr.Msg, true
	}
	var denied *DeniedError
	if errors.As(err, &denied) {
		return denied.Msg, true
	}
	var throttled *ThrottledError
	if errors.As(err, &throttled) {
		return throttledText, true
	}
	return Say("Something went wrong on the bot's side; the error is in its log. Please try again."), false
}

// Handle answers one slash command: the answer goes to the person who typed it, and a stop or
// start request posts its confirmation in the channel. The error it returns, if any, was already
// explained to that person; it is for the caller's log ([Expected] tells a refusal from a fault).
func (h *Handler) Handle(ctx context.Context, req Request) error {
	text, err := h.handle(ctx, req)
	if err != nil {
		var denied *DeniedError
		if errors.As(err, &denied) {
			verb := Verb("")
			if cmd, perr := Parse(req.Text); perr == nil {
				verb = cmd.Verb
			}
			h.audit.Denied(Operation{ID: req.ID, OrganizationID: h.cfg.OrganizationID, Verb: verb}, req.By, denied.Reason)
		}
		text, _ = UserMessage(err)
	}
	h.tell(ctx, req.By, text)
	return err
}

func (h *Handler) handle(ctx context.Context, req Request) (Text, error) {
	cmd, err := Parse(req.Text)
	if err != nil {
		return nil, err
	}
	switch cmd.Verb {
	case VerbList, VerbStatus, VerbSchedules:
		if !h.readers.allow(req.By.UserID, h.now()) {
			return nil, &ThrottledError{UserID: req.By.UserID}
		}
	}
	switch cmd.Verb {
	case VerbList:
		return h.list(ctx)
	case VerbStatus:
		return h.status(ctx, cmd.Cluster)
	case VerbStop, VerbStart, VerbUnlock:
		return h.request(ctx, req, cmd.Verb, cmd.Cluster)
	case VerbLock:
		return h.lock(ctx, req, cmd)
	case VerbSchedule:
		return h.scheduleRequest(ctx, req, cmd)
	case VerbSchedules:
		return h.schedules(ctx)
	case VerbUnschedule:
		return h.unschedule(ctx, req, cmd.ScheduleID)
	default:
		return Usage(), nil
	}
}

// tell shows text to one person, on a fresh short context: it often follows a failure of ctx's
// work, and the person must still learn what happened.
func (h *Handler) tell(ctx context.Context, to Actor, text Text) {
	if text.IsZero() {
		return
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tellTimeout)
	defer cancel()
	_ = h.chat.Tell(tctx, to, text) // the chat logs its own failures
}

// tellTimeout bounds an answer to one person.
const tellTimeout = 5 * time.Second

// Expected reports whether err, returned by a Handler method, is a refusal or a known upstream
// problem (bad input, a denial, Qovery unavailable) rather than a fault of the bot.
func Expected(err error) bool {
	_, expected := UserMessage(err)
	return expected
}

func (h *Handler) now() time.Time { return h.cfg.Now() }

// opLog is the log of one operation's work.
func (h *Handler) opLog(op Operation) *zerolog.Logger {
	l := h.cfg.Log.With().Str("request_id", op.ID.String()).Str("cluster_id", op.ClusterID.String()).
		Str("org_id", op.OrganizationID.String()).Str("channel", op.ChannelID).Logger()
	return &l
}

// qoveryError turns a Qovery failure into a message for the user, naming what the bot was doing.
func qoveryError(doing string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var qe *qovery.Error
	var msg Text
	switch {
	case qovery.IsUnauthorized(err):
		msg = Say("The bot's Qovery API token is invalid or revoked, so it cannot "+doing+". An admin must set a valid ", Code("QOVERY_API_TOKEN"), ".")
	case qovery.IsForbidden(err):
		msg = Say("Qovery refused access (403) when the bot tried to " + doing + ": its token lacks the rights for this, or the cluster is not in this organization.")
	case qovery.IsNotFound(err):
		msg = Say("Qovery did not find what the bot asked for (404) when trying to " + doing + ".")
	case errors.As(err, &qe) && !qe.Temporary(): // Qovery refused the request itself
		msg = Say(fmt.Sprintf("Qovery answered %d when the bot tried to %s", qe.StatusCode, doing))
		if qe.Message != "" {
			msg = Say(msg, ": "+qe.Message)
		}
		msg = Say(msg, ".")
	default:
		msg = Say("Qovery is unavailable right now, so the bot could not " + doing + ". Try again in a minute.")
	}
	return &UserError{Msg: msg, Err: fmt.Errorf("%s: %w", doing, err)}
}
