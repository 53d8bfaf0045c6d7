package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore/pgtest"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Operations: health endpoints and start-up failures, end to end.

func TestHealthEndpointsEndToEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := startBot(t, nil, func(o *appOptions) { o.healthListener = ln })
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(h.ctx(), http.MethodGet, "http://"+ln.Addr().String()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, "slack: ok") || !strings.Contains(body, "store: ok") || !strings.Contains(body, "qovery: ok") {
		t.Errorf("/readyz when all is well = %d %q", code, body)
	}
	// The Qovery token is revoked: the next call gets 401, and readiness turns false.
	h.qovery.FailNext(qoverysim.RouteClusters, 401, 1)
	h.command(alice, ops, "list")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "`QOVERY_API_TOKEN`") {
		t.Errorf("list with a revoked token answered %q", got)
	}
	// The answer names the check only; the detail is in the log.
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "qovery: failed") || strings.Contains(body, "401") {
		t.Errorf("/readyz after a 401 = %d %q; want 503 with qovery: failed and no detail", code, body)
	}
	h.waitLog(`"check":"qovery","error":"Qovery answers 401`)
	h.command(alice, ops, "list") // the token works again
	h.ephemeral(alice, 2)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz after Qovery accepted the token again = %d", code)
	}
}

func TestFatalSlackAuthExits(t *testing.T) {
	q := qoverysim.NewServer(t)
	q.AddOrganization("Acme")
	s := slacksim.NewServer(slacksim.WithAppToken(appTok), slacksim.WithBotToken(botTok))
	t.Cleanup(s.Close)
	base := map[string]string{
		"SLACK_APP_TOKEN": appTok, "SLACK_BOT_TOKEN": botTok, "SLACK_API_URL": s.APIURL(),
		"QOVERY_API_TOKEN": q.Token(), "QOVERY_API_URL": q.URL(),
		"QOVERY_BOT_DATA_DIR": t.TempDir(), "QOVERY_BOT_HTTP_ADDR": "off",
	}
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"revoked bot token", "SLACK_BOT_TOKEN", "xoxb-revoked", "Slack rejected the token on auth.test (invalid_auth).\nFix: reinstall the app"},
		{"wrong app token", "SLACK_APP_TOKEN", "xapp-1-wrong", "Slack rejected the app-level token on apps.connections.open (invalid_auth).\nFix: generate an app-level token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			vars[tc.key] = tc.value
			done := make(chan error, 1)
			go func() { done <- serve(t.Context(), env(vars), io.Discard) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("serve = %v; want an error containing %q", err, tc.want)
				}
				if err != nil && strings.Contains(err.Error(), tc.value) {
					t.Errorf("the error repeats the token: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serve kept running with a rejected token; want it to exit")
			}
		})
	}
}

func TestSecondProcessOnTheSameDataFileRefuses(t *testing.T) {
	h := startBot(t, nil)
	vars := map[string]string{}
	for k, v := range h.vars {
		vars[k] = v
	}
	err := serve(t.Context(), env(vars), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "QOVERY_BOT_DATABASE_URL") {
		t.Errorf("a second bot on the same data dir = %v; want a refusal pointing to QOVERY_BOT_DATABASE_URL", err)
	}
}

func TestRetryAfterAStopQoveryDidNotTakeEndToEnd(t *testing.T) {
	h := startBot(t, nil, fastQoveryRetries)
	h.qovery.FailNext(qoverysim.RouteStopCluster, 500, 1)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "was not stopped")
	var failed slacksim.Message
	if err := h.slack.WaitFor(h.ctx(), func() bool {
		for _, r := range h.slack.Replies(ops, msg.TS) {
			if len(r.Buttons()) == 1 {
				failed = r
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no reply with a Try again button: %q", h.replies(msg))
	}
	if b := failed.Buttons()[0]; b.ActionID != commands.ActionRetry || b.Text != "Try again" {
		t.Fatalf("button = %+v", b)
	}
	// Bob tries again: a fresh request, with its own confirmation.
	h.click(bob, failed, commands.ActionRetry)
	var second slacksim.Message
	if err := h.slack.WaitFor(h.ctx(), func() bool {
		for _, m := range h.slack.Messages(ops) {
			if m.ThreadTS == "" && m.TS != msg.TS {
				second = m
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal("Try again posted no new confirmation")
	}
	if !strings.Contains(second.PlainText(), "Requested by <@U0BOB>") {
		t.Errorf("new confirmation = %q", second.PlainText())
	}
	h.click(bob, second, commands.ActionConfirm)
	h.waitParent(second, "is `STOPPED`")
	if n := h.stopCalls("staging"); n != 2 {
		t.Errorf("stop calls = %d; want 2 (the failed one, then the retry)", n)
	}
}

// fastQoveryRetries keeps the Qovery client's retries but makes their waits short.
func fastQoveryRetries(o *appOptions) {
	o.qoveryRetry = &qovery.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func TestFaultsDuringAWatchEndToEnd(t *testing.T) {
	h := startBot(t, nil, fastQoveryRetries)
	id := h.cluster["staging"]
	h.qovery.SetStopScript(id, qovery.StateStopping, qovery.StateStopping, qovery.StateStopping, qovery.StateStopping, qovery.StateStopped)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "`STOPPING`")

	// Mid-watch: a 503 storm on the organization-wide status (the watch falls back to the cluster's
	// own status), 429s there too, a Slack 429, and the socket dropped.
	h.qovery.FailNext(qoverysim.RouteClusterStatuses, 503, 6)
	h.qovery.InjectFault(qoverysim.RouteClusterStatus, qoverysim.Fault{StatusCode: 429, RetryAfter: "0", Times: 2})
	h.slack.FailNext("chat.postMessage", 1, slacksim.Failure{Status: 429})
	h.slack.DropConnections()

	h.waitParent(msg, "is `STOPPED`")
	replies := h.replies(msg)
	want := []string{":inbox_tray: Qovery accepted the stop", ":gear: `STOPPING`", ":white_check_mark: `STOPPED` after"}
	if len(replies) != len(want) {
		t.Fatalf("thread = %q; want exactly %d replies", replies, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(replies[i], want[i]) {
			t.Errorf("reply %d = %q; want prefix %q", i, replies[i], want[i])
		}
	}
	// The socket came back: commands still work.
	if err := h.slack.WaitConnected(h.ctx()); err != nil {
		t.Fatal(err)
	}
	h.command(alice, ops, "status staging")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "`STOPPED`") {
		t.Errorf("status after the reconnect = %q", got)
	}
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop calls = %d; want 1", n)
	}
}

func TestBotTokenRevokedWhileRunningExits(t *testing.T) {
	q := qoverysim.NewServer(t)
	org := q.AddOrganization("Acme")
	q.AddCluster(org, qoverysim.ClusterSpec{Name: "staging", Region: "eu-west-3", CloudProvider: "AWS"})
	s := slacksim.NewServer(slacksim.WithAppToken(appTok), slacksim.WithBotToken(botTok))
	t.Cleanup(s.Close)
	vars := map[string]string{
		"SLACK_APP_TOKEN": appTok, "SLACK_BOT_TOKEN": botTok, "SLACK_API_URL": s.APIURL(),
		"QOVERY_API_TOKEN": q.Token(), "QOVERY_API_URL": q.URL(), "QOVERY_BOT_ALLOWED_USERS": alice,
		"QOVERY_BOT_DATA_DIR": t.TempDir(), "QOVERY_BOT_HTTP_ADDR": "off",
	}
	done := make(chan error, 1)
	go func() { done <- serve(t.Context(), env(vars), io.Discard) }()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	s.FailNext("chat.postMessage", 1, slacksim.Failure{Error: "token_revoked"})
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: alice, ChannelID: ops, Text: "stop staging"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "Slack rejected SLACK_BOT_TOKEN: token_revoked") {
			t.Errorf("serve = %v; want it to stop on the revoked token", err)
		}
	case <-ctx.Done():
		t.Fatal("serve kept running with a revoked bot token")
	}
}

func TestMetricsEndToEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := startBot(t, nil, func(o *appOptions) { o.healthListener = ln })
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	h.waitLog(`"audit":"stop_finished"`)

	fetch := func() string {
		req, _ := http.NewRequestWithContext(h.ctx(), http.MethodGet, "http://"+ln.Addr().String()+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// The watch goroutine ends just after its last message: scrape until the gauge says so, as
	// Prometheus would on its next scrape.
	body := fetch()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(body, "qovery_bot_active_watches 0") {
		select {
		case <-h.ctx().Done():
			t.Fatalf("qovery_bot_active_watches never went back to 0")
		case <-tick.C:
		}
		body = fetch()
	}
	for _, want := range []string{
		`qovery_bot_operations_total{outcome="succeeded",verb="stop"} 1`,
		`qovery_bot_confirmations_total{outcome="confirmed"} 1`,
		`qovery_bot_qovery_requests_total{code="202",endpoint="POST /organization/{id}/cluster/{id}/stop"} 1`,
		`qovery_bot_qovery_requests_total{code="200",endpoint="GET /organization/{id}/cluster/status"}`,
		`qovery_bot_slack_api_calls_total{code="200",method="chat.postMessage"}`,
		`qovery_bot_active_watches 0`,
		`qovery_bot_stop_duration_seconds_count 1`,
		`qovery_bot_ack_latency_seconds_count 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// When serve returns, every goroutine the program started has returned too: the bot and its work,
// the status watcher, the health endpoints and, with the database, the lease renewals (the store is
// closed after all of them).
func TestServeAwaitsWhatItStarts(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) map[string]string
	}{
		{"data file", func(*testing.T) map[string]string { return nil }},
		{"database", func(t *testing.T) map[string]string {
			return map[string]string{"QOVERY_BOT_DATABASE_URL": pgtest.Database(t), "QOVERY_BOT_DATA_DIR": ""}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			h := startBot(t, tc.env(t), func(o *appOptions) { o.healthListener = ln })
			h.command(alice, ops, "stop staging")
			h.click(alice, h.confirmation(ops), commands.ActionConfirm)
			h.waitLog(`"audit":"stop_called"`)
			if left := programGoroutines(); len(left) == 0 {
				t.Fatal("no goroutine of the program found while it runs: the check below would prove nothing")
			}
			h.stop()
			// A goroutine that has already told its WaitGroup it is done may still be unwinding for a
			// moment; only one that lingers is a leak.
			left := programGoroutines()
			for deadline := time.Now().Add(100 * time.Millisecond); len(left) > 0 && time.Now().Before(deadline); left = programGoroutines() {
				runtime.Gosched()
			}
			if len(left) > 0 {
				t.Errorf("%d goroutines of the program still run after serve returned:\n%s", len(left), strings.Join(left, "\n\n"))
			}
		})
	}
}

// programGoroutines returns the stacks of the goroutines that the program's own packages run or
// started (not the simulators', not the tests').
func programGoroutines() []string {
	buf := make([]byte, 4<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	const mod = "github.com/qovery-slack-bot/qovery-slack-bot"
	var found []string
	for _, g := range strings.Split(dump, "\n\n") {
		for _, pkg := range []string{mod + ".(*app)", mod + "/bot.", mod + "/commands", mod + "/qovery.", mod + "/ops/"} {
			if strings.Contains(g, pkg) {
				found = append(found, g)
				break
			}
		}
	}
	return found
}
