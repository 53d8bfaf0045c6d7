package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// The fixture's clock starts on Friday 27 November 2026 at 21:00 UTC.

// makeSchedule runs `/qovery schedule <arg>` as U1 in C1 and clicks Create schedule as U2; it
// returns the active schedule.
func (f *fixture) makeSchedule(t *testing.T, arg string) ScheduleRecord {
	t.Helper()
	r := f.askSchedule(t, arg)
	if err := f.h.Click(t.Context(), Click{Action: ActionScheduleCreate, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U2", ChannelID: "C1"}, MessageTS: r.MessageTS}); err != nil {
		t.Fatalf("Create schedule: %v", err)
	}
	r = f.schedule(t, r.ID)
	if r.State != ScheduleActive {
		t.Fatalf("after Create schedule the schedule is %s; want active", r.State)
	}
	return r
}

// askSchedule runs `/qovery schedule <arg>` as U1 in C1 and returns the pending schedule.
func (f *fixture) askSchedule(t *testing.T, arg string) ScheduleRecord {
	t.Helper()
	before, _ := f.h.store.Schedules(t.Context())
	if _, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "schedule " + arg}); err != nil {
		t.Fatalf("schedule %s: %v", arg, err)
	}
	after, _ := f.h.store.Schedules(t.Context())
	for _, r := range after {
		if !slices.ContainsFunc(before, func(b ScheduleRecord) bool { return b.ID == r.ID }) {
			return r
		}
	}
	t.Fatalf("schedule %s recorded nothing; told %v", arg, f.n.tells)
	return ScheduleRecord{}
}

func (f *fixture) schedule(t *testing.T, id string) ScheduleRecord {
	t.Helper()
	r, err := f.h.scheduleByID(t.Context(), id)
	if err != nil {
		t.Fatalf("schedule %s: %v", id, err)
	}
	return r
}

// tick runs the scheduler once, at the fixture's clock.
func (f *fixture) tick(t *testing.T, s *scheduler) {
	t.Helper()
	if err := f.h.scheduleTick(t.Context(), s); err != nil {
		t.Fatalf("scheduleTick: %v", err)
	}
}

func (f *fixture) schedMessages(kind ScheduleMessageKind) []schedMsg {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	var out []schedMsg
	for _, m := range f.n.schedMsgs {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (f *fixture) runOutcomes() []RunOutcome {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	var out []RunOutcome
	for _, e := range f.n.schedEvents {
		if e.Action == "run" || e.Action == "skipped" {
			out = append(out, e.Outcome)
		}
	}
	return out
}

func (f *fixture) lastAnnounced() string {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if len(f.n.announced) == 0 {
		return ""
	}
	return f.n.announced[len(f.n.announced)-1]
}

func TestScheduleCreation(t *testing.T) {
	f := newFixture(t)
	r := f.askSchedule(t, "stop staging at 19:00 on weekdays tz Europe/Paris")
	if r.State != SchedulePending || r.ClusterID != stagingID || r.Hour != 19 || r.Days != Weekdays || r.Zone != "Europe/Paris" || r.CreatedBy != "U1" || r.ChannelID != "C1" || len(r.ID) != 8 {
		t.Fatalf("pending schedule = %+v", r)
	}
	asks := f.schedMessages(ScheduleAsk)
	if len(asks) != 1 || asks[0].Value != scheduleValuePrefix+r.ID || r.MessageTS == "" {
		t.Fatalf("confirmation = %+v, message %q; want one ask whose buttons carry the schedule", asks, r.MessageTS)
	}
	// Monday 30 November 2026, 19:00 in Paris is 18:00 UTC.
	if want := time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC); !asks[0].At.Equal(want) {
		t.Errorf("confirmation's next run = %v; want %v", asks[0].At, want)
	}
	if got := ScheduleText(r, asks[0].At).String(); got != "Every weekday at 19:00 Europe/Paris: stop *staging*. Next: Mon 30 Nov 19:00 CET" {
		t.Errorf("ScheduleText = %q", got)
	}
	// A pending schedule is not listed and does not run.
	if reply, _ := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "schedules"}); !strings.Contains(reply.Text, "No schedules yet") {
		t.Errorf("schedules while pending = %q", reply.Text)
	}
	if err := f.h.Click(t.Context(), Click{Action: ActionScheduleCreate, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U1", ChannelID: "C1"}, MessageTS: r.MessageTS}); err != nil {
		t.Fatal(err)
	}
	r = f.schedule(t, r.ID)
	if r.State != ScheduleActive || r.ConfirmedBy != "U1" {
		t.Fatalf("after Create schedule = %+v", r)
	}
	if created := f.schedMessages(ScheduleCreated); len(created) != 1 || created[0].TS != r.MessageTS {
		t.Errorf("created edits = %+v; want the confirmation edited once", created)
	}
	// A second click finds it created.
	if err := f.h.Click(t.Context(), Click{Action: ActionScheduleCreate, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U2", ChannelID: "C1"}}); err != nil {
		t.Fatal(err)
	}
	if got := f.n.tells[len(f.n.tells)-1].text; !strings.Contains(got, "already created") {
		t.Errorf("second Create schedule told %q", got)
	}
	list, _ := f.handle(t, tRequest{UserID: "U5", ChannelID: "C1", Text: "schedules"})
	for _, want := range []string{r.ID, "stop *staging*", "Every weekday at 19:00 Europe/Paris", "Next: Mon 30 Nov 19:00 CET", "by <@U1>", "in <#C1>"} {
		if !strings.Contains(list.Text, want) {
			t.Errorf("schedules = %q; want %q in it", list.Text, want)
		}
	}
}

func TestScheduleRefusals(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ user, text, want string }{
		{"U1", "schedule stop staging at 7pm", "24-hour"},
		{"U1", "schedule stop staging", "schedule stop staging at 19:00 on weekdays tz Europe/Paris"},
		{"U1", "schedule stop nowhere at 19:00", "nowhere"},
		{"U9", "schedule stop staging at 19:00", "not allowed"},
		{"U1", "unschedule", "Which schedule?"},
		{"U1", "unschedule deadbeef", "no schedule"},
		{"U9", "unschedule deadbeef", "not allowed"},
		{"U1", "schedules now", "takes no argument"},
	} {
		reply, err := f.handle(t, tRequest{UserID: c.user, ChannelID: "C1", Text: c.text})
		got := reply.Text
		if err != nil {
			got, _ = userText(err)
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s as %s: %q; want %q in it", c.text, c.user, got, c.want)
		}
	}
	if list, _ := f.h.store.Schedules(t.Context()); len(list) != 0 {
		t.Errorf("refused commands left schedules: %+v", list)
	}
	// Someone not allowed cannot create another's schedule, nor cancel it.
	r := f.askSchedule(t, "stop staging at 19:00")
	for _, action := range []string{ActionScheduleCreate, ActionScheduleCancel} {
		_ = f.h.Click(t.Context(), Click{Action: action, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U9", ChannelID: "C1"}})
	}
	if got := f.schedule(t, r.ID); got.State != SchedulePending {
		t.Errorf("after clicks by someone not allowed the schedule is %s; want pending", got.State)
	}
}

func TestScheduleCancelAndExpiry(t *testing.T) {
	f := newFixture(t)
	r := f.askSchedule(t, "start staging at 08:00")
	if err := f.h.Click(t.Context(), Click{Action: ActionScheduleCancel, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U1", ChannelID: "C1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.scheduleByID(t.Context(), r.ID); err != ErrNotFound {
		t.Errorf("cancelled schedule still kept: %v", err)
	}
	if c := f.schedMessages(ScheduleAskCancelled); len(c) != 1 || c[0].By != "U1" || c[0].TS != r.MessageTS {
		t.Errorf("cancel edits = %+v", c)
	}
	_ = f.h.Click(t.Context(), Click{Action: ActionScheduleCreate, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U1", ChannelID: "C1"}})
	if got := f.n.tells[len(f.n.tells)-1].text; !strings.Contains(got, "cancelled or expired") {
		t.Errorf("Create after Cancel told %q", got)
	}

	// A click after the TTL finds it expired, and the message says so.
	r = f.askSchedule(t, "start staging at 09:00")
	f.clock.Advance(11 * time.Minute)
	_ = f.h.Click(t.Context(), Click{Action: ActionScheduleCreate, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U1", ChannelID: "C1"}})
	if got := f.n.tells[len(f.n.tells)-1].text; !strings.Contains(got, "expired") {
		t.Errorf("Create after the TTL told %q", got)
	}
	if _, err := f.h.scheduleByID(t.Context(), r.ID); err != ErrNotFound {
		t.Errorf("an expired request clicked is still kept: %v", err)
	}

	r = f.askSchedule(t, "start staging at 08:00")
	f.clock.Advance(11 * time.Minute) // past the 10-minute TTL
	f.tick(t, newScheduler())
	if _, err := f.h.scheduleByID(t.Context(), r.ID); err != ErrNotFound {
		t.Errorf("expired schedule request still kept: %v", err)
	}
	if e := f.schedMessages(ScheduleAskExpired); len(e) != 2 || e[1].TS != r.MessageTS {
		t.Errorf("expiry edits = %+v", e)
	}
}

// A protected cluster asks for its name when the schedule is created.
func TestScheduleProtectedCluster(t *testing.T) {
	f := newFixture(t)
	r := f.askSchedule(t, "stop production-eu at 22:00 on weekends")
	if !r.Protected {
		t.Fatalf("schedule of a production cluster = %+v; want it protected", r)
	}
	value := scheduleValuePrefix + r.ID
	if err := f.h.Click(t.Context(), Click{Action: ActionScheduleCreate, Value: value, By: Actor{UserID: "U2", ChannelID: "C1"}, Trigger: "trig"}); err != nil {
		t.Fatal(err)
	}
	if len(f.n.asked) != 1 || !f.n.asked[0].Schedule || f.n.asked[0].Value != value || f.n.asked[0].ClusterName != "production-eu" {
		t.Fatalf("asked = %+v; want the typed-name dialog of the schedule", f.n.asked)
	}
	if got := f.schedule(t, r.ID); got.State != SchedulePending {
		t.Fatalf("before the name is typed the schedule is %s", got.State)
	}
	if problem := f.h.CheckTypedName(t.Context(), Submission{Value: value, By: Actor{UserID: "U2"}, Typed: "production"}); !strings.Contains(problem, "production-eu") {
		t.Errorf("wrong name: %q", problem)
	}
	if problem := f.h.CheckTypedName(t.Context(), Submission{Value: value, By: Actor{UserID: "U2"}, Typed: "production-eu"}); problem != "" {
		t.Errorf("right name refused: %q", problem)
	}
	if err := f.h.SubmitTypedName(t.Context(), Submission{Value: value, By: Actor{UserID: "U2"}, Typed: "production-eu"}); err != nil {
		t.Fatal(err)
	}
	if got := f.schedule(t, r.ID); got.State != ScheduleActive || got.ConfirmedBy != "U2" {
		t.Fatalf("after the typed name the schedule is %+v", got)
	}
}

// The heads-up comes once within the notice; the run comes once at the time, as an operation like
// a confirmed stop, posted in the schedule's channel as scheduled by its creator.
func TestScheduledRun(t *testing.T) {
	f := newFixture(t)
	r := f.makeSchedule(t, "stop staging at 21:05")
	s := newScheduler()
	f.tick(t, s)
	f.tick(t, s)
	heads := f.schedMessages(ScheduleHeadsUp)
	at := time.Date(2026, 11, 27, 21, 5, 0, 0, time.UTC)
	if len(heads) != 1 || !heads[0].At.Equal(at) || heads[0].Value != OccurrenceKey(r.ID, at) {
		t.Fatalf("heads-ups = %+v; want one for 21:05 with Skip this time", heads)
	}
	if f.q.stopCalls != 0 {
		t.Fatalf("stop called before the time")
	}
	f.clock.Advance(5*time.Minute + 2*time.Second)
	f.tick(t, s)
	f.tick(t, s)
	if f.q.stopCalls != 1 {
		t.Fatalf("%d stop calls at the time; want 1", f.q.stopCalls)
	}
	// A scheduler starting afresh (a restart) neither runs it again nor posts another heads-up.
	f.tick(t, newScheduler())
	if f.q.stopCalls != 1 || len(f.schedMessages(ScheduleHeadsUp)) != 1 {
		t.Fatalf("after a restart: %d calls, %d heads-ups; want 1 and 1", f.q.stopCalls, len(f.schedMessages(ScheduleHeadsUp)))
	}
	if len(f.n.posted) != 1 {
		t.Fatalf("posted %d operation messages; want 1", len(f.n.posted))
	}
	op, err := f.h.Operation(t.Context(), f.n.posted[0].ID)
	if err != nil || op.Schedule == nil || op.Schedule.ID != r.ID || op.RequestedBy != "U1" || op.ChannelID != "C1" || op.Phase != PhaseWatching || op.MessageTS == "" {
		t.Fatalf("scheduled operation = %+v, %v; want a watched stop requested by U1 in C1, marked scheduled", op, err)
	}
	if op.Schedule.Late != 0 {
		t.Errorf("Late = %v; want 0 (2 s after the time is on time)", op.Schedule.Late)
	}
	if done := f.schedMessages(ScheduleHeadsUpDone); len(done) != 1 || done[0].TS == "" {
		t.Errorf("heads-up edits after the run = %+v; want the heads-up edited once, without Skip", done)
	}
	if got := f.runOutcomes(); len(got) != 1 || got[0] != RunStarted {
		t.Errorf("run outcomes = %v; want one run", got)
	}
}

func TestScheduleSkip(t *testing.T) {
	f := newFixture(t)
	f.makeSchedule(t, "stop staging at 21:10")
	s := newScheduler()
	f.tick(t, s)
	heads := f.schedMessages(ScheduleHeadsUp)
	if len(heads) != 1 {
		t.Fatalf("heads-ups = %+v", heads)
	}
	// Someone not allowed cannot skip.
	_ = f.h.Click(t.Context(), Click{Action: ActionScheduleSkip, Value: heads[0].Value, By: Actor{UserID: "U9", ChannelID: "C1"}, MessageTS: "hu"})
	if len(f.schedMessages(ScheduleSkipped)) != 0 {
		t.Fatal("U9, not allowed, skipped the run")
	}
	if err := f.h.Click(t.Context(), Click{Action: ActionScheduleSkip, Value: heads[0].Value, By: Actor{UserID: "U5", ChannelID: "C1"}, MessageTS: "hu"}); err != nil {
		t.Fatal(err)
	}
	if sk := f.schedMessages(ScheduleSkipped); len(sk) != 1 || sk[0].By != "U5" || sk[0].TS != "hu" {
		t.Fatalf("skipped edits = %+v", sk)
	}
	if got := f.lastAnnounced(); !strings.Contains(got, "<@U5> skipped the stop of *staging*") || !strings.Contains(got, "next run: Sat 28 Nov 21:10 UTC") {
		t.Errorf("skip announced as %q", got)
	}
	f.clock.Advance(10 * time.Minute)
	f.tick(t, s)
	if f.q.stopCalls != 0 {
		t.Fatalf("a skipped run called stop")
	}
	if done := f.schedMessages(ScheduleHeadsUpDone); len(done) != 0 {
		t.Errorf("the skipped run's heads-up was edited again after its time: %+v; want it to keep saying who skipped", done)
	}
	// The next day's run is not skipped.
	f.clock.Advance(24 * time.Hour)
	f.tick(t, s)
	if f.q.stopCalls != 1 {
		t.Fatalf("%d stop calls the next day; want 1", f.q.stopCalls)
	}
}

// Back within the grace, the run is made late and says so; past it, it is reported missed.
func TestScheduleLateAndMissed(t *testing.T) {
	f := newFixture(t)
	f.h.cfg.ScheduleNotice = -1
	f.makeSchedule(t, "stop staging at 21:01")
	f.clock.Advance(12 * time.Minute) // the bot was down from 21:00 to 21:12
	f.tick(t, newScheduler())
	if f.q.stopCalls != 1 || len(f.schedMessages(ScheduleHeadsUp)) != 0 {
		t.Fatalf("late run: %d calls, %d heads-ups; want 1 and none (QOVERY_BOT_SCHEDULE_NOTICE=0)", f.q.stopCalls, len(f.schedMessages(ScheduleHeadsUp)))
	}
	op, _ := f.h.Operation(t.Context(), f.n.posted[0].ID)
	if op.Schedule == nil || op.Schedule.Late != 11*time.Minute {
		t.Errorf("late run = %+v; want 11 min late", op.Schedule)
	}

	g := newFixture(t)
	g.makeSchedule(t, "stop staging at 21:01")
	g.clock.Advance(45 * time.Minute)
	g.tick(t, newScheduler())
	if g.q.stopCalls != 0 {
		t.Fatal("a run 44 min late, past the 30 min grace, was made")
	}
	if got := g.lastAnnounced(); !strings.Contains(got, "was missed") || !strings.Contains(got, "44m") {
		t.Errorf("missed run announced as %q", got)
	}
	if got := g.runOutcomes(); len(got) != 1 || got[0] != RunMissed {
		t.Errorf("outcomes = %v; want missed", got)
	}
}

// At run time the creator must still be allowed, and the cluster's state must allow the verb:
// otherwise the channel is told why, once.
func TestScheduledRunRefused(t *testing.T) {
	f := newFixture(t)
	f.makeSchedule(t, "stop staging at 21:01")
	f.h.cfg.Policy.Users = []string{"U2"} // U1, the creator, is no longer allowed
	f.clock.Advance(time.Minute)
	f.tick(t, newScheduler())
	if f.q.stopCalls != 0 {
		t.Fatal("a schedule whose creator lost the right ran")
	}
	if got := f.lastAnnounced(); !strings.Contains(got, "did not run") || !strings.Contains(got, "creator may no longer") {
		t.Errorf("refusal announced as %q", got)
	}

	g := newFixture(t)
	g.makeSchedule(t, "stop staging at 21:01")
	g.q.script(qovery.StateStopped)
	g.clock.Advance(time.Minute)
	g.tick(t, newScheduler())
	g.tick(t, newScheduler())
	if g.q.stopCalls != 0 || len(g.n.announced) != 1 || !strings.Contains(g.lastAnnounced(), "already") {
		t.Errorf("already stopped: %d calls, announced %v; want none and one note", g.q.stopCalls, g.n.announced)
	}
	if got := g.runOutcomes(); len(got) != 1 || got[0] != RunNoNeed {
		t.Errorf("outcomes = %v; want not_needed", got)
	}
	// Busy: someone's stop of the cluster waits for its confirmation.
	k := newFixture(t)
	k.makeSchedule(t, "stop staging at 21:01")
	k.requestStop(t, "staging")
	k.clock.Advance(time.Minute)
	k.tick(t, newScheduler())
	if k.q.stopCalls != 0 || !strings.Contains(k.lastAnnounced(), "is waiting for confirmation") {
		t.Errorf("busy: %d calls, announced %q; want none and the other request named", k.q.stopCalls, k.lastAnnounced())
	}
	if got := k.runOutcomes(); len(got) != 1 || got[0] != RunBlocked {
		t.Errorf("outcomes = %v; want blocked", got)
	}
}

func TestUnschedule(t *testing.T) {
	f := newFixture(t)
	r := f.makeSchedule(t, "stop staging at 21:03")
	reply, err := f.handle(t, tRequest{UserID: "U5", ChannelID: "C7", Text: "unschedule " + strings.ToUpper(r.ID)})
	if err != nil || !strings.Contains(reply.Text, "Removed schedule") {
		t.Fatalf("unschedule = %+v, %v", reply, err)
	}
	if got := f.lastAnnounced(); !strings.Contains(got, "<@U5> removed schedule") {
		t.Errorf("announced %q", got)
	}
	f.clock.Advance(5 * time.Minute)
	f.tick(t, newScheduler())
	if f.q.stopCalls != 0 || len(f.schedMessages(ScheduleHeadsUp)) != 0 {
		t.Fatal("a removed schedule ran")
	}
}

// Two replicas sharing a store and leases: one runs the schedules, and the occurrence runs once
// even when both tick.
func TestScheduleOneReplicaRuns(t *testing.T) {
	f := newFixture(t)
	f.makeSchedule(t, "stop staging at 21:02")
	other, err := NewHandler(f.q, f.n, f.n, f.h.store, f.groups, f.h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	other.leases = f.h.leases
	a, b := newScheduler(), newScheduler()
	both := func() {
		ctx := context.Background()
		done := make(chan error, 2)
		go func() { done <- f.h.scheduleTick(ctx, a) }()
		go func() { done <- other.scheduleTick(ctx, b) }()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	both()
	f.clock.Advance(2 * time.Minute)
	both()
	if f.q.stopCalls != 1 || len(f.schedMessages(ScheduleHeadsUp)) != 1 {
		t.Fatalf("%d calls, %d heads-ups; want 1 and 1", f.q.stopCalls, len(f.schedMessages(ScheduleHeadsUp)))
	}
	if (a.lease == nil) == (b.lease == nil) {
		t.Errorf("both or neither replica took the schedules lease")
	}
}

// A previous run claimed the occurrence to run and died before the run's operation existed: the
// next scheduler makes the run (once), or reports it missed past the grace.
func TestScheduleRunInterruptedBeforeItBegan(t *testing.T) {
	f := newFixture(t)
	r := f.makeSchedule(t, "stop staging at 21:01")
	at := time.Date(2026, 11, 27, 21, 1, 0, 0, time.UTC)
	if won, err := f.h.store.ClaimOccurrence(t.Context(), r.ID, at, OccurrenceRun); !won || err != nil {
		t.Fatal(won, err)
	}
	f.clock.Advance(3 * time.Minute)
	f.tick(t, newScheduler())
	f.tick(t, newScheduler())
	if f.q.stopCalls != 1 {
		t.Fatalf("%d stop calls; want the interrupted run made once", f.q.stopCalls)
	}

	g := newFixture(t)
	r = g.makeSchedule(t, "stop staging at 21:01")
	_, _ = g.h.store.ClaimOccurrence(t.Context(), r.ID, at, OccurrenceRun)
	g.clock.Advance(time.Hour)
	g.tick(t, newScheduler())
	if g.q.stopCalls != 0 || !strings.Contains(g.lastAnnounced(), "was missed") {
		t.Fatalf("an hour late: %d calls, announced %q; want none and a missed report", g.q.stopCalls, g.lastAnnounced())
	}
	// A skipped occurrence stays skipped.
	k := newFixture(t)
	r = k.makeSchedule(t, "stop staging at 21:01")
	_, _ = k.h.store.ClaimOccurrence(t.Context(), r.ID, at, OccurrenceSkipped)
	k.clock.Advance(2 * time.Minute)
	k.tick(t, newScheduler())
	if k.q.stopCalls != 0 {
		t.Fatal("a skipped occurrence ran")
	}
}

// A schedule created after its time that day (the confirmation was answered late) first runs the
// next day, not at once.
func TestScheduleCreatedAfterItsTime(t *testing.T) {
	f := newFixture(t)
	r := f.askSchedule(t, "stop staging at 21:01")
	f.clock.Advance(3 * time.Minute)
	if err := f.h.Click(t.Context(), Click{Action: ActionScheduleCreate, Value: scheduleValuePrefix + r.ID, By: Actor{UserID: "U1", ChannelID: "C1"}}); err != nil {
		t.Fatal(err)
	}
	f.tick(t, newScheduler())
	if f.q.stopCalls != 0 || len(f.n.announced) != 0 {
		t.Fatalf("a schedule created at 21:03 for 21:01 acted at once: %d calls, announced %v", f.q.stopCalls, f.n.announced)
	}
	if created := f.schedMessages(ScheduleCreated); len(created) != 1 || created[0].At.Day() != 28 {
		t.Errorf("created = %+v; want the next run on the 28th", created)
	}
}

// status shows a cluster's schedules.
func TestStatusShowsSchedules(t *testing.T) {
	f := newFixture(t)
	r := f.makeSchedule(t, "stop staging at 19:00 on weekdays tz Europe/Paris")
	reply, err := f.handle(t, tRequest{UserID: "U9", ChannelID: "C1", Text: "status staging"})
	if err != nil || !strings.Contains(reply.Text, "Schedule `"+r.ID+"`: Every weekday at 19:00 Europe/Paris: stop *staging*. Next: Mon 30 Nov 19:00 CET") {
		t.Fatalf("status = %q, %v; want the schedule in it", reply.Text, err)
	}
	other, _ := f.handle(t, tRequest{UserID: "U9", ChannelID: "C1", Text: "status staging-us"})
	if strings.Contains(other.Text, r.ID) {
		t.Errorf("another cluster's status shows staging's schedule: %q", other.Text)
	}
}

// A channel the bot cannot post in gets no schedule, and the requester learns why.
func TestScheduleWhereTheBotCannotPost(t *testing.T) {
	f := newFixture(t)
	f.n.postErr = fmt.Errorf("post: %w (not_in_channel)", ErrCannotPost)
	_, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "schedule stop staging at 19:00"})
	if msg, _ := userText(err); !strings.Contains(msg, "not a member of this channel") || !strings.Contains(msg, "No schedule was made") {
		t.Errorf("told %q; want the invitation and that nothing was made", msg)
	}
	if list, _ := f.h.store.Schedules(t.Context()); len(list) != 0 {
		t.Errorf("schedules kept: %+v", list)
	}
}

// Without tz, a schedule is in QOVERY_BOT_TIMEZONE's zone (Config.Zone), else UTC.
func TestScheduleDefaultZone(t *testing.T) {
	f := newFixture(t)
	if r := f.askSchedule(t, "stop staging at 19:00"); r.Zone != "UTC" {
		t.Errorf("zone without tz nor Config.Zone = %q; want UTC", r.Zone)
	}
	g := newFixture(t)
	g.h.cfg.Zone = zone(t, "America/New_York")
	if r := g.askSchedule(t, "stop staging at 19:00"); r.Zone != "America/New_York" {
		t.Errorf("zone without tz = %q; want Config.Zone's", r.Zone)
	}
	if r := g.askSchedule(t, "start staging at 07:00 tz Asia/Kolkata"); r.Zone != "Asia/Kolkata" {
		t.Errorf("zone with tz = %q; want the one given", r.Zone)
	}
}

// A scheduled start deploys a stopped cluster once; a run that cannot read the cluster says so
// and is not tried again.
func TestScheduledStartAndQoveryDown(t *testing.T) {
	f := newFixture(t)
	f.q.script(qovery.StateStopped)
	f.makeSchedule(t, "start staging at 21:01 on daily")
	f.clock.Advance(time.Minute)
	f.tick(t, newScheduler())
	f.tick(t, newScheduler())
	if f.q.deployCalls != 1 || f.q.stopCalls != 0 {
		t.Fatalf("scheduled start: %d deploy and %d stop calls; want 1 and 0", f.q.deployCalls, f.q.stopCalls)
	}
	op, _ := f.h.Operation(t.Context(), f.n.posted[0].ID)
	if op.Action() != VerbStart || op.Phase != PhaseWatching {
		t.Errorf("scheduled start = %s %s; want a watched start", op.Action(), op.Phase)
	}

	g := newFixture(t)
	g.makeSchedule(t, "stop staging at 21:01")
	g.q.statusErr = &qovery.Error{StatusCode: 503}
	g.clock.Advance(time.Minute)
	s := newScheduler()
	g.tick(t, s)
	g.tick(t, s)
	if g.q.stopCalls != 0 || len(g.n.announced) != 1 || !strings.Contains(g.lastAnnounced(), "Qovery is unavailable") {
		t.Errorf("Qovery down at run time: %d calls, announced %v; want none and one note", g.q.stopCalls, g.n.announced)
	}
	if got := g.runOutcomes(); len(got) != 1 || got[0] != RunFailed {
		t.Errorf("outcomes = %v; want failed", got)
	}
}
