package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// The end-to-end tests run the real program (run, as main calls it) against the fake Slack, over
// slack-go's real Socket Mode client, and the fake Qovery API. They synchronise on what the fakes
// see, never on sleeps.

const (
	alice   = "U0ALICE"
	bob     = "U0BOB"
	ops     = "C0OPS"
	appTok  = "xapp-1-A0FAKE-1-e2esecretapp"
	botTok  = "xoxb-e2esecretbot"
	waitFor = 10 * time.Second
)

type harness struct {
	t       *testing.T
	slack   *slacksim.Server
	qovery  *qoverysim.Server
	org     uuid.UUID
	cluster map[string]uuid.UUID
	logs    *syncBuffer
	vars    map[string]string
	opts    []func(*appOptions)
	runs    int
	// stop shuts the program down and checks that it exits cleanly; it is safe to call twice.
	stop func()
}

// syncBuffer is a log sink the test can read, and wait on, while the bot writes.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

// waitFor blocks until the buffer contains sub or ctx is done.
func (s *syncBuffer) waitFor(ctx context.Context, sub string) error {
	return s.waitForCount(ctx, sub, 1)
}

// waitForCount blocks until the buffer contains sub n times or ctx is done.
func (s *syncBuffer) waitForCount(ctx context.Context, sub string, n int) error {
	for {
		s.mu.Lock()
		if strings.Count(s.b.String(), sub) >= n {
			s.mu.Unlock()
			return nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBot runs the program against fresh fakes with an organization of three clusters, and stops it
// (checking that it exits cleanly) when the test ends. alice and bob may stop clusters unless
// extraEnv says otherwise (an empty value unsets a variable).
func startBot(t *testing.T, extraEnv map[string]string, opts ...func(*appOptions)) *harness {
	t.Helper()
	q := qoverysim.NewServer(t)
	org := q.AddOrganization("Acme")
	h := &harness{t: t, qovery: q, org: org, cluster: map[string]uuid.UUID{}, logs: &syncBuffer{}}
	h.cluster["staging"] = q.AddCluster(org, qoverysim.ClusterSpec{Name: "staging", Region: "eu-west-3", CloudProvider: "AWS"})
	h.cluster["preview"] = q.AddCluster(org, qoverysim.ClusterSpec{Name: "preview", Region: "fr-par", CloudProvider: "SCW",
		StopScript: []qovery.State{qovery.StateStopping, qovery.StateStopError}})
	h.cluster["production-eu"] = q.AddCluster(org, qoverysim.ClusterSpec{Name: "production-eu", Region: "eu-west-3", CloudProvider: "AWS", Production: true})
	h.cluster["<!channel> party"] = q.AddCluster(org, qoverysim.ClusterSpec{Name: "<!channel> party", Region: "us-east-2", CloudProvider: "AWS", Production: true})

	h.slack = slacksim.NewServer(slacksim.WithAppToken(appTok), slacksim.WithBotToken(botTok), slacksim.WithPingInterval(time.Second))
	t.Cleanup(h.slack.Close)
	h.slack.AddChannel("C0PRIVATE", "secret-plans", false)

	vars := map[string]string{
		"SLACK_APP_TOKEN":          appTok,
		"SLACK_BOT_TOKEN":          botTok,
		"SLACK_API_URL":            h.slack.APIURL(),
		"QOVERY_API_TOKEN":         q.Token(),
		"QOVERY_API_URL":           q.URL(),
		"QOVERY_BOT_POLL_INTERVAL": "5ms",
		"QOVERY_BOT_DATA_DIR":      t.TempDir(),
		"QOVERY_BOT_HTTP_ADDR":     "off",
		"QOVERY_BOT_ALLOWED_USERS": alice + "," + bob,
		"LOG_LEVEL":                "debug",
	}
	for k, v := range extraEnv {
		vars[k] = v
	}
	// The fakes answer at once; pacing would only slow the tests down.
	h.vars, h.opts = vars, append([]func(*appOptions){func(o *appOptions) { o.noPacing = true }}, opts...)
	h.start()
	t.Cleanup(func() { h.stop() })
	return h
}

// start runs the program with the harness's environment and waits until it is connected.
func (h *harness) start() {
	h.t.Helper()
	t := h.t
	h.runs++
	alive, stopServe := startServe(t, h.vars, h.logs, 10*time.Second, h.opts...)
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			stopServe()
			for _, secret := range []string{appTok, botTok, h.qovery.Token()} {
				if strings.Contains(h.logs.String(), secret) {
					t.Errorf("the log contains a token")
				}
			}
		})
	}
	wctx, wcancel := context.WithTimeout(alive, waitFor)
	defer wcancel()
	// Each run logs "connected to Slack" once it is up, unless LOG_LEVEL hides info lines.
	if lvl := h.vars["LOG_LEVEL"]; lvl != "warn" && lvl != "error" {
		if err := h.logs.waitForCount(wctx, `"message":"connected to Slack"`, h.runs); err != nil {
			t.Fatalf("run %d did not connect: %v\n%s", h.runs, err, h.logs.String())
		}
	}
	if err := h.slack.WaitConnected(wctx); err != nil {
		t.Fatalf("run %d: the fake Slack saw no connection: %v", h.runs, err)
	}
}

// startServe runs serve, as main does, until the returned stop is called; stop checks that serve
// returned nil within timeout. The returned context ends when serve returns, so that waits for the
// program end at once if it fails to start.
func startServe(tb testing.TB, vars map[string]string, logs io.Writer, timeout time.Duration, opts ...func(*appOptions)) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	alive, ended := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- serve(ctx, env(vars), logs, opts...)
		ended()
	}()
	stop := func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				tb.Errorf("serve returned %v after shutdown; want nil", err)
			}
		case <-time.After(timeout):
			tb.Errorf("serve did not return within %s of shutdown", timeout)
		}
	}
	return alive, stop
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(h.t.Context(), waitFor)
	h.t.Cleanup(cancel)
	return ctx
}

// command sends `/qovery <text>` as user in channel and checks the ack.
func (h *harness) command(user, channel, text string) {
	h.t.Helper()
	ack, err := h.slack.SlashCommand(h.ctx(), slacksim.SlashCommand{UserID: user, ChannelID: channel, Command: "/qovery", Text: text})
	if err != nil {
		h.t.Fatalf("/qovery %s: %v", text, err)
	}
	if ack.EnvelopeID == "" {
		h.t.Fatalf("/qovery %s: ack without envelope id", text)
	}
}

// ephemeral waits for the n-th ephemeral message to user and returns its text.
func (h *harness) ephemeral(user string, n int) string {
	h.t.Helper()
	if err := h.slack.WaitFor(h.ctx(), func() bool { return len(h.slack.Ephemerals(user)) >= n }); err != nil {
		h.t.Fatalf("waiting for ephemeral #%d to %s: %v", n, user, err)
	}
	return h.slack.Ephemerals(user)[n-1].PlainText()
}

// confirmation waits for the bot's top-level message in channel and returns it.
func (h *harness) confirmation(channel string) slacksim.Message {
	h.t.Helper()
	var msg slacksim.Message
	err := h.slack.WaitFor(h.ctx(), func() bool {
		for _, m := range h.slack.Messages(channel) {
			if m.ThreadTS == "" || m.ThreadTS == m.TS {
				msg = m
				return true
			}
		}
		return false
	})
	if err != nil {
		h.t.Fatalf("waiting for the confirmation message: %v", err)
	}
	return msg
}

func (h *harness) click(user string, msg slacksim.Message, actionID string) {
	h.t.Helper()
	if _, err := h.slack.ClickButton(h.ctx(), slacksim.Click{UserID: user, ChannelID: msg.Channel, MessageTS: msg.TS, ActionID: actionID}); err != nil {
		h.t.Fatalf("click %s: %v", actionID, err)
	}
}

// waitParent waits until the parent message's text contains want.
func (h *harness) waitParent(msg slacksim.Message, want string) slacksim.Message {
	h.t.Helper()
	var cur slacksim.Message
	err := h.slack.WaitFor(h.ctx(), func() bool {
		cur, _ = h.slack.Message(msg.Channel, msg.TS)
		return strings.Contains(cur.PlainText(), want)
	})
	if err != nil {
		h.t.Fatalf("waiting for the parent to say %q; it says %q", want, cur.PlainText())
	}
	return cur
}

// waitLog waits until the bot's log contains s.
func (h *harness) waitLog(s string) {
	h.t.Helper()
	if err := h.logs.waitFor(h.ctx(), s); err != nil {
		h.t.Fatalf("the log never said %s: %v", s, err)
	}
}

func (h *harness) replies(msg slacksim.Message) []string {
	var texts []string
	for _, r := range h.slack.Replies(msg.Channel, msg.TS) {
		texts = append(texts, r.PlainText())
	}
	return texts
}

func (h *harness) stopCalls(name string) int {
	return h.qovery.CountRequests("POST", fmt.Sprintf("/organization/%s/cluster/%s/stop", h.org, h.cluster[name]))
}

func TestStopEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")

	msg := h.confirmation(ops)
	text := msg.PlainText()
	for _, want := range []string{"Stop cluster *staging*?", "Requested by <@U0ALICE>", "AWS eu-west-3", "currently `DEPLOYED`", "production: no", "Expires in 10 minutes"} {
		if !strings.Contains(text, want) {
			t.Errorf("confirmation %q lacks %q", text, want)
		}
	}
	buttons := msg.Buttons()
	if len(buttons) != 2 || buttons[0].ActionID != commands.ActionConfirm || buttons[0].Style != "danger" || buttons[0].Text != "Stop cluster" ||
		buttons[1].ActionID != commands.ActionCancel || buttons[1].Style != "" || buttons[1].Text != "Cancel" {
		t.Fatalf("buttons = %+v; want [Stop cluster (danger), Cancel]", buttons)
	}
	if n := h.stopCalls("staging"); n != 0 {
		t.Fatalf("stop called %d times before the click", n)
	}

	h.click(alice, msg, commands.ActionConfirm)
	final := h.waitParent(msg, "is `STOPPED`")
	if len(final.Buttons()) != 0 {
		t.Errorf("the final parent still has buttons: %+v", final.Buttons())
	}
	if !strings.Contains(final.PlainText(), "confirmed by <@U0ALICE>") {
		t.Errorf("final parent %q does not name the confirmer", final.PlainText())
	}
	if err := h.slack.WaitFor(h.ctx(), func() bool { r := h.replies(msg); return len(r) > 0 && strings.Contains(r[len(r)-1], "after") }); err != nil {
		t.Fatal(err)
	}
	replies := h.replies(msg)
	want := []string{":inbox_tray: Qovery accepted the stop · `STOP_QUEUED`", ":gear: `STOPPING` · ", ":white_check_mark: `STOPPED` after "}
	if len(replies) != len(want) {
		t.Fatalf("thread = %q; want %d replies", replies, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(replies[i], want[i]) {
			t.Errorf("thread reply %d = %q; want prefix %q", i, replies[i], want[i])
		}
	}
	if !strings.Contains(replies[2], "<@U0ALICE>") {
		t.Errorf("final reply %q does not mention the requester", replies[2])
	}
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop called %d times; want exactly 1", n)
	}
	if got := h.qovery.Status(h.cluster["staging"]); got != qovery.StateStopped {
		t.Errorf("fake Qovery state = %s; want STOPPED", got)
	}
	// The watch read the organization-wide status; the cluster's own status was read only when the
	// stop was requested and when it was confirmed.
	own := h.qovery.CountRequests("GET", fmt.Sprintf("/organization/%s/cluster/%s/status", h.org, h.cluster["staging"]))
	orgWide := h.qovery.CountRequests("GET", fmt.Sprintf("/organization/%s/cluster/status", h.org))
	if own != 2 || orgWide < 2 {
		t.Errorf("status reads: %d of the cluster, %d organization-wide; want 2 and the rest organization-wide", own, orgWide)
	}
	logs := h.logs.String()
	for _, audit := range []string{`"audit":"stop_requested"`, `"audit":"stop_confirmed"`, `"audit":"stop_finished"`, `"outcome":"succeeded"`, `"slack_user":"U0ALICE"`, `"cluster_id":"` + h.cluster["staging"].String()} {
		if !strings.Contains(logs, audit) {
			t.Errorf("log lacks %s", audit)
		}
	}
}

func TestCancelEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)

	// Carol may not stop clusters, so she may not cancel someone else's request either.
	h.slack.AddUser(carol, "carol")
	h.click(carol, msg, commands.ActionCancel)
	if got := h.ephemeral(carol, 1); !strings.Contains(got, "You are not allowed to stop clusters") {
		t.Errorf("carol's click answer = %q", got)
	}

	h.click(alice, msg, commands.ActionCancel)
	final := h.waitParent(msg, "cancelled by <@U0ALICE>")
	if len(final.Buttons()) != 0 {
		t.Errorf("buttons left after cancel: %+v", final.Buttons())
	}
	if n := h.stopCalls("staging"); n != 0 {
		t.Errorf("stop called %d times after cancel; want 0", n)
	}
	if !strings.Contains(h.logs.String(), `"audit":"stop_cancelled"`) {
		t.Error("no stop_cancelled audit line")
	}
	// The buttons are gone: Slack can no longer deliver a click on them.
	if _, err := h.slack.ClickButton(h.ctx(), slacksim.Click{UserID: alice, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm}); !errors.Is(err, slacksim.ErrNoSuchButton) {
		t.Errorf("click on a removed button = %v; want ErrNoSuchButton", err)
	}
}

func TestStopErrorEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop preview")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	final := h.waitParent(msg, "stop failed")
	if !strings.Contains(final.PlainText(), "`STOP_ERROR`") {
		t.Errorf("parent %q lacks the failure state", final.PlainText())
	}
	if err := h.slack.WaitFor(h.ctx(), func() bool { r := h.replies(msg); return len(r) > 0 && strings.HasPrefix(r[len(r)-1], ":x:") }); err != nil {
		t.Fatal(err)
	}
	replies := h.replies(msg)
	last := replies[len(replies)-1]
	consoleURL := fmt.Sprintf("https://console.qovery.com/organization/%s/cluster/%s", h.org, h.cluster["preview"])
	for _, want := range []string{":x: `STOP_ERROR` after", "<@U0ALICE>", "Qovery could not stop the cluster", "Execution id: `", consoleURL} {
		if !strings.Contains(last, want) {
			t.Errorf("failure reply %q lacks %q", last, want)
		}
	}
	if !strings.Contains(h.logs.String(), `"outcome":"failed"`) {
		t.Error("no failed stop_finished audit line")
	}
}

func TestBadInputEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	for i, tc := range []struct {
		text string
		want []string
	}{
		{"stop", []string{"Which cluster? Usage: `/qovery stop &lt;cluster name or id&gt;`"}},
		{"stop stagign", []string{"No cluster named `stagign` in this organization.", "Did you mean `staging`"}},
		{"stop <!here>", []string{"No cluster named `&lt;!here&gt;`"}},
		{"reboot staging", []string{"Unknown command `reboot`", "/qovery stop &lt;cluster&gt;"}},
		{"", []string{"*Usage:*", "`/qovery stop &lt;cluster&gt;`"}},
		{"list", []string{"*4 clusters* in *Acme*", "`staging` · `DEPLOYED` · AWS eu-west-3", "`&lt;!channel&gt; party`", "production"}},
		{"status staging", []string{"*staging* is `DEPLOYED`", "production: no", "Open in the Qovery console"}},
	} {
		h.command(alice, ops, tc.text)
		got := h.ephemeral(alice, i+1)
		for _, want := range tc.want {
			if !strings.Contains(got, want) {
				t.Errorf("/qovery %s answered %q; want it to contain %q", tc.text, got, want)
			}
		}
	}
	if msgs := h.slack.Messages(ops); len(msgs) != 0 {
		t.Errorf("bad input posted %d channel messages; want only ephemeral replies", len(msgs))
	}
	for _, e := range h.slack.Ephemerals(alice) {
		if strings.Contains(e.Text, "<!here>") || strings.Contains(e.Text, "<!channel>") {
			t.Errorf("an unescaped mention reached Slack: %q", e.Text)
		}
	}
}

// What a user typed comes back cleaned, shortened and inside one code element, so that the rest of
// the reply (the suggestion and the hint) survives; only names that are close are suggested. (A
// backtick typed is kept: rich text needs no escape, and the simulated Slack writes code as `…`.)
func TestEchoedInputEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	for i, tc := range []struct {
		text string
		want string
	}{
		{"stop `staging`", "No cluster named ``staging`` in this organization. Did you mean `staging`? `/qovery list` shows them all."},
		{"stop stag\u202eing\x00", "No cluster named `staging` in this organization. Did you mean `staging`? `/qovery list` shows them all."},
		{"stop " + strings.Repeat("x", 5000), "No cluster named `" + strings.Repeat("x", 79) + "…` in this organization. `/qovery list` shows them all."},
		{"stop стейджинг", "No cluster named `стейджинг` in this organization. `/qovery list` shows them all."},
		{"stop 🚀🚀", "No cluster named `🚀🚀` in this organization. `/qovery list` shows them all."},
		{"re`boot\u202e staging", "Unknown command `re`boot`.\n*Usage:*"},
	} {
		h.command(alice, ops, tc.text)
		if got := h.ephemeral(alice, i+1); !strings.HasPrefix(got, tc.want) {
			t.Errorf("/qovery %.40q answered %q; want %q", tc.text, got, tc.want)
		}
	}
}

func TestEscapedClusterNameEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop "+h.cluster["<!channel> party"].String())
	msg := h.confirmation(ops)
	// In the blocks the name is one bold text element, never a broadcast; the notification text
	// (mrkdwn) escapes it.
	if !strings.Contains(string(msg.Blocks), `{"style":{"bold":true},"text":"<!channel> party","type":"text"}`) ||
		strings.Contains(string(msg.Blocks), `"broadcast"`) || strings.Contains(msg.Text, "<!channel>") {
		t.Fatalf("the confirmation carries <!channel> as markup: %s / %q", msg.Blocks, msg.Text)
	}
	if !strings.Contains(msg.PlainText(), "Stop cluster *&lt;!channel&gt; party*?") || !strings.Contains(msg.PlainText(), "production: *yes*") {
		t.Errorf("confirmation = %q", msg.PlainText())
	}
}

func TestNotInChannelEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, "C0PRIVATE", "stop staging")
	got := h.ephemeral(alice, 1)
	if !strings.Contains(got, "Invite it with `/invite @Qovery`") || !strings.Contains(got, "Nothing was stopped") {
		t.Errorf("not_in_channel answer = %q", got)
	}
	// The request was dropped, so the cluster is free for a stop where the bot can post.
	h.command(alice, ops, "stop staging")
	h.confirmation(ops)
}

func TestRedeliveredEnvelopeActsOnce(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	acks := h.slack.Acks()
	if _, err := h.slack.Redeliver(h.ctx(), acks[len(acks)-1].EnvelopeID); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	// A redelivered click that acted would answer "Already confirmed" ephemerally; wait for the log
	// line that says it was dropped instead.
	h.waitLog("duplicate envelope ignored")
	if n := len(h.slack.Ephemerals(alice)); n != 0 {
		t.Errorf("the redelivered click produced %d ephemeral replies; want 0", n)
	}
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop called %d times; want 1", n)
	}
}

// TestRedeliveryDuringBurstHoldActsOnce redelivers a click at once, while the work of the first
// delivery is still held back for the acks of a burst (bot.Config.BurstQuiet): both deliveries are
// held, and the envelope log still lets only one of them act.
func TestRedeliveryDuringBurstHoldActsOnce(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	acks := h.slack.Acks()
	if _, err := h.slack.Redeliver(h.ctx(), acks[len(acks)-1].EnvelopeID); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	h.waitParent(msg, "is `STOPPED`")
	h.waitLog("duplicate envelope ignored")
	if n := len(h.slack.Ephemerals(alice)); n != 0 {
		t.Errorf("the redelivered click produced %d ephemeral replies; want 0", n)
	}
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop called %d times; want 1", n)
	}
}

func TestStartupErrors(t *testing.T) {
	err := run(t.Context(), nil, env(map[string]string{"SLACK_BOT_TOKEN": "xoxp-secretuser"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SLACK_APP_TOKEN: not set") || !strings.Contains(err.Error(), `SLACK_BOT_TOKEN: want a token starting with "xoxb-"`) {
		t.Fatalf("run with a bad environment = %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the error repeats a token: %v", err)
	}
	// A required variable is missing: a first run. The last line says where to go next.
	lines := strings.Split(err.Error(), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Fix: ") || !strings.Contains(last, "`go run . console`") || !strings.Contains(last, "`go run . doctor`") {
		t.Errorf("last line of the configuration error = %q; want a Fix pointing to `go run . console` and `go run . doctor`", last)
	}

	q := qoverysim.NewServer(t)
	a, b := q.AddOrganization("Acme"), q.AddOrganization("Globex")
	vars := map[string]string{"SLACK_APP_TOKEN": appTok, "SLACK_BOT_TOKEN": botTok, "QOVERY_API_TOKEN": q.Token(), "QOVERY_API_URL": q.URL(),
		"QOVERY_BOT_HTTP_ADDR": "off", "QOVERY_BOT_DATA_DIR": t.TempDir()} // nothing shared with other runs
	err = run(t.Context(), nil, env(vars), nil, io.Discard, io.Discard)
	checkExplained(t, "run with two organizations", err, vars,
		"QOVERY_ORGANIZATION_ID is not set and the Qovery token sees 2 organizations: Acme ("+a.String()+"), Globex ("+b.String()+")",
		"Fix: set QOVERY_ORGANIZATION_ID to the id of the organization the bot should act on")

	vars["QOVERY_ORGANIZATION_ID"] = a.String()
	vars["QOVERY_API_TOKEN"] = "qov_wrong_secret"
	err = run(t.Context(), nil, env(vars), nil, io.Discard, io.Discard)
	checkExplained(t, "run with a wrong Qovery token", err, vars, "Qovery rejected the token on GET /organization (401)", "Fix: create an organization API token")

	// Nothing listens on port 1 of this machine.
	vars["QOVERY_API_URL"] = "http://127.0.0.1:1"
	err = serve(t.Context(), env(vars), io.Discard, func(o *appOptions) { o.qoveryRetry = &qovery.RetryPolicy{MaxAttempts: 1} })
	checkExplained(t, "run with Qovery unreachable", err, vars,
		"Qovery (http://127.0.0.1:1) did not answer GET /organization: dial tcp 127.0.0.1:1: connect: connection refused",
		"Fix: check the network (and any proxy) to Qovery, and QOVERY_API_URL")

	vars["QOVERY_API_URL"], vars["QOVERY_API_TOKEN"] = q.URL(), q.Token()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	vars["QOVERY_BOT_HTTP_ADDR"] = ln.Addr().String()
	err = run(t.Context(), nil, env(vars), nil, io.Discard, io.Discard)
	checkExplained(t, "run with the health address taken", err, vars, ln.Addr().String()+" (QOVERY_BOT_HTTP_ADDR) is in use", "Fix: stop what listens there, or set QOVERY_BOT_HTTP_ADDR")

	vars["QOVERY_BOT_HTTP_ADDR"] = "off"
	sl := slacksim.NewServer(slacksim.WithAppToken(appTok), slacksim.WithBotToken(botTok))
	t.Cleanup(sl.Close)
	vars["SLACK_API_URL"], vars["SLACK_BOT_TOKEN"] = sl.APIURL(), "xoxb-wrong-secret"
	err = run(t.Context(), nil, env(vars), nil, io.Discard, io.Discard)
	checkExplained(t, "run with a wrong Slack bot token", err, vars, "Slack rejected the token on auth.test (invalid_auth)", "Fix: reinstall the app (Install App)")

	vars["SLACK_BOT_TOKEN"], vars["SLACK_APP_TOKEN"] = botTok, "xapp-wrong-secret"
	err = run(t.Context(), nil, env(vars), nil, io.Discard, io.Discard)
	checkExplained(t, "run with a wrong Slack app-level token", err, vars, "Slack rejected the app-level token on apps.connections.open (invalid_auth)", "Fix: generate an app-level token")

	vars["SLACK_APP_TOKEN"] = appTok
	vars["QOVERY_BOT_DATABASE_URL"] = "postgres://bot:hunter2-secret@127.0.0.1:1/bot?sslmode=disable&connect_timeout=2"
	err = run(t.Context(), nil, env(vars), nil, io.Discard, io.Discard)
	checkExplained(t, "run with the database unreachable", err, vars,
		"cannot use the database of QOVERY_BOT_DATABASE_URL: failed to connect to `user=bot database=bot`: ", "Fix: check QOVERY_BOT_DATABASE_URL (host, port, user, password")
}

// checkExplained checks that a start-up error is a line of cause then a line of fix, as doctor
// gives them: no Go error chain, no token, no password.
func checkExplained(t *testing.T, what string, err error, vars map[string]string, cause, fix string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s = nil; want an error", what)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], cause) || !strings.HasPrefix(lines[1], fix) {
		t.Errorf("%s = %q; want a line starting %q, then one starting %q", what, err, cause, fix)
	}
	for _, chain := range []string{"list Qovery organizations:", "open store", "migrate schema", "list organizations:", "qovery: GET"} {
		if strings.Contains(err.Error(), chain) {
			t.Errorf("%s = %q; want no Go error chain (%q)", what, err, chain)
		}
	}
	for _, k := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "QOVERY_API_TOKEN"} {
		if strings.Contains(err.Error(), vars[k]) {
			t.Errorf("%s = %q; it repeats %s", what, err, k)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("%s = %q; it repeats a token or a password", what, err)
	}
}

func TestManifestMatchesCode(t *testing.T) {
	m := readManifest(t)
	if got := m.Features.SlashCommands; len(got) != 1 || got[0].Command != commands.CommandName || got[0].Description == "" {
		t.Errorf("manifest slash commands = %+v; want exactly %s with a description", got, commands.CommandName)
	}
	if !m.Settings.SocketModeEnabled || !m.Settings.Interactivity.IsEnabled {
		t.Errorf("manifest settings = %+v; want Socket Mode and interactivity on", m.Settings)
	}
	if m.Settings.Interactivity.RequestURL != "" || m.Features.SlashCommands[0].URL != "" {
		t.Error("manifest has request URLs; Socket Mode needs none")
	}
}

func TestQoveryErrorsEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.qovery.FailNext(qoverysim.RouteClusters, 503, qovery.DefaultRetryPolicy().MaxAttempts) // every retry fails
	h.command(alice, ops, "stop staging")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "Qovery is unavailable right now, so the bot could not list the organization's clusters. Try again in a minute.") {
		t.Errorf("answer on a Qovery outage = %q", got)
	}
	h.qovery.FailNext(qoverysim.RouteClusterStatus, 403, 1)
	h.command(alice, ops, "status staging")
	if got := h.ephemeral(alice, 2); !strings.Contains(got, "Qovery refused access (403)") {
		t.Errorf("answer on a 403 = %q", got)
	}
	for _, e := range h.slack.Ephemerals(alice) {
		if strings.Contains(e.Text, "qovery:") || strings.Contains(e.Text, "http") {
			t.Errorf("a Go error reached the user: %q", e.Text)
		}
	}
	// The stop call itself fails and Qovery did not take it: the thread says so, and the stop is
	// not sent twice.
	h.qovery.FailNext(qoverysim.RouteStopCluster, 500, 1)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "was not stopped: the stop call failed")
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop calls = %d; want 1 (a failed POST is never retried)", n)
	}
	if got := h.ephemeral(alice, 3); !strings.Contains(got, "Qovery is unavailable right now, so the bot could not stop the cluster.") {
		t.Errorf("answer to the click = %q", got)
	}
}

func TestRestartDuringWatchResumesEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	id := h.cluster["staging"]
	h.qovery.SetStopScript(id, qovery.StateStopping) // and stays STOPPING while the bot runs
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "`STOPPING`")
	h.stop()

	// While the bot is down, the cluster finishes stopping.
	h.qovery.SetStatus(id, qovery.StateStopped)
	h.start()
	h.waitParent(msg, "is `STOPPED`")
	replies := h.replies(msg)
	want := []string{":inbox_tray: Qovery accepted the stop", ":gear: `STOPPING`", ":white_check_mark: `STOPPED` after"}
	if len(replies) != len(want) {
		t.Fatalf("thread after the restart = %q; want %d replies, each once", replies, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(replies[i], want[i]) {
			t.Errorf("reply %d = %q; want prefix %q", i, replies[i], want[i])
		}
	}
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop calls = %d; want 1", n)
	}
}

func TestSlackFaultsEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	// A rate-limited post is retried after Retry-After and still lands.
	h.slack.FailNext("chat.postMessage", 1, slacksim.Failure{Status: 429, RetryAfter: "1"})
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	if n := len(h.slack.Calls("chat.postMessage")); n != 2 {
		t.Errorf("chat.postMessage calls = %d; want 2 (one 429, one retry)", n)
	}
	// The parent can no longer be edited: the live status goes to the thread instead.
	h.slack.FailNext("chat.update", 1, slacksim.Failure{Error: "message_not_found"})
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	found := false
	for _, r := range h.replies(msg) {
		if strings.HasPrefix(r, ":hourglass_flowing_sand: Stopping *staging* · checking the cluster") {
			found = true
		}
	}
	if !found {
		t.Errorf("the failed parent edit was not posted in the thread: %q", h.replies(msg))
	}
}
