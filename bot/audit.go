package bot

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/ops/metrics"
)

// Audit actions: one event per decision about an operation. Most are prefixed with the verb
// (stop_requested, start_requested); see [auditName].
const (
	auditRequested    = "requested"
	auditDenied       = "denied"
	auditConfirmed    = "confirmed"
	auditApproved     = "approved" // confirmed by someone other than the requester
	auditCancelled    = "cancelled"
	auditExpired      = "expired"
	auditVoided       = "voided"
	auditCalled       = "called" // the stop or deploy call to Qovery
	auditStateChanged = "state_changed"
	auditFinished     = "finished"
)

// auditName is the audit action of what happened to op: its verb, then what (stop_confirmed).
// State changes and Qovery's availability are not decisions and carry no verb.
func auditName(op commands.Operation, what string) string {
	switch what {
	case auditStateChanged, string(commands.EventQoveryUnreachable), string(commands.EventQoveryBack):
		return what
	}
	return string(op.Action()) + "_" + what
}

// Auditor writes the audit trail: one structured event per decision, each naming the request, the
// Slack team the app is installed in (team_id), the user and the user's own team (actor_team_id,
// once the bot has seen the user act), the channel, and the Qovery organization and cluster. main
// points it at a writer no log level filters and, with QOVERY_BOT_AUDIT_LOG, at a file of its own.
type Auditor struct {
	log     zerolog.Logger
	metrics *metrics.Metrics

	mu     sync.Mutex
	teamID string
	// actors are the teams of the users seen acting, by user id; see sawActor.
	actors map[string]actor
}

// maxActors bounds the users whose team the Auditor remembers; past it, it starts over.
const maxActors = 4096

// NewAuditor returns an Auditor writing to log and counting decisions in m (nil for none).
func NewAuditor(log zerolog.Logger, m *metrics.Metrics) *Auditor {
	return &Auditor{log: log, metrics: m}
}

func (a *Auditor) setTeam(teamID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.teamID = teamID
}

// sawActor records the team of a user who sent a command, a click or a submission, so that the
// audit events of what that user did name the user's team.
func (a *Auditor) sawActor(who actor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.actors == nil || len(a.actors) >= maxActors {
		a.actors = map[string]actor{}
	}
	a.actors[who.userID] = who
}

// event starts an audit event about op by userID (who acted; may be empty for the bot itself).
func (a *Auditor) event(action string, op commands.Operation, userID string) *zerolog.Event {
	a.mu.Lock()
	team := a.teamID
	who, known := a.actors[userID]
	a.mu.Unlock()
	e := a.log.Info().Str("audit", auditName(op, action)).Str("request_id", op.ID.String()).Str("team_id", team).
		Str("slack_user", userID)
	if known && userID != "" {
		e = e.Str("actor_team_id", who.teamID)
		if who.enterpriseID != "" {
			e = e.Str("actor_enterprise_id", who.enterpriseID)
		}
	}
	if op.Schedule != nil {
		e = e.Str("schedule_id", op.Schedule.ID)
	}
	return e.Str("channel", op.ChannelID).Str("org_id", op.OrganizationID.String()).
		Str("cluster_id", op.ClusterID.String()).Str("cluster", op.ClusterName).Str("requested_by", op.RequestedBy)
}

// Schedule implements commands.Audit: schedule_requested, schedule_created, schedule_cancelled,
// schedule_expired, schedule_unscheduled, schedule_heads_up, schedule_skipped and schedule_run (with
// its outcome).
func (a *Auditor) Schedule(ev commands.ScheduleEvent) {
	r := ev.Schedule
	a.mu.Lock()
	team := a.teamID
	a.mu.Unlock()
	e := a.log.Info().Str("audit", "schedule_"+ev.Action).Str("schedule_id", r.ID).Str("team_id", team).Str("slack_user", ev.By).
		Str("channel", r.ChannelID).Str("cluster_id", r.ClusterID.String()).Str("cluster", r.ClusterName).
		Str("verb", string(r.Verb)).Str("days", r.Days.String()).Str("time", fmt.Sprintf("%02d:%02d", r.Hour, r.Minute)).
		Str("zone", r.Zone).Str("created_by", r.CreatedBy)
	if !ev.At.IsZero() {
		e = e.Time("occurrence", ev.At)
	}
	if ev.Outcome != "" {
		e = e.Str("outcome", string(ev.Outcome))
	}
	if ev.Late > 0 {
		e = e.Dur("late", ev.Late)
	}
	if ev.Operation != uuid.Nil {
		e = e.Str("request_id", ev.Operation.String())
	}
	e.Msg("schedule " + strings.ReplaceAll(ev.Action, "_", " "))
}

var _ commands.Audit = (*Auditor)(nil)

// Requested implements commands.Audit.
func (a *Auditor) Requested(op commands.Operation) {
	a.event(auditRequested, op, op.RequestedBy).Str("message_ts", op.MessageTS).Str("state", string(op.StatusAtRequest)).
		Bool("production", op.Production).Bool("protected", op.Protected).Msg(string(op.Action()) + " requested")
}

// Denied implements commands.Audit. op may be partly empty when the refusal came before any
// request existed.
func (a *Auditor) Denied(op commands.Operation, by commands.Actor, reason string) {
	if op.ChannelID == "" {
		op.ChannelID = by.ChannelID
	}
	a.event(auditDenied, op, by.UserID).Str("reason", reason).Msg("request denied")
	a.metrics.Confirmation("denied")
}

// Event implements commands.Audit: it audits an event of an operation's life.
func (a *Auditor) Event(op commands.Operation, ev commands.Event) {
	switch ev.Kind {
	case commands.EventConfirmed:
		action := auditConfirmed
		if op.ConfirmedBy != op.RequestedBy {
			action = auditApproved
		}
		a.event(action, op, op.ConfirmedBy).Bool("protected", op.Protected).Msg("request confirmed")
		a.metrics.Confirmation("confirmed")
	case commands.EventCancelled:
		a.event(auditCancelled, op, op.FinishedBy).Msg("request cancelled")
		a.metrics.Confirmation("cancelled")
		a.metrics.OperationFinished(string(op.Action()), string(op.Phase), 0)
	case commands.EventExpired:
		a.event(auditExpired, op, "").Msg("request expired")
		a.metrics.Confirmation("expired")
		a.metrics.OperationFinished(string(op.Action()), string(op.Phase), 0)
	case commands.EventAccepted:
		e := a.event(auditCalled, op, op.ConfirmedBy).Bool("accepted", true).Str("state", string(ev.State))
		if op.CallHTTPStatus != 0 {
			e = e.Int("http_status", op.CallHTTPStatus)
		}
		e.Msg("call to Qovery")
	case commands.EventState:
		a.event(auditStateChanged, op, "").Str("state", string(ev.State)).Dur("elapsed", op.Elapsed(ev.At)).Msg("cluster state changed")
	case commands.EventLocked:
		// "lock_done": a lock is done at once, with nothing to confirm or follow.
		a.event("done", op, op.RequestedBy).Str("reason", op.Note.String()).Int("ttl_in_days", ev.Days).Msg("cluster locked")
		a.metrics.OperationFinished(string(op.Action()), string(op.Phase), 0)
	case commands.EventQoveryUnreachable, commands.EventQoveryBack:
		// Not a decision, but the trail shows why the watch went quiet.
		a.event(string(ev.Kind), op, "").Msg("qovery availability during the watch")
	case commands.EventVoided:
		a.event(auditVoided, op, op.ConfirmedBy).Str("state", string(ev.State)).Str("reason", op.Note.String()).Msg("request voided")
		a.finished(op)
	case commands.EventRejected:
		e := a.event(auditCalled, op, op.ConfirmedBy).Bool("accepted", false)
		if op.CallHTTPStatus != 0 {
			e = e.Int("http_status", op.CallHTTPStatus)
		}
		e.Msg("call to Qovery")
		a.finished(op)
	default:
		a.finished(op)
	}
}

func (a *Auditor) finished(op commands.Operation) {
	a.metrics.OperationFinished(string(op.Action()), string(op.Phase), op.Elapsed(op.FinishedAt))
	a.event(auditFinished, op, "").Str("outcome", string(op.Phase)).Str("state", string(op.State)).
		Str("confirmed_by", op.ConfirmedBy).Dur("duration", op.Elapsed(op.FinishedAt)).Msg("operation finished")
}
