// Package commands is what the bot does, independent of Slack: it parses `/qovery <verb> <cluster>`,
// answers the read-only verbs, and runs a stop request through its lifecycle (confirmation, the stop
// call, watching the cluster to a final state). It reaches Qovery through the [Qovery] interface and
// reports progress through the [Notifier] interface, both declared here where they are used. Reply
// texts are Slack mrkdwn, escaped with [Escape]; what a user typed is repeated with [Echo].
package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Qovery is the part of *qovery.Client that commands need.
type Qovery interface {
	Clusters(ctx context.Context, orgID uuid.UUID) ([]qovery.Cluster, error)
	ClusterStatus(ctx context.Context, orgID, clusterID uuid.UUID) (*qovery.ClusterStatus, error)
	StopCluster(ctx context.Context, orgID, clusterID uuid.UUID) (*qovery.ActionResponse, error)
	DeployCluster(ctx context.Context, orgID, clusterID uuid.UUID) (*qovery.ActionResponse, error)
}

// Notifier shows operation changes to people: in Slack, it edits the parent message and posts to its
// thread. Notices come from the operation's outbox; the Notifier reports its own failures.
type Notifier interface {
	// Notify shows one notice of op.
	Notify(ctx context.Context, op Operation, n Notice) error
	// Delivered reports whether a notice whose delivery was cut short by a crash reached people
	// anyway, so that a restart neither loses nor repeats it.
	Delivered(ctx context.Context, op Operation, n Notice) (bool, error)
	// Permalink returns a link to a message, so that a second request can point to the first.
	Permalink(ctx context.Context, channelID, ts string) (string, error)
}

// Config tunes a [Handler].
type Config struct {
	OrganizationID   uuid.UUID
	OrganizationName string
	// PollInterval is the time between two status reads while a stop is watched.
	PollInterval time.Duration
	// WatchTimeout bounds how long a stop is watched before the bot gives up.
	WatchTimeout time.Duration
	// ConfirmTTL is how long a confirmation message stays actionable.
	ConfirmTTL time.Duration
	// StaleGrace is how long DEPLOYED may still be reported after Qovery accepted a stop before the
	// bot concludes the stop did not start: right after an action, Qovery can return the old state.
	StaleGrace time.Duration
	// OutageNotice is how long Qovery may fail to answer a watch before the thread is told.
	OutageNotice time.Duration
	// Policy says who may stop what.
	Policy Policy
	// Statuses streams the statuses of watched clusters; nil polls each watched cluster every
	// PollInterval.
	Statuses Statuses
	// Leases decide which replica carries each piece of work forward; nil means a lone replica
	// ([LocalLeases]).
	Leases Leases
	// Durable says the store survives restarts. Then a watch cut short by a shutdown is left for
	// [Handler.Resume]; otherwise the thread is told the bot stopped watching.
	Durable bool
	// Now is the clock; tests replace it. Nil means time.Now.
	Now func() time.Time
}

// Defaults used when a [Config] field is zero.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultWatchTimeout = 4 * time.Hour
	DefaultConfirmTTL   = 10 * time.Minute
	DefaultStaleGrace   = 2 * time.Minute
	DefaultOutageNotice = 2 * time.Minute
)

// Handler handles slash commands and button clicks. Its methods are synchronous and safe for
// concurrent use; Watch blocks for as long as a stop is watched, and the caller owns that goroutine.
type Handler struct {
	q        Qovery
	n        Notifier
	store    Store
	groups   Groups
	statuses Statuses
	cfg      Config
	leases   Leases
	// clusterList caches the organization's clusters for resolving names.
	clusterList listCache

	mu sync.Mutex
	// held are the operation leases this process holds; orgWatch is the organization's watch lease
	// when this replica holds it; watching are the operations this process watches.
	held     map[uuid.UUID]*holding
	orgWatch *Lease
	watching map[uuid.UUID]bool
}

// NewHandler returns a Handler acting on cfg.OrganizationID. groups resolves the user groups of
// cfg.Policy; it may be nil when the policy names none.
func NewHandler(q Qovery, n Notifier, store Store, groups Groups, cfg Config) (*Handler, error) {
	if q == nil || n == nil || store == nil {
		return nil, errors.New("commands: NewHandler needs a Qovery client, a notifier and a store")
	}
	if len(cfg.Policy.Groups) > 0 && groups == nil {
		return nil, errors.New("commands: the policy names user groups but no way to resolve them was given")
	}
	if cfg.OrganizationID == uuid.Nil {
		return nil, errors.New("commands: an organization id is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.WatchTimeout <= 0 {
		cfg.WatchTimeout = DefaultWatchTimeout
	}
	if cfg.ConfirmTTL <= 0 {
		cfg.ConfirmTTL = DefaultConfirmTTL
	}
	if cfg.StaleGrace <= 0 {
		cfg.StaleGrace = DefaultStaleGrace
	}
	if cfg.OutageNotice <= 0 {
		cfg.OutageNotice = DefaultOutageNotice
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	statuses := cfg.Statuses
	if statuses == nil {
		statuses = pollEach{q: q, org: cfg.OrganizationID, every: cfg.PollInterval}
	}
	leases := cfg.Leases
	if leases == nil {
		leases = NewLocalLeases()
	}
	return &Handler{q: q, n: n, store: store, groups: groups, statuses: statuses, cfg: cfg, leases: leases,
		held: map[uuid.UUID]*holding{}, watching: map[uuid.UUID]bool{}}, nil
}

// Request is one slash command invocation.
type Request struct {
	// ID identifies the request in logs and becomes the operation id of a stop.
	ID        uuid.UUID
	UserID    string
	ChannelID string
	// Text is what followed the command name.
	Text string
}

// Click is a press on one of an operation's buttons, or the submission of its confirmation modal.
type Click struct {
	Ref    ActionRef
	UserID string
	// ChannelID and MessageTS locate the message clicked. A click can arrive before Attach has
	// recorded where the confirmation was posted; the click itself says where it is.
	ChannelID, MessageTS string
	// Typed is set when the click comes with the cluster name typed in the confirmation modal of a
	// protected cluster; TypedName is what was typed.
	Typed     bool
	TypedName string
}

// Reply is what the bot answers. Text, when set, goes only to the person who acted (ephemeral).
type Reply struct {
	Text string
	// Confirm, when set, is a new pending operation: post its confirmation message, then call
	// [Handler.Attach] with the message's timestamp, or [Handler.Discard] if it cannot be posted.
	Confirm *Operation
	// Watch, when set, is an operation Qovery accepted: run [Handler.Watch] for it.
	Watch *Operation
	// TypeName, when set, is a protected operation whose stop needs its cluster name typed: ask the
	// clicker for it, check it with [Handler.TypedNameProblem], then call Confirm with Typed set.
	TypeName *Operation
}

// UserError is a failure with a message that is safe and useful to show the user; Err keeps the
// detail for the log.
type UserError struct {
	Msg string
	Err error
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Err.Error()
}

func (e *UserError) Unwrap() error { return e.Err }

// UserMessage returns the text to show a user for err, and whether err was expected (bad input or a
// known upstream problem) rather than a bug.
func UserMessage(err error) (msg string, expected bool) {
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
	return "Something went wrong on the bot's side; the error is in its log. Please try again.", false
}

// Handle answers one slash command.
func (h *Handler) Handle(ctx context.Context, req Request) (Reply, error) {
	cmd, err := Parse(req.Text)
	if err != nil {
		return Reply{}, err
	}
	switch cmd.Verb {
	case VerbList:
		return h.list(ctx)
	case VerbStatus:
		return h.status(ctx, cmd.Cluster)
	case VerbStop, VerbStart:
		return h.request(ctx, req, cmd.Verb, cmd.Cluster)
	default:
		return Reply{Text: Usage()}, nil
	}
}

func (h *Handler) now() time.Time { return h.cfg.Now() }

// LeaseReleases signals, coalesced, that a lease was handed back somewhere in the fleet: the moment
// to call [Handler.Adopt].
func (h *Handler) LeaseReleases() <-chan struct{} { return h.leases.Released() }

// qoveryError turns a Qovery failure into a message for the user, naming what the bot was doing.
func qoveryError(doing string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var qe *qovery.Error
	var msg string
	switch {
	case errors.As(err, &qe) && qe.StatusCode == 401:
		msg = "The bot's Qovery API token is invalid or revoked, so it cannot " + doing + ". An admin must set a valid `QOVERY_API_TOKEN`."
	case errors.As(err, &qe) && qe.StatusCode == 403:
		msg = "Qovery refused access (403) when the bot tried to " + doing + ": its token lacks the rights for this, or the cluster is not in this organization."
	case errors.As(err, &qe) && qe.StatusCode == 404:
		msg = "Qovery did not find what the bot asked for (404) when trying to " + doing + "."
	case errors.As(err, &qe) && qe.StatusCode >= 400 && qe.StatusCode < 500 && qe.StatusCode != 429:
		msg = fmt.Sprintf("Qovery answered %d when the bot tried to %s", qe.StatusCode, doing)
		if qe.Message != "" {
			msg += ": " + Escape(qe.Message)
		}
		msg += "."
	default:
		msg = "Qovery is unavailable right now, so the bot could not " + doing + ". Try again in a minute."
	}
	return &UserError{Msg: msg, Err: fmt.Errorf("%s: %w", doing, err)}
}
