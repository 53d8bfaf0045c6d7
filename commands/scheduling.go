package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The life of a schedule from Slack: `/qovery schedule …` records it pending and posts its
// confirmation; Create schedule makes it active (after the typed name, for a protected cluster);
// Cancel, or nobody answering within ConfirmTTL, ends it. `/qovery schedules` lists the active
// ones and `/qovery unschedule <id>` removes one. What runs them is scheduler.go.

// Action ids of the buttons on schedule messages. Create schedule and Cancel carry
// [scheduleValuePrefix] and the schedule's id; Skip this time carries the occurrence
// ([OccurrenceKey]).
const (
	ActionScheduleCreate = "qovery_schedule_create"
	ActionScheduleCancel = "qovery_schedule_cancel"
	ActionScheduleSkip   = "qovery_schedule_skip"
)

// scheduleValuePrefix marks the values of a schedule's confirmation buttons and typed-name dialog.
const scheduleValuePrefix = "schedule:"

// ScheduledRun is what an operation a schedule started keeps of it.
type ScheduledRun struct {
	ID string
	// At is the occurrence it ran for; Late is how long after At it began (0 when on time).
	At   time.Time
	Late time.Duration
	// When describes the schedule: "every weekday at 19:00 Europe/Paris".
	When string
	// Zone is the schedule's zone (an IANA name).
	Zone string `json:",omitempty"`
}

// LocalAt renders At in the schedule's zone: "19:00 CET".
func (r ScheduledRun) LocalAt() string {
	loc, err := time.LoadLocation(r.Zone)
	if err != nil {
		loc = time.UTC
	}
	return r.At.In(loc).Format("15:04 MST")
}

// zone is the zone of a schedule made without tz.
func (h *Handler) zone() *time.Location {
	if h.cfg.Zone != nil {
		return h.cfg.Zone
	}
	return time.UTC
}

// scheduleOf is the schedule a record runs; an unknown zone (removed from the time zone database)
// falls back to UTC, and the record says which zone it meant.
func scheduleOf(r ScheduleRecord) Schedule {
	loc, err := time.LoadLocation(r.Zone)
	if err != nil {
		loc = time.UTC
	}
	days := r.Days
	if days == 0 {
		days = Daily
	}
	return Schedule{Verb: r.Verb, Cluster: r.ClusterName, Hour: r.Hour, Minute: r.Minute, Days: days, Zone: loc}
}

// FormatRun renders an occurrence in its schedule's zone: "Mon 7 Dec 19:00 CET".
func FormatRun(at time.Time, r ScheduleRecord) string {
	return at.In(scheduleOf(r).Zone).Format("Mon 2 Jan 15:04 MST")
}

// ScheduleText says what a schedule does and when it runs next: "Every weekday at 19:00
// Europe/Paris: stop *staging*. Next: Mon 7 Dec 19:00 CET".
func ScheduleText(r ScheduleRecord, next time.Time) Text {
	when := scheduleOf(r).Describe()
	return Say(strings.ToUpper(when[:1])+when[1:]+": "+string(r.Verb)+" ", Strong(r.ClusterName), ". Next: "+FormatRun(next, r))
}

// scheduleRequest records a new schedule, pending, and posts its confirmation in the channel.
func (h *Handler) scheduleRequest(ctx context.Context, req Request, cmd Command) (Text, error) {
	if err := h.authorize(ctx, req.By.UserID, req.By.ChannelID); err != nil {
		return nil, err
	}
	c, err := h.findCluster(ctx, cmd.Schedule.Cluster)
	if err != nil {
		return nil, err
	}
	sched := cmd.Schedule
	if sched.Zone == nil {
		sched.Zone = h.zone()
	}
	now := h.now()
	r := ScheduleRecord{
		ID: shortID(req), Verb: sched.Verb, ClusterID: c.ID, ClusterName: c.Name,
		Hour: sched.Hour, Minute: sched.Minute, Days: sched.Days, Zone: sched.Zone.String(),
		CreatedBy: req.By.UserID, ChannelID: req.By.ChannelID, CreatedAt: now,
		State: SchedulePending, ExpiresAt: now.Add(h.cfg.ConfirmTTL),
		Protected: h.cfg.Policy.IsProtected(c.Name, c.Production), Production: c.Production,
	}
	if err := h.store.AddSchedule(ctx, r); err != nil {
		return nil, fmt.Errorf("record schedule %s: %w", r.ID, err)
	}
	ts, err := h.chat.PostSchedule(ctx, ScheduleMessage{Kind: ScheduleAsk, Schedule: r, At: sched.Next(now), Value: scheduleValuePrefix + r.ID})
	// What follows must happen whatever became of the post: never on the request's context.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err != nil {
		if _, rerr := h.store.RemoveSchedule(ctx, r.ID); rerr != nil {
			err = errors.Join(err, fmt.Errorf("withdraw the schedule: %w", rerr))
		}
		msg := Say("The bot could not post the schedule's confirmation, so no schedule was made. Please try again.")
		if errors.Is(err, ErrCannotPost) {
			msg = Say("The bot is not a member of this channel, so it cannot post the schedule's confirmation, nor its runs later. Invite it with ",
				Code("/invite @Qovery"), " (or the app's name in your workspace) and run the command again. No schedule was made.")
		}
		return nil, &UserError{Msg: msg, Err: err}
	}
	r, err = h.store.UpdateSchedule(ctx, r.ID, func(s *ScheduleRecord) error {
		if s.MessageTS == "" {
			s.MessageTS = ts
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) { // not found: cancelled already
		return nil, fmt.Errorf("record the schedule's confirmation message: %w", err)
	}
	h.audit.Schedule(ScheduleEvent{Action: "requested", Schedule: r, By: req.By.UserID})
	return nil, nil
}

// shortID is the id people type to name a schedule: 8 hex digits of the request's id.
func shortID(req Request) string {
	return strings.ReplaceAll(req.ID.String(), "-", "")[:8]
}

var errScheduleAnswered = errors.New("schedule already answered")

// scheduleByID returns the schedule with that id, or ErrNotFound.
func (h *Handler) scheduleByID(ctx context.Context, id string) (ScheduleRecord, error) {
	list, err := h.store.Schedules(ctx)
	if err != nil {
		return ScheduleRecord{}, err
	}
	for _, r := range list {
		if r.ID == id {
			return r, nil
		}
	}
	return ScheduleRecord{}, ErrNotFound
}

// scheduleAnswered tells a person pressing a schedule's button that it was answered already.
func scheduleAnswered(r ScheduleRecord) Text {
	switch r.State {
	case ScheduleActive:
		return Say("This schedule was already created (", Code(r.ID), ") by ", User(r.ConfirmedBy), ". ", Code(CommandName+" unschedule "+r.ID), " removes it.")
	case ScheduleExpired:
		return Say("This schedule request expired; nothing was scheduled. Run the command again.")
	}
	return Say("This schedule request was cancelled; nothing was scheduled.")
}

// requestedSchedule loads the schedule a button of its confirmation names. When there is none, it
// returns what to tell the person who pressed.
func (h *Handler) requestedSchedule(ctx context.Context, value string) (ScheduleRecord, Text, error) {
	id, ok := strings.CutPrefix(value, scheduleValuePrefix)
	if !ok {
		return ScheduleRecord{}, nil, &DeniedError{Reason: "malformed_button_value", Msg: Say("This button was not made by this bot, so it was ignored.")}
	}
	r, err := h.scheduleByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return r, Say("This schedule request is gone: it was cancelled or expired. Nothing was scheduled."), nil
	}
	if err != nil {
		return r, nil, fmt.Errorf("load schedule %s: %w", id, err)
	}
	return r, nil, nil
}

// createSchedule handles Create schedule: the schedule becomes active, after the typed name for a
// protected cluster. The same people who may stop clusters may create schedules.
func (h *Handler) createSchedule(ctx context.Context, p press, value string) (Text, error) {
	r, gone, err := h.requestedSchedule(ctx, value)
	if err != nil || !gone.IsZero() {
		return gone, err
	}
	id := r.ID
	if r.State != SchedulePending {
		return scheduleAnswered(r), nil
	}
	if !h.now().Before(r.ExpiresAt) {
		h.expireSchedule(ctx, r)
		return Say("This schedule request expired; nothing was scheduled. Run the command again."), nil
	}
	if err := h.authorize(ctx, p.by.UserID, r.ChannelID); err != nil {
		return nil, err
	}
	if r.Protected && h.cfg.Policy.FourEyes && p.by.UserID == r.CreatedBy {
		return nil, &DeniedError{Reason: DenyFourEyes, Msg: Say(Strong(r.ClusterName), " is protected and needs a second person: another allowed user must create this schedule. You can still cancel it.")}
	}
	if r.Protected {
		if !p.typed {
			ask := NameAsk{Value: value, Verb: r.Verb, ClusterName: r.ClusterName, Production: r.Production, Schedule: true}
			if err := h.chat.AskTypedName(ctx, p.trigger, ask); err != nil {
				return nil, &UserError{Err: fmt.Errorf("open the typed confirmation: %w", err),
					Msg: Say("The bot could not open the confirmation dialog (Slack allows 3 seconds for it). Click Create schedule again.")}
			}
			return nil, nil
		}
		if strings.TrimSpace(p.typedName) != r.ClusterName {
			return nil, &DeniedError{Reason: "wrong_name", Msg: Say("The typed name did not match the cluster's; nothing was scheduled.")}
		}
	}
	now := h.now()
	r, err = h.store.UpdateSchedule(ctx, id, func(s *ScheduleRecord) error {
		if s.State != SchedulePending || !now.Before(s.ExpiresAt) {
			return errScheduleAnswered
		}
		s.State, s.ConfirmedBy, s.ActiveSince = ScheduleActive, p.by.UserID, now
		if s.MessageTS == "" {
			s.MessageTS = p.messageTS
		}
		return nil
	})
	switch {
	case errors.Is(err, errScheduleAnswered) && r.State == SchedulePending:
		h.expireSchedule(ctx, r)
		return Say("This schedule request expired; nothing was scheduled. Run the command again."), nil
	case errors.Is(err, errScheduleAnswered):
		return scheduleAnswered(r), nil
	case err != nil:
		return nil, fmt.Errorf("create schedule %s: %w", id, err)
	}
	h.audit.Schedule(ScheduleEvent{Action: "created", Schedule: r, By: p.by.UserID})
	h.editSchedule(ctx, r.MessageTS, ScheduleMessage{Kind: ScheduleCreated, Schedule: r, At: scheduleOf(r).Next(now), By: p.by.UserID})
	return nil, nil
}

// cancelSchedule handles Cancel on a schedule's confirmation: its requester, or anyone allowed.
func (h *Handler) cancelSchedule(ctx context.Context, p press, value string) (Text, error) {
	r, gone, err := h.requestedSchedule(ctx, value)
	if err != nil || !gone.IsZero() {
		return gone, err
	}
	id := r.ID
	if p.by.UserID != r.CreatedBy {
		if err := h.authorize(ctx, p.by.UserID, r.ChannelID); err != nil {
			return nil, err
		}
	}
	r, err = h.store.UpdateSchedule(ctx, id, func(s *ScheduleRecord) error {
		if s.State != SchedulePending {
			return errScheduleAnswered
		}
		s.State = ScheduleCancelled
		return nil
	})
	if errors.Is(err, errScheduleAnswered) {
		return scheduleAnswered(r), nil
	}
	if err != nil {
		return nil, fmt.Errorf("cancel schedule %s: %w", id, err)
	}
	h.audit.Schedule(ScheduleEvent{Action: "cancelled", Schedule: r, By: p.by.UserID})
	ts := r.MessageTS
	if ts == "" {
		ts = p.messageTS
	}
	h.editSchedule(ctx, ts, ScheduleMessage{Kind: ScheduleAskCancelled, Schedule: r, By: p.by.UserID})
	h.removeEnded(ctx, r.ID)
	return nil, nil
}

// expireSchedule ends a pending schedule nobody confirmed in time and says so on its message.
func (h *Handler) expireSchedule(ctx context.Context, r ScheduleRecord) {
	now := h.now()
	r, err := h.store.UpdateSchedule(ctx, r.ID, func(s *ScheduleRecord) error {
		if s.State != SchedulePending || now.Before(s.ExpiresAt) {
			return errScheduleAnswered
		}
		s.State = ScheduleExpired
		return nil
	})
	if err != nil {
		return
	}
	h.audit.Schedule(ScheduleEvent{Action: "expired", Schedule: r})
	h.editSchedule(ctx, r.MessageTS, ScheduleMessage{Kind: ScheduleAskExpired, Schedule: r})
	h.removeEnded(ctx, r.ID)
}

// removeEnded removes a cancelled or expired schedule request, once its message says so; the
// scheduler removes those a crash left.
func (h *Handler) removeEnded(ctx context.Context, id string) {
	if _, err := h.store.RemoveSchedule(context.WithoutCancel(ctx), id); err != nil && !errors.Is(err, ErrNotFound) {
		h.cfg.Log.Warn().Err(err).Str("schedule_id", id).Msg("remove an ended schedule request")
	}
}

// editSchedule edits a schedule's message; a failed edit is logged (the store has the truth).
func (h *Handler) editSchedule(ctx context.Context, ts string, m ScheduleMessage) {
	if ts == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := h.chat.EditSchedule(ctx, ts, m); err != nil {
		h.cfg.Log.Warn().Err(err).Str("schedule_id", m.Schedule.ID).Str("channel", m.Schedule.ChannelID).Msg("edit a schedule's message")
	}
}

// schedules lists the active schedules for `/qovery schedules`.
func (h *Handler) schedules(ctx context.Context) (Text, error) {
	list, err := h.store.Schedules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	now := h.now()
	var lines []Text
	for _, r := range list {
		if r.State != ScheduleActive {
			continue
		}
		lines = append(lines, Say("• ", Code(r.ID), " ", ScheduleText(r, scheduleOf(r).Next(now)), " · by ", User(r.CreatedBy), " in ", Channel(r.ChannelID)))
	}
	if len(lines) == 0 {
		return Say("No schedules yet. Make one with ", Code(CommandName+" schedule stop staging at 19:00 on weekdays tz Europe/Paris"), "."), nil
	}
	head := Say(Strong(fmt.Sprintf("%d schedules", len(lines))), " (", Code(CommandName+" unschedule <id>"), " removes one):")
	if len(lines) == 1 {
		head = Say(Strong("1 schedule"), " (", Code(CommandName+" unschedule <id>"), " removes it):")
	}
	return Lines(append([]Text{head}, lines...)...), nil
}

// unschedule removes a schedule, for someone allowed to stop clusters, and says so in the
// schedule's channel.
func (h *Handler) unschedule(ctx context.Context, req Request, id string) (Text, error) {
	if err := h.authorize(ctx, req.By.UserID, req.By.ChannelID); err != nil {
		return nil, err
	}
	r, err := h.store.RemoveSchedule(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Say("There is no schedule ", Typed(id), ". ", Code(CommandName+" schedules"), " lists them with their ids."), nil
	}
	if err != nil {
		return nil, fmt.Errorf("remove schedule %s: %w", id, err)
	}
	h.audit.Schedule(ScheduleEvent{Action: "unscheduled", Schedule: r, By: req.By.UserID})
	said := Say(Icon("wastebasket"), " ", User(req.By.UserID), " removed schedule ", Code(r.ID), ": ", ScheduleText(r, scheduleOf(r).Next(h.now())), " will not happen.")
	if r.State != ScheduleActive {
		h.editSchedule(ctx, r.MessageTS, ScheduleMessage{Kind: ScheduleAskCancelled, Schedule: r, By: req.By.UserID})
		return Say("Removed the schedule request ", Code(r.ID), "; it had not been created."), nil
	}
	if err := h.chat.Announce(ctx, r.ChannelID, said); err != nil {
		return Say("Removed schedule ", Code(r.ID), ". The bot could not say so in ", Channel(r.ChannelID), "."), nil
	}
	if req.By.ChannelID == r.ChannelID {
		return nil, nil
	}
	return Say("Removed schedule ", Code(r.ID), "; ", Channel(r.ChannelID), " was told."), nil
}

// checkScheduleName is [Handler.CheckTypedName] for the dialog of a schedule's creation.
func (h *Handler) checkScheduleName(ctx context.Context, s Submission, id string) string {
	r, err := h.scheduleByID(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return "This schedule request is gone: it was cancelled or expired. Close this and run the command again."
	case err != nil:
		return "The bot could not check the name. Try again."
	case strings.TrimSpace(s.Typed) != r.ClusterName:
		h.audit.Denied(Operation{OrganizationID: h.cfg.OrganizationID, ClusterID: r.ClusterID, ClusterName: r.ClusterName, Verb: VerbSchedule},
			Actor{UserID: s.By.UserID, ChannelID: r.ChannelID}, "typed_name_mismatch")
		return fmt.Sprintf("That is not the cluster's name. Type %s exactly to create the schedule.", r.ClusterName)
	}
	return ""
}

// skipRun handles Skip this time on a heads-up: that occurrence is claimed as skipped, so that it
// does not run; the schedule stays.
func (h *Handler) skipRun(ctx context.Context, p press, value string) (Text, error) {
	id, at, ok := ParseOccurrenceKey(value)
	if !ok || len(id) > 32 || strings.Contains(id, noticeSuffix) {
		return nil, &DeniedError{Reason: "malformed_button_value", Msg: Say("This button was not made by this bot, so it was ignored.")}
	}
	r, err := h.scheduleByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Say("This schedule was removed, so that run will not happen anyway."), nil
	}
	if err != nil {
		return nil, fmt.Errorf("load schedule %s: %w", id, err)
	}
	if err := h.authorize(ctx, p.by.UserID, r.ChannelID); err != nil {
		return nil, err
	}
	won, err := h.store.ClaimOccurrence(ctx, id, at, OccurrenceSkipped)
	if err != nil {
		return nil, fmt.Errorf("skip %s: %w", OccurrenceKey(id, at), err)
	}
	if !won {
		return Say("Too late to skip: the run at "+FormatRun(at, r)+" was already made or skipped. Its message in ", Channel(r.ChannelID), " says how it went."), nil
	}
	h.audit.Schedule(ScheduleEvent{Action: "skipped", Schedule: r, By: p.by.UserID, At: at, Outcome: RunSkipped})
	h.cfg.Metrics.ScheduleRun(string(RunSkipped))
	h.editSchedule(ctx, p.messageTS, ScheduleMessage{Kind: ScheduleSkipped, Schedule: r, At: at, By: p.by.UserID})
	next := scheduleOf(r).Next(at)
	said := Say(Icon("fast_forward"), " ", User(p.by.UserID), " skipped the "+string(r.Verb)+" of ", Strong(r.ClusterName), " at "+FormatRun(at, r)+" (schedule ",
		Code(r.ID), "). The schedule stays; next run: "+FormatRun(next, r)+".")
	if err := h.chat.Announce(ctx, r.ChannelID, said); err != nil {
		h.cfg.Log.Warn().Err(err).Str("schedule_id", r.ID).Msg("announce a skipped run")
	}
	return nil, nil
}
