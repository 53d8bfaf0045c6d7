package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// End-to-end tests of the hardening that followed the security review. Same harness as
// bot_test.go.

const (
	mallory    = "U0MALLORY"
	otherTeam  = "T0OTHERORG"
	foreignMsg = "your account belongs to another organization, so nothing was done"
)

// A member of another organization, in a Slack Connect channel shared with the workspace, may
// neither request, nor confirm or cancel, nor submit the typed confirmation, even when every
// member may; the audit names the actor's team.
func TestOtherOrganizationRefusedEndToEnd(t *testing.T) {
	h := startBot(t, map[string]string{"QOVERY_BOT_ALLOWED_USERS": "*"})
	h.slack.AddUser(mallory, "mallory")

	if _, err := h.slack.SlashCommand(h.ctx(), slacksim.SlashCommand{UserID: mallory, ChannelID: ops, Text: "stop staging", TeamID: otherTeam}); err != nil {
		t.Fatal(err)
	}
	if got := h.ephemeral(mallory, 1); !strings.Contains(got, foreignMsg) {
		t.Errorf("a command from another organization answered %q", got)
	}
	if n := len(h.slack.Messages(ops)); n != 0 {
		t.Fatalf("a command from another organization posted %d messages", n)
	}

	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	for i, action := range []string{commands.ActionConfirm, commands.ActionCancel} {
		if _, err := h.slack.ClickButton(h.ctx(), slacksim.Click{UserID: mallory, ChannelID: ops, MessageTS: msg.TS, ActionID: action, TeamID: otherTeam}); err != nil {
			t.Fatal(err)
		}
		if got := h.ephemeral(mallory, i+2); !strings.Contains(got, foreignMsg) {
			t.Errorf("%s by another organization answered %q", action, got)
		}
	}
	if cur, _ := h.slack.Message(ops, msg.TS); len(cur.Buttons()) != 2 {
		t.Errorf("after clicks from another organization the confirmation is %q; want it untouched", cur.PlainText())
	}

	// The typed confirmation of a protected cluster, submitted from another team.
	h.command(alice, ops, "stop production-eu")
	var prod slacksim.Message
	if err := h.slack.WaitFor(h.ctx(), func() bool {
		for _, m := range h.slack.Messages(ops) {
			if strings.Contains(m.PlainText(), "production-eu") {
				prod = m
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	h.click(alice, prod, commands.ActionConfirm)
	if err := h.slack.WaitFor(h.ctx(), func() bool { return len(h.slack.Views(alice)) > 0 }); err != nil {
		t.Fatal(err)
	}
	views := h.slack.Views(alice)
	res, err := h.slack.SubmitView(h.ctx(), slacksim.ViewSubmission{UserID: alice, ViewID: views[len(views)-1].ID, TeamID: otherTeam,
		Values: map[string]map[string]string{"cluster_name": {"typed_name": "production-eu"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Closed || !strings.Contains(res.Errors["cluster_name"], foreignMsg) {
		t.Errorf("a submission from another organization: closed=%v errors=%v; want it refused in the modal", res.Closed, res.Errors)
	}

	if err := h.logs.waitForCount(h.ctx(), `"reason":"foreign_team"`, 4); err != nil {
		t.Fatalf("refusals audited: %v\n%s", err, h.logs.String())
	}
	if n := h.stopCalls("staging") + h.stopCalls("production-eu"); n != 0 {
		t.Errorf("members of another organization caused %d stop calls", n)
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, `"reason":"foreign_team"`) && !strings.Contains(line, `"actor_team_id":"`+otherTeam+`"`) {
			t.Errorf("audit line does not name the actor's team: %s", line)
		}
	}
	// The workspace's own members still act.
	h.click(bob, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	if !strings.Contains(h.logs.String(), `"audit":"stop_approved"`) || !strings.Contains(h.logs.String(), `"actor_team_id":"T0FAKE`) {
		t.Errorf("the approval's audit line lacks the approver's team:\n%s", h.logs.String())
	}
}

// The audit trail is written whatever LOG_LEVEL says, with or without an audit file.
func TestAuditAtWarnLevelEndToEnd(t *testing.T) {
	h := startBot(t, map[string]string{"LOG_LEVEL": "warn"})
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	for _, audit := range []string{`"audit":"stop_requested"`, `"audit":"stop_confirmed"`, `"audit":"stop_called"`, `"audit":"stop_finished"`} {
		h.waitLog(audit)
	}
	if strings.Contains(h.logs.String(), `"level":"debug"`) {
		t.Error("debug lines at LOG_LEVEL=warn")
	}
}

// failResponseURLs fails every post to a response_url at the network level, as a dropped
// connection would.
type failResponseURLs struct{ base http.RoundTripper }

func (f failResponseURLs) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/response/") {
		return nil, errors.New("connection reset by peer")
	}
	return f.base.RoundTrip(r)
}

// A response_url can post as the app for 30 minutes: a failed post to one logs its cause, never
// the URL.
func TestResponseURLNotLoggedEndToEnd(t *testing.T) {
	h := startBot(t, nil, func(o *appOptions) {
		o.wrapTransport = func(base http.RoundTripper) http.RoundTripper { return failResponseURLs{base} }
	})
	h.command(alice, ops, "status staging")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "*staging* is `DEPLOYED`") {
		t.Errorf("status answered %q through the fallback", got)
	}
	h.waitLog("reply through response_url failed")
	logs := h.logs.String()
	if !strings.Contains(logs, "connection reset by peer") {
		t.Errorf("the log lacks the cause of the failure:\n%s", logs)
	}
	if strings.Contains(logs, "/response/") || strings.Contains(logs, h.slack.URL()) {
		t.Errorf("the log carries a response_url:\n%s", logs)
	}
}

// A burst of read-only commands costs Qovery one listing, a user asking too quickly is told so
// politely, and what the bot does to a cluster shows at once in its answers. The commands' clock
// is frozen, so the cache never expires on its own and the throttle never refills.
func TestReadOnlyVerbsCachedAndThrottledEndToEnd(t *testing.T) {
	frozen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := startBot(t, nil, func(o *appOptions) { o.now = func() time.Time { return frozen } })
	listPath := "/organization/" + h.org.String() + "/cluster"
	for i := 1; i <= commands.DefaultReadBurst+2; i++ {
		h.command(alice, ops, "list")
		got := h.ephemeral(alice, i)
		want := "*4 clusters* in *Acme*"
		if i > commands.DefaultReadBurst {
			want = "You are asking quickly; try again in a few seconds."
		}
		if !strings.Contains(got, want) {
			t.Errorf("list #%d answered %q; want %q", i, got, want)
		}
	}
	if n := h.qovery.CountRequests("GET", listPath); n != 1 {
		t.Errorf("%d lists read the clusters %d times; want once", commands.DefaultReadBurst, n)
	}

	// Bob is not throttled by Alice's burst; his status is cached, until the bot stops the cluster.
	h.command(bob, ops, "status staging")
	if got := h.ephemeral(bob, 1); !strings.Contains(got, "*staging* is `DEPLOYED`") {
		t.Fatalf("bob's status answered %q", got)
	}
	h.command(bob, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(bob, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	h.command(bob, ops, "status staging")
	if got := h.ephemeral(bob, 2); !strings.Contains(got, "*staging* is `STOPPED`") {
		t.Errorf("status after the bot stopped the cluster answered %q; want STOPPED", got)
	}
}

// The API base URLs take http only on this machine: elsewhere the tokens would cross the network in
// clear.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		ok         bool
	}{
		{"SLACK_API_URL", "http://example.com/api/", false},
		{"QOVERY_API_URL", "http://example.com", false},
		{"QOVERY_API_URL", "http://10.0.0.7:8080", false},
		{"QOVERY_API_URL", "http://localhost.example.com", false},
		{"SLACK_API_URL", "http://127.0.0.1:1234/api/", true},
		{"QOVERY_API_URL", "http://127.0.0.1:1234", true},
		{"QOVERY_API_URL", "http://127.1.2.3:1234", true},
		{"QOVERY_API_URL", "http://[::1]:1234", true},
		{"QOVERY_API_URL", "http://localhost:1234", true},
		{"QOVERY_API_URL", "https://qovery.example.com", true},
	} {
		e := validEnv()
		e[tc.key] = tc.value
		_, err := loadConfig(env(e))
		if tc.ok && err != nil {
			t.Errorf("%s=%s: loadConfig = %v; want it accepted", tc.key, tc.value, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.key+": want https")) {
			t.Errorf("%s=%s: loadConfig = %v; want it refused", tc.key, tc.value, err)
		}
	}
}

// countingPruner counts prunes and reports each cutoff; occurrence prunes report theirs too.
type countingPruner struct{ cutoffs, occurrences chan time.Time }

func (p countingPruner) PruneOccurrences(ctx context.Context, before time.Time) (int, error) {
	select {
	case p.occurrences <- before:
	case <-ctx.Done():
	}
	return 0, nil
}

func (p countingPruner) Prune(ctx context.Context, before time.Time) (int, error) {
	select {
	case p.cutoffs <- before:
	case <-ctx.Done():
	}
	return 0, nil
}

// Finished operations are pruned periodically, not only at start-up.
func TestPruneSettledPeriodically(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := countingPruner{cutoffs: make(chan time.Time), occurrences: make(chan time.Time)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pruneSettled(ctx, zerolog.Nop(), p, time.Millisecond, settledRetention, func() time.Time { return now })
	}()
	for i := range 3 {
		for _, c := range []struct {
			what    string
			cutoffs chan time.Time
		}{{"operations", p.cutoffs}, {"occurrences", p.occurrences}} {
			what, cutoffs := c.what, c.cutoffs
			select {
			case got := <-cutoffs:
				if want := now.Add(-settledRetention); !got.Equal(want) {
					t.Errorf("prune of %s #%d before %s; want %s", what, i+1, got, want)
				}
			case <-time.After(waitFor):
				t.Fatalf("prune of %s #%d never came", what, i+1)
			}
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("pruneSettled did not return after its context ended")
	}
}

// logrotate renames the audit file, then sends SIGHUP: the bot then writes to a new file at the
// configured path.
func TestAuditFileReopenedOnHangupEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	reopen := make(chan os.Signal, 1)
	h := startBot(t, map[string]string{"QOVERY_BOT_AUDIT_LOG": path}, func(o *appOptions) { o.reopenAudit = reopen })
	h.command(alice, ops, "stop staging")
	h.confirmation(ops)
	h.waitLog(`"audit":"stop_requested"`)

	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	reopen <- syscall.SIGHUP
	h.waitLog("audit log reopened")
	h.command(bob, ops, "stop preview")
	h.waitLog(`"cluster":"preview","requested_by":"U0BOB","message_ts"`)
	h.stop() // flush and close

	old, _ := os.ReadFile(rotated)
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no new audit file after the reopen: %v", err)
	}
	if !strings.Contains(string(old), `"cluster":"staging"`) || strings.Contains(string(old), `"cluster":"preview"`) {
		t.Errorf("the rotated file has:\n%s\nwant staging's request only", old)
	}
	if !strings.Contains(string(cur), `"cluster":"preview"`) || strings.Contains(string(cur), `"cluster":"staging"`) {
		t.Errorf("the new file has:\n%s\nwant preview's request only", cur)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm() != 0o600 {
		t.Errorf("new audit file mode = %o; want 600", info.Mode().Perm())
	}
}
