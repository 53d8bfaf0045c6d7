package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore/pgtest"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// Schedules end to end, against the fakes and the real clock. One test sets up every scenario
// (each its own bot and fakes) with schedules for the same whole minute, 40 to 100 s ahead, then
// checks each once that minute has come: the suite waits for one minute, not one per scenario.

// scheduleTick is how often the scheduler looks for what is due in these tests.
const scheduleTick = 100 * time.Millisecond

// runWait bounds the test: up to 100 s until the minute, and some seconds after it.
const runWait = 130 * time.Second

// scheduleMinute is the first whole minute at least 40 s from now, in UTC: time to set up every
// scenario before it.
func scheduleMinute() time.Time {
	return time.Now().UTC().Add(100 * time.Second).Truncate(time.Minute)
}

func withScheduleTick(o *appOptions) { o.scheduleTick = scheduleTick }

// auditTime is the time of the first log line that says what.
func auditTime(t *testing.T, logs, what string) time.Time {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, what) {
			continue
		}
		var l struct{ Time time.Time }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		return l.Time
	}
	t.Fatalf("the log never said %s", what)
	return time.Time{}
}

// bottom returns the newest top-level message of the bot in channel whose text says want.
func newestSaying(s *slacksim.Server, channel, want string) (slacksim.Message, bool) {
	msgs := s.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if (m.ThreadTS == "" || m.ThreadTS == m.TS) && strings.Contains(m.PlainText(), want) {
			return m, true
		}
	}
	return slacksim.Message{}, false
}

// waitSaying waits for a top-level message in channel that says want.
func waitSaying(t *testing.T, ctx context.Context, s *slacksim.Server, channel, want string) slacksim.Message {
	t.Helper()
	var msg slacksim.Message
	if err := s.WaitFor(ctx, func() bool { var ok bool; msg, ok = newestSaying(s, channel, want); return ok }); err != nil {
		t.Fatalf("no message in %s says %q: %v", channel, want, err)
	}
	return msg
}

// createSchedule runs `/qovery schedule <arg>` as alice in ops, clicks Create schedule as user, and
// returns the schedule's id as the message then shows it.
func createSchedule(t *testing.T, ctx context.Context, s *slacksim.Server, user, arg string) string {
	t.Helper()
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: alice, ChannelID: ops, Command: "/qovery", Text: "schedule " + arg}); err != nil {
		t.Fatal(err)
	}
	cluster := strings.Fields(arg)[1]
	ask := waitSaying(t, ctx, s, ops, "Create this schedule?")
	if !strings.Contains(ask.PlainText(), "*"+cluster+"*") {
		ask = waitSaying(t, ctx, s, ops, "*"+cluster+"*. Next:")
	}
	if _, err := s.ClickButton(ctx, slacksim.Click{UserID: user, ChannelID: ops, MessageTS: ask.TS, ActionID: commands.ActionScheduleCreate}); err != nil {
		t.Fatal(err)
	}
	var created slacksim.Message
	if err := s.WaitFor(ctx, func() bool {
		created, _ = s.Message(ops, ask.TS)
		return strings.Contains(created.PlainText(), "created")
	}); err != nil {
		t.Fatalf("the schedule's confirmation never said it was created: %q", created.PlainText())
	}
	text := created.PlainText()
	i := strings.Index(text, "Schedule `")
	if i < 0 || len(text) < i+18 {
		t.Fatalf("the created schedule's message shows no id: %q", text)
	}
	return text[i+10 : i+18]
}

// scenario is one end-to-end case: setup runs before the minute and returns the check to run
// after it.
type scenario struct {
	name  string
	setup func(t *testing.T, ctx context.Context, at time.Time) (check func())
}

func TestSchedulesEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), runWait)
	defer cancel()
	at := scheduleMinute()
	scenarios := []scenario{
		{"a scheduled stop: heads-up, then one stop call at the minute", scheduledStop},
		{"Skip this time and unschedule: nothing runs", skipAndUnschedule},
		{"stopped after the heads-up, started before the minute: one call", acrossARestart},
		{"three replicas on PostgreSQL: one heads-up, one call", onReplicas},
		{"the replica running the schedules is killed after the heads-up: another makes the run, once", replicaKilled},
	}
	checks := map[string]func(){}
	for _, sc := range scenarios {
		t.Logf("setting up: %s", sc.name)
		if check := sc.setup(t, ctx, at); check != nil {
			checks[sc.name] = check
		}
	}
	if now := time.Now(); !now.Before(at) {
		t.Fatalf("setting up took until %s, past the schedules' time %s: the machine is too slow for this test's lead", now, at)
	}
	for _, sc := range scenarios {
		if check := checks[sc.name]; check != nil {
			t.Logf("checking: %s", sc.name)
			check()
		}
	}
}

func scheduledStop(t *testing.T, ctx context.Context, at time.Time) func() {
	h := startBot(t, nil, withScheduleTick)
	id := createSchedule(t, ctx, h.slack, bob, fmt.Sprintf("stop staging at %s tz UTC", at.Format("15:04")))
	heads := waitSaying(t, ctx, h.slack, ops, "Heads-up")
	for _, want := range []string{"*staging* will be stopped at", at.Format("15:04") + " UTC", "schedule `" + id + "` by <@U0ALICE>"} {
		if !strings.Contains(heads.PlainText(), want) {
			t.Errorf("heads-up %q lacks %q", heads.PlainText(), want)
		}
	}
	if b := heads.Buttons(); len(b) != 1 || b[0].ActionID != commands.ActionScheduleSkip || b[0].Text != "Skip this time" {
		t.Errorf("heads-up buttons = %+v; want Skip this time", b)
	}
	return func() {
		if err := h.slack.WaitFor(ctx, func() bool { return h.stopCalls("staging") > 0 }); err != nil {
			t.Fatalf("no stop call by %s: %v", at, err)
		}
		if when := auditTime(t, h.logs.String(), `"audit":"stop_requested"`); when.Before(at) {
			t.Errorf("the scheduled stop was requested at %s, before its time %s", when, at)
		}
		run := waitSaying(t, ctx, h.slack, ops, "Scheduled by <@U0ALICE>")
		h.waitParent(run, "is `STOPPED`")
		if !strings.Contains(run.PlainText(), "schedule `"+id+"`") {
			t.Errorf("the run's message %q does not name its schedule", run.PlainText())
		}
		h.waitLog(`"audit":"schedule_run"`)
		if n := h.stopCalls("staging"); n != 1 {
			t.Errorf("%d stop calls; want exactly 1", n)
		}
		if err := h.slack.WaitFor(ctx, func() bool { cur, _ := h.slack.Message(ops, heads.TS); return len(cur.Buttons()) == 0 }); err != nil {
			t.Errorf("the heads-up still offers Skip after the run")
		}
		logs := h.logs.String()
		for _, audit := range []string{`"audit":"schedule_requested"`, `"audit":"schedule_created"`, `"audit":"schedule_heads_up"`, `"outcome":"run"`,
			`"audit":"stop_requested"`, `"audit":"stop_finished"`, `"schedule_id":"` + id + `"`} {
			if !strings.Contains(logs, audit) {
				t.Errorf("log lacks %s", audit)
			}
		}
		if c := strings.Count(logs, `"audit":"schedule_heads_up"`); c != 1 {
			t.Errorf("%d heads-ups audited; want 1", c)
		}
	}
}

// Skip this time and unschedule: neither schedule of staging runs, while preview's, at the same
// minute, does (so the scheduler did look at that minute).
func skipAndUnschedule(t *testing.T, ctx context.Context, at time.Time) func() {
	h := startBot(t, nil, withScheduleTick)
	when := at.Format("15:04")
	skipped := createSchedule(t, ctx, h.slack, alice, "stop staging at "+when+" tz UTC")
	removed := createSchedule(t, ctx, h.slack, alice, "stop staging at "+when+" on daily tz UTC")
	createSchedule(t, ctx, h.slack, alice, "stop preview at "+when+" tz UTC")

	h.command(bob, ops, "unschedule "+removed)
	waitSaying(t, ctx, h.slack, ops, "removed schedule `"+removed+"`")
	var heads slacksim.Message
	if err := h.slack.WaitFor(ctx, func() bool {
		for _, m := range h.slack.Messages(ops) {
			if strings.Contains(m.PlainText(), "Heads-up") && strings.Contains(m.PlainText(), "`"+skipped+"`") {
				heads = m
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal("no heads-up for the schedule to skip")
	}
	h.click(bob, heads, commands.ActionScheduleSkip)
	waitSaying(t, ctx, h.slack, ops, "<@U0BOB> skipped the stop of *staging*")
	if cur, _ := h.slack.Message(ops, heads.TS); !strings.Contains(cur.PlainText(), "Skipped by <@U0BOB>") || len(cur.Buttons()) != 0 {
		t.Errorf("the heads-up after the skip = %q with %d buttons", cur.PlainText(), len(cur.Buttons()))
	}
	return func() {
		if err := h.slack.WaitFor(ctx, func() bool { return h.stopCalls("preview") > 0 }); err != nil {
			t.Fatalf("preview's schedule did not run: %v", err)
		}
		h.waitLog(`"audit":"schedule_run"`)
		if n := h.stopCalls("staging"); n != 0 {
			t.Errorf("staging was stopped %d times; want 0 (one run skipped, the other schedule removed)", n)
		}
		if !strings.Contains(h.logs.String(), `"audit":"schedule_skipped"`) || !strings.Contains(h.logs.String(), `"audit":"schedule_unscheduled"`) {
			t.Error("the skip or the removal is not in the audit log")
		}
		if cur, _ := h.slack.Message(ops, heads.TS); !strings.Contains(cur.PlainText(), "Skipped by <@U0BOB>") {
			t.Errorf("after its time, the skipped run's heads-up says %q; want it to still say who skipped", cur.PlainText())
		}
	}
}

// The bot dies as soon as its heads-up reached Slack (cut off from the world, as a killed process
// is: crash_test.go) and is started again before the time: the run happens once, with no second
// heads-up.
func acrossARestart(t *testing.T, ctx context.Context, at time.Time) func() {
	c := newCrash(nil, func(r *http.Request) bool {
		form, ok := postForm(r)
		return ok && strings.Contains(form.Get("text"), "Heads-up")
	})
	h := startBot(t, nil, append(c.options(), withScheduleTick)...)
	createSchedule(t, ctx, h.slack, alice, fmt.Sprintf("stop staging at %s tz UTC", at.Format("15:04")))
	select {
	case <-c.trippedCh:
	case <-ctx.Done():
		t.Fatal("the heads-up was never posted")
	}
	waitSaying(t, ctx, h.slack, ops, "Heads-up")
	h.stop()
	h.opts = []func(*appOptions){func(o *appOptions) { o.noPacing = true }, withScheduleTick} // the next run lives
	h.start()
	return func() {
		if err := h.slack.WaitFor(ctx, func() bool { return h.stopCalls("staging") > 0 }); err != nil {
			t.Fatalf("no stop call after the restart: %v", err)
		}
		run := waitSaying(t, ctx, h.slack, ops, "Scheduled by")
		h.waitParent(run, "is `STOPPED`")
		onceEach(t, h.stopCalls("staging"), h.slack)
	}
}

// Three replicas on PostgreSQL: one heads-up and one stop call.
func onReplicas(t *testing.T, ctx context.Context, at time.Time) func() {
	if os.Getenv(pgtest.EnvURL) == "" {
		// Only this scenario needs the database: a subtest skips, saying why, and the others run.
		t.Run("three replicas on PostgreSQL", func(t *testing.T) { pgtest.Database(t) })
		return nil
	}
	f, _ := startFleet(t, 3, stableLeases)
	createSchedule(t, ctx, f.slack, bob, fmt.Sprintf("stop %s at %s tz UTC", f.names[0], at.Format("15:04")))
	waitSaying(t, ctx, f.slack, ops, "Heads-up")
	stops := func() int {
		return f.qovery.CountRequests("POST", fmt.Sprintf("/organization/%s/cluster/%s/stop", f.org, f.clusters[0]))
	}
	return func() {
		if err := f.slack.WaitFor(ctx, func() bool { return stops() > 0 }); err != nil {
			t.Fatalf("no stop call: %v", err)
		}
		run := waitSaying(t, ctx, f.slack, ops, "Scheduled by")
		f.waitParent(run, "`STOPPING`")
		onceEach(t, stops(), f.slack)
	}
}

// The replica running the schedules dies (cut off from the network, leases of 1 s) after the
// heads-up: another takes the schedules over and makes the run, once, with no second heads-up.
func replicaKilled(t *testing.T, ctx context.Context, at time.Time) func() {
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Run("a replica killed", func(t *testing.T) { pgtest.Database(t) })
		return nil
	}
	f, rs := startFleet(t, 2, time.Second)
	createSchedule(t, ctx, f.slack, bob, fmt.Sprintf("stop %s at %s tz UTC", f.names[1], at.Format("15:04")))
	waitSaying(t, ctx, f.slack, ops, "Heads-up")
	var runner, other *replica
	for i, r := range rs {
		if strings.Contains(r.logs.String(), "this replica now runs the schedules") {
			runner, other = r, rs[1-i]
		}
	}
	if runner == nil {
		t.Fatal("no replica says it runs the schedules")
	}
	runner.net.kill()
	if err := other.logs.waitFor(ctx, "this replica now runs the schedules"); err != nil {
		t.Fatalf("%s did not take the schedules over: %v", other.name, err)
	}
	stops := func() int {
		return f.qovery.CountRequests("POST", fmt.Sprintf("/organization/%s/cluster/%s/stop", f.org, f.clusters[1]))
	}
	return func() {
		if err := f.slack.WaitFor(ctx, func() bool { return stops() > 0 }); err != nil {
			t.Fatalf("no stop call after the takeover: %v", err)
		}
		f.waitParent(waitSaying(t, ctx, f.slack, ops, "Scheduled by"), "`STOPPING`")
		onceEach(t, stops(), f.slack)
		other.metricsSay(t, `qovery_bot_lease_takeovers_total{kind="schedules"} 1`)
	}
}

// onceEach checks that a run made one stop call, after one heads-up.
func onceEach(t *testing.T, stopCalls int, s *slacksim.Server) {
	t.Helper()
	if stopCalls != 1 {
		t.Errorf("%d stop calls; want 1", stopCalls)
	}
	if n := countSaying(s, ops, "Heads-up"); n != 1 {
		t.Errorf("%d heads-ups; want 1", n)
	}
}

// countSaying counts the messages in channel that say want.
func countSaying(s *slacksim.Server, channel, want string) int {
	n := 0
	for _, m := range s.Messages(channel) {
		if strings.Contains(m.PlainText(), want) {
			n++
		}
	}
	return n
}

// The image has no time zone database (distroless): the program links Go's own, so that schedules in
// any zone work there.
func TestProgramEmbedsTimeZones(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: the program's dependencies cannot be listed")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if !slices.Contains(strings.Fields(string(out)), "time/tzdata") {
		t.Fatal("the program does not link time/tzdata: in the distroless image, every tz but UTC would fail to load")
	}
}
