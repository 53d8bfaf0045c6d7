package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// The scheduler runs the active schedules. One replica at a time does, under the schedules lease
// (the same [Leases] as the rest of the work); whatever it does to an occurrence is first claimed
// in the store ([ScheduleStore.ClaimOccurrence]), so that across restarts, replicas and a lease
// changing hands, each heads-up is posted once and each occurrence is run, skipped or reported
// missed once. A run is an operation like a confirmed stop or start, posted in the schedule's
// channel; from there the operation's own lifecycle (lease, call, watch, thread) carries it.

// RunOutcome is what became of one occurrence of a schedule, for metrics and the audit trail.
type RunOutcome string

// The outcomes of an occurrence.
const (
	RunStarted RunOutcome = "run"     // the operation began (on time or late within the grace)
	RunSkipped RunOutcome = "skipped" // someone pressed Skip this time
	RunMissed  RunOutcome = "missed"  // the bot was down past the grace: nothing was done
	RunDenied  RunOutcome = "denied"  // the schedule's creator is no longer allowed
	RunNoNeed  RunOutcome = "not_needed"
	// RunBlocked: the cluster was locked, busy, gone, or in a state the verb does not apply to.
	RunBlocked RunOutcome = "blocked"
	RunFailed  RunOutcome = "failed" // the bot could not read the cluster or post the run
	// runElsewhere: another replica is making the run (only across a takeover); nothing to record.
	runElsewhere RunOutcome = ""
)

// Defaults of the scheduler's settings.
const (
	DefaultScheduleNotice = 15 * time.Minute
	DefaultScheduleTick   = 5 * time.Second
	// missedLookback is how far back a scheduler starting up looks for occurrences nobody dealt
	// with (the bot was down): older ones are not reported.
	missedLookback = 24 * time.Hour
)

// runTimeout bounds the start of one run: the checks, its message and the call to Qovery.
const runTimeout = time.Minute

// onTime is how late a run may begin and still be on time: the scheduler looks every few seconds,
// and a run is said to be late only when the bot was not running at its time.
const onTime = time.Minute

// noticeSuffix names the heads-up of an occurrence in the store, beside the occurrence itself.
const noticeSuffix = "/heads-up"

func schedulesLeaseName(org uuid.UUID) string { return "schedules/" + org.String() }

// scheduler is the state of [Handler.runSchedules], used by its goroutine only.
type scheduler struct {
	lease *Lease
	// headsUps are the messages of the heads-ups this scheduler posted, by occurrence
	// (OccurrenceKey), so that the run takes the Skip button off.
	headsUps map[string]string
	// checked is, per schedule, up to when its occurrences were dealt with; noticed, the
	// occurrence whose heads-up was dealt with.
	checked map[string]time.Time
	noticed map[string]time.Time
}

func newScheduler() *scheduler {
	return &scheduler{checked: map[string]time.Time{}, noticed: map[string]time.Time{}, headsUps: map[string]string{}}
}

// runSchedules runs the scheduler until ctx ends, every ScheduleTick.
func (h *Handler) runSchedules(ctx context.Context) {
	s := newScheduler()
	t := time.NewTicker(h.cfg.ScheduleTick)
	defer t.Stop()
	defer func() {
		if s.lease != nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			defer cancel()
			_ = s.lease.Release(ctx)
		}
	}()
	for {
		if err := h.scheduleTick(ctx, s); err != nil && ctx.Err() == nil {
			h.cfg.Log.Error().Err(err).Msg("run schedules")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scheduleTick does what is due now, when this replica holds the schedules lease.
func (h *Handler) scheduleTick(ctx context.Context, s *scheduler) error {
	if s.lease != nil {
		select {
		case <-s.lease.Lost():
			s.lease = nil
			h.cfg.Log.Warn().Msg("this replica no longer runs the schedules (its lease was lost); another replica takes over")
		default:
		}
	}
	if s.lease == nil {
		l, err := h.leases.Acquire(ctx, schedulesLeaseName(h.cfg.OrganizationID))
		if errors.Is(err, ErrLeaseHeld) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("take the schedules lease: %w", err)
		}
		// Start afresh: another replica may have dealt with what this one remembers.
		*s = *newScheduler()
		s.lease = l
		h.cfg.Log.Info().Msg("this replica now runs the schedules")
	}
	list, err := h.store.Schedules(ctx)
	if err != nil {
		return fmt.Errorf("list schedules: %w", err)
	}
	now := h.now()
	active := 0
	var runs errgroup.Group
	for _, r := range list {
		switch {
		case r.State == SchedulePending && !now.Before(r.ExpiresAt):
			h.expireSchedule(ctx, r)
			continue
		case r.State == ScheduleCancelled || r.State == ScheduleExpired:
			h.removeEnded(ctx, r.ID)
			continue
		case r.State != ScheduleActive:
			continue
		}
		active++
		h.headsUp(ctx, s, r, now)
		since, ok := s.checked[r.ID]
		if !ok {
			since = r.ActiveSince
			if since.IsZero() {
				since = r.CreatedAt
			}
			if back := now.Add(-missedLookback); since.Before(back) {
				since = back
			}
		}
		due := scheduleOf(r).DueBetween(since, now, h.cfg.ScheduleGrace)
		if len(due) > 1 { // down for long: report the last missed one, not each
			due = due[len(due)-1:]
		}
		for _, d := range due {
			key := OccurrenceKey(r.ID, d.At)
			headsUp := s.headsUps[key]
			delete(s.headsUps, key)
			runs.Go(func() error {
				dealt, err := h.occur(ctx, r, d)
				if headsUp != "" && dealt {
					h.editSchedule(ctx, headsUp, ScheduleMessage{Kind: ScheduleHeadsUpDone, Schedule: r, At: d.At})
				}
				return err
			})
		}
		s.checked[r.ID] = now
	}
	h.cfg.Metrics.Schedules(active)
	if err := runs.Wait(); err != nil {
		// What could not be claimed is tried again at the next tick.
		for _, r := range list {
			delete(s.checked, r.ID)
		}
		return err
	}
	kept := make(map[string]bool, len(list))
	for _, r := range list {
		kept[r.ID] = true
	}
	for id := range s.checked {
		if !kept[id] { // removed: forget it
			delete(s.checked, id)
			delete(s.noticed, id)
		}
	}
	return nil
}

// headsUp posts the heads-up of r's next occurrence once it is within ScheduleNotice.
func (h *Handler) headsUp(ctx context.Context, s *scheduler, r ScheduleRecord, now time.Time) {
	if h.cfg.ScheduleNotice < 0 {
		return
	}
	at := scheduleOf(r).Next(now)
	if at.Sub(now) > h.cfg.ScheduleNotice || s.noticed[r.ID].Equal(at) {
		return
	}
	won, err := h.store.ClaimOccurrence(ctx, r.ID+noticeSuffix, at, "heads_up")
	if err != nil {
		h.cfg.Log.Error().Err(err).Str("schedule_id", r.ID).Msg("claim a heads-up")
		return // tried again at the next tick
	}
	s.noticed[r.ID] = at
	if !won {
		return
	}
	m := ScheduleMessage{Kind: ScheduleHeadsUp, Schedule: r, At: at, Value: OccurrenceKey(r.ID, at)}
	ts, err := h.chat.PostSchedule(ctx, m)
	if err != nil {
		h.cfg.Log.Error().Err(err).Str("schedule_id", r.ID).Str("channel", r.ChannelID).Msg("post a heads-up")
	} else {
		s.headsUps[m.Value] = ts
	}
	h.audit.Schedule(ScheduleEvent{Action: "heads_up", Schedule: r, At: at})
}

// occur deals with one occurrence that has come: it runs it, or reports it missed, once. It
// reports whether this call dealt with it (false when it was skipped or dealt with elsewhere).
func (h *Handler) occur(ctx context.Context, r ScheduleRecord, d Due) (bool, error) {
	claim := OccurrenceRun
	if d.Missed {
		claim = OccurrenceMissed
	}
	won, err := h.store.ClaimOccurrence(ctx, r.ID, d.At, claim)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", OccurrenceKey(r.ID, d.At), err)
	}
	if !won {
		// Skipped, or dealt with by another replica or a previous run; unless a previous run
		// claimed it to run and died before the run's operation existed: that run is made now
		// (or reported missed), once, as the operation's id is the occurrence's.
		interrupted, err := h.interruptedRun(ctx, r, d)
		if err != nil || !interrupted {
			return false, err
		}
		h.opLog(Operation{ID: runID(r, d.At), OrganizationID: h.cfg.OrganizationID, ClusterID: r.ClusterID}).Warn().
			Str("schedule_id", r.ID).Msg("a run claimed before a restart never began; taking it up")
	}
	if d.Missed {
		h.runOver(ctx, r, d, RunMissed, Say(Icon("warning"), " The scheduled "+string(r.Verb)+" of ", Strong(r.ClusterName), " at "+FormatRun(d.At, r)+
			" (schedule ", Code(r.ID), ") was missed: the bot was not running then, and it is back "+FormatDuration(d.Late)+" later, past the "+
			FormatDuration(h.cfg.ScheduleGrace)+" grace. Nothing was done; run ", Code(CommandName+" "+string(r.Verb)+" "+r.ClusterName), " if it is still needed."), uuid.Nil)
		return true, nil
	}
	// Once claimed, the run is made even if the bot is shutting down meanwhile: as for a click's
	// work, a shutdown waits for it rather than cutting a stop call in the middle.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runTimeout)
	defer cancel()
	outcome, why, opID := h.startRun(ctx, r, d)
	if outcome == runElsewhere {
		return false, nil
	}
	if outcome != RunStarted {
		h.runOver(ctx, r, d, outcome, Say(Icon("no_entry_sign"), " The scheduled "+string(r.Verb)+" of ", Strong(r.ClusterName), " at "+FormatRun(d.At, r)+
			" (schedule ", Code(r.ID), ", by ", User(r.CreatedBy), ") did not run: ", why), opID)
		return true, nil
	}
	h.runOver(ctx, r, d, outcome, nil, opID)
	return true, nil
}

// runOver records what became of an occurrence, and tells the schedule's channel when said is
// not empty.
func (h *Handler) runOver(ctx context.Context, r ScheduleRecord, d Due, outcome RunOutcome, said Text, opID uuid.UUID) {
	h.audit.Schedule(ScheduleEvent{Action: "run", Schedule: r, At: d.At, Late: d.Late, Outcome: outcome, Operation: opID})
	h.cfg.Metrics.ScheduleRun(string(outcome))
	if said.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := h.chat.Announce(ctx, r.ChannelID, said); err != nil {
		h.cfg.Log.Error().Err(err).Str("schedule_id", r.ID).Str("channel", r.ChannelID).Msg("tell the channel about a scheduled run")
	}
}

// scheduleNamespace makes the id of a scheduled run's operation from its occurrence, so that the
// store refuses a second operation for one occurrence whatever else failed.
var scheduleNamespace = uuid.MustParse("0b9c1f53-2f55-4c8e-9d7c-5a0c3e1f7a21")

// runID is the id of the operation of an occurrence.
func runID(r ScheduleRecord, at time.Time) uuid.UUID {
	return uuid.NewSHA1(scheduleNamespace, []byte(OccurrenceKey(r.ID, at)))
}

// interruptedRun reports whether the occurrence was claimed to run and its operation never
// created.
func (h *Handler) interruptedRun(ctx context.Context, r ScheduleRecord, d Due) (bool, error) {
	outcome, err := h.store.Occurrence(ctx, r.ID, d.At)
	if err != nil || outcome != OccurrenceRun {
		return false, ignoreNotFound(err)
	}
	_, err = h.store.Get(ctx, runID(r, d.At))
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	return false, err
}

func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// startRun starts the operation of an occurrence, with the checks of a person's stop or start:
// the creator is still allowed, the cluster exists and its state allows the verb, no other
// operation holds it. It returns why it did not start, when it did not.
func (h *Handler) startRun(ctx context.Context, r ScheduleRecord, d Due) (RunOutcome, Text, uuid.UUID) {
	a := specOf(r.Verb)
	if err := h.authorize(ctx, r.CreatedBy, r.ChannelID); err != nil {
		msg, _ := UserMessage(err)
		var denied *DeniedError
		reason := "unknown"
		if errors.As(err, &denied) {
			reason = denied.Reason
		}
		h.audit.Denied(Operation{OrganizationID: h.cfg.OrganizationID, ClusterID: r.ClusterID, ClusterName: r.ClusterName, Verb: r.Verb},
			Actor{UserID: r.CreatedBy, ChannelID: r.ChannelID}, reason)
		return RunDenied, Say("its creator may no longer do this. The bot told them: “", msg, "” Someone allowed can make a new schedule, and ",
			Code(CommandName+" unschedule "+r.ID), " removes this one."), uuid.Nil
	}
	c, err := h.findCluster(ctx, r.ClusterID.String())
	if err != nil {
		msg, _ := UserMessage(err)
		return RunBlocked, msg, uuid.Nil
	}
	st, err := h.q.ClusterStatus(ctx, h.cfg.OrganizationID, c.ID)
	if err != nil {
		msg, _ := UserMessage(qoveryError("read the cluster's status", err))
		return RunFailed, msg, uuid.Nil
	}
	if why := a.refusal(c.Name, st); !why.IsZero() {
		if a.done(st.Status) {
			return RunNoNeed, why, uuid.Nil
		}
		return RunBlocked, why, uuid.Nil
	}
	now := h.now()
	late := d.Late
	if late < onTime {
		late = 0
	}
	op := Operation{
		ID:   runID(r, d.At),
		Verb: r.Verb, OrganizationID: h.cfg.OrganizationID,
		ClusterID: c.ID, ClusterName: c.Name, CloudProvider: c.CloudProvider, Region: c.Region, Production: c.Production,
		Protected: h.cfg.Policy.IsProtected(c.Name, c.Production), StatusAtRequest: st.Status,
		RequestedBy: r.CreatedBy, ChannelID: r.ChannelID, RequestedAt: now, ExpiresAt: now,
		Phase: PhaseConfirmed, ConfirmedBy: r.CreatedBy, ConfirmedAt: now,
		ConsoleURL: qovery.ConsoleClusterURL(h.cfg.OrganizationID, c.ID),
		Schedule:   &ScheduledRun{ID: r.ID, At: d.At, Late: late, When: scheduleOf(r).Describe(), Zone: r.Zone},
		Notices:    []Notice{{Seq: 1, Event: Event{Kind: EventConfirmed, At: now}, State: NoticePending}},
	}
	// The operation's carrier takes its lease before the operation exists, so that no adoption
	// takes this confirmed operation for one whose replica died before calling Qovery.
	outcome, why, opID := RunStarted, Text(nil), op.ID
	err = h.carry(op.ID, false, func(l *Lease) {
		outcome, why, opID = h.makeRun(ctx, l, op)
	})
	if errors.Is(err, ErrLeaseHeld) {
		return runElsewhere, nil, op.ID // another replica is making this run
	}
	if err != nil {
		return RunFailed, Say("the bot could not take the run's lease; see its log."), uuid.Nil
	}
	return outcome, why, opID
}

// makeRun records the operation of a run, posts its message in the schedule's channel and calls
// Qovery, in the operation's carrier, under its lease l.
func (h *Handler) makeRun(ctx context.Context, l *Lease, op Operation) (RunOutcome, Text, uuid.UUID) {
	a := op.spec()
	if err := h.store.Create(ctx, op); err != nil {
		var busy *BusyError
		if errors.As(err, &busy) {
			if busy.Existing.ID == op.ID {
				return runElsewhere, nil, op.ID
			}
			return RunBlocked, h.busyText(ctx, busy.Existing), uuid.Nil
		}
		if _, gerr := h.store.Get(ctx, op.ID); gerr == nil {
			return runElsewhere, nil, op.ID // made already
		}
		h.opLog(op).Error().Err(err).Msg("record a scheduled run")
		return RunFailed, Say("the bot could not record the run; see its log."), uuid.Nil
	}
	ts, err := h.chat.PostConfirmation(ctx, op)
	if err != nil {
		note := Say("Not "+a.past+": the bot could not post the run's message in ", Channel(op.ChannelID), ", and does not act where nobody can follow.")
		h.finish(ctx, l, op.ID, PhaseVoid, EventVoided, "", note)
		return RunFailed, note, op.ID
	}
	if _, err := h.recordMessage(ctx, l, op.ID, op.ChannelID, ts); err != nil { // ctx outlives a shutdown (occur)
		h.opLog(op).Error().Err(err).Msg("record a scheduled run's message")
	}
	h.deliverHeld(ctx, l, op.ID)
	op.MessageTS = ts
	h.audit.Requested(op)
	if _, err := h.act(ctx, l, op); err != nil {
		h.opLog(op).Info().Err(err).Msg("scheduled run refused")
	}
	return RunStarted, nil, op.ID
}
