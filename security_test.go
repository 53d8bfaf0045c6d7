package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// End-to-end tests of the safety rules: who may stop what, exactly once, expiry, and protected
// clusters. Same harness as bot_test.go.

const carol = "U0CAROL"

func TestStopIsOffUntilConfigured(t *testing.T) {
	h := startBot(t, map[string]string{"QOVERY_BOT_ALLOWED_USERS": ""})
	h.command(alice, ops, "stop staging")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "an admin must set `QOVERY_BOT_ALLOWED_USERS`") {
		t.Errorf("stop with no policy answered %q", got)
	}
	h.command(alice, ops, "status staging")
	if got := h.ephemeral(alice, 2); !strings.Contains(got, "*staging* is `DEPLOYED`") {
		t.Errorf("status with no policy answered %q", got)
	}
	if n := len(h.slack.Messages(ops)); n != 0 {
		t.Errorf("%d messages posted; want none", n)
	}
	if !strings.Contains(h.logs.String(), `"audit":"stop_denied"`) || !strings.Contains(h.logs.String(), `"reason":"not_configured"`) {
		t.Error("the refusal was not audited")
	}
}

func TestUnauthorizedRequesterEndToEnd(t *testing.T) {
	h := startBot(t, map[string]string{"QOVERY_BOT_ALLOWED_USERS": bob})
	h.command(alice, ops, "stop staging")
	got := h.ephemeral(alice, 1)
	if !strings.Contains(got, "You are not allowed to stop clusters. An admin can add your Slack user id (U0ALICE) to `QOVERY_BOT_ALLOWED_USERS`") {
		t.Errorf("denied requester was told %q", got)
	}
	if n := len(h.slack.Messages(ops)); n != 0 || h.qovery.CountRequests("GET", "/organization/"+h.org.String()+"/cluster") != 0 {
		t.Errorf("a denied request posted %d messages or read Qovery", n)
	}
	if !strings.Contains(h.logs.String(), `"reason":"user_not_allowed"`) || !strings.Contains(h.logs.String(), `"slack_user":"U0ALICE"`) {
		t.Error("the denial was not audited with the user")
	}
}

func TestUnauthorizedClickerAndSecondPersonEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.slack.AddUser(carol, "carol")
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)

	h.click(carol, msg, commands.ActionConfirm)
	if got := h.ephemeral(carol, 1); !strings.Contains(got, "You are not allowed to stop clusters") {
		t.Errorf("carol's click answer = %q", got)
	}
	if n := h.stopCalls("staging"); n != 0 {
		t.Fatalf("an unauthorized click made %d stop calls", n)
	}
	// Any allowed user may confirm; the final message names both people.
	h.click(bob, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	r := h.replies(msg)
	if last := r[len(r)-1]; !strings.Contains(last, "<@U0ALICE> <@U0BOB>") {
		t.Errorf("final reply %q does not name requester and approver", last)
	}
	if !strings.Contains(h.logs.String(), `"audit":"stop_approved"`) {
		t.Error("a confirmation by another person was not audited as an approval")
	}
}

func TestChannelAndUserGroupPolicyEndToEnd(t *testing.T) {
	h := startBot(t, map[string]string{
		"QOVERY_BOT_ALLOWED_USERS":      "",
		"QOVERY_BOT_ALLOWED_USERGROUPS": "S0ONCALL",
		"QOVERY_BOT_ALLOWED_CHANNELS":   ops,
	})
	h.slack.AddUsergroup("S0ONCALL", "oncall", bob)
	h.slack.AddChannel("C0RANDOM", "random", true)

	h.command(bob, "C0RANDOM", "stop staging")
	if got := h.ephemeral(bob, 1); !strings.Contains(got, "Clusters can't be stopped from this channel. Use <#C0OPS>") {
		t.Errorf("stop from another channel answered %q", got)
	}
	h.command(alice, ops, "stop staging")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "You are not allowed to stop clusters") {
		t.Errorf("stop by a non-member answered %q", got)
	}
	h.command(bob, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(bob, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	if calls := h.slack.Calls("usergroups.users.list"); len(calls) != 1 {
		t.Errorf("usergroups.users.list called %d times; want 1 (alice's request; the cache serves bob's request and click)", len(calls))
	}
}

func TestDoubleClickStopsOnceEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	_, errs := h.slack.ClickButtons(h.ctx(),
		slacksim.Click{UserID: alice, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm},
		slacksim.Click{UserID: bob, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("click: %v", err)
		}
	}
	h.waitParent(msg, "is `STOPPED`")
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop calls after two clicks = %d; want 1", n)
	}
	loser := alice
	if final, _ := h.slack.Message(ops, msg.TS); strings.Contains(final.PlainText(), "confirmed by <@U0ALICE>") {
		loser = bob
	}
	if got := h.ephemeral(loser, 1); !strings.Contains(got, "Already confirmed by <@") {
		t.Errorf("the second click was told %q", got)
	}
}

func TestSecondRequestLinksToTheFirstEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.waitLog(`"audit":"stop_requested"`) // the bot has recorded where its message is
	h.command(bob, ops, "stop staging")
	got := h.ephemeral(bob, 1)
	link := "https://fake-workspace.slack.com/archives/C0OPS/p" + strings.ReplaceAll(msg.TS, ".", "")
	if !strings.Contains(got, "A stop of *staging* is waiting for confirmation (requested by <@U0ALICE>") || !strings.Contains(got, link) {
		t.Errorf("second request answered %q; want a link to %s", got, link)
	}
	if n := len(h.slack.Messages(ops)); n != 1 {
		t.Errorf("%d messages in the channel; want only the first request's", n)
	}
}

func TestExpiredClickEndToEnd(t *testing.T) {
	h := startBot(t, map[string]string{"QOVERY_BOT_CONFIRM_TTL": "1ns"}, func(o *appOptions) { o.expirySweep = time.Hour })
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	final := h.waitParent(msg, "expired")
	if len(final.Buttons()) != 0 {
		t.Error("the expired message kept its buttons")
	}
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "This request expired; nothing was done. Run `/qovery stop staging` again.") {
		t.Errorf("late click answered %q", got)
	}
	if n := h.stopCalls("staging"); n != 0 {
		t.Errorf("an expired confirmation made %d stop calls", n)
	}
	if !strings.Contains(h.logs.String(), `"audit":"stop_expired"`) {
		t.Error("expiry not audited")
	}
}

func TestExpiryWithoutClickEndToEnd(t *testing.T) {
	h := startBot(t, map[string]string{"QOVERY_BOT_CONFIRM_TTL": "1ns"}, func(o *appOptions) { o.expirySweep = 5 * time.Millisecond })
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	final := h.waitParent(msg, "expired: nobody confirmed")
	if len(final.Buttons()) != 0 {
		t.Error("the expired message kept its buttons")
	}
}

func TestVoidedConfirmationEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.qovery.SetStatus(h.cluster["staging"], qovery.StateDeploying) // someone redeploys meanwhile
	h.click(alice, msg, commands.ActionConfirm)
	final := h.waitParent(msg, "was not stopped")
	if !strings.Contains(final.PlainText(), "the cluster changed since the request") || !strings.Contains(final.PlainText(), "`DEPLOYING`") {
		t.Errorf("voided parent = %q", final.PlainText())
	}
	if n := h.stopCalls("staging"); n != 0 {
		t.Errorf("a voided confirmation made %d stop calls", n)
	}
	if !strings.Contains(h.logs.String(), `"audit":"stop_voided"`) {
		t.Error("void not audited")
	}
}

// typeName waits for the typed-confirmation modal opened for user and submits typed in it.
func (h *harness) typeName(user, typed string) slacksim.ViewResult {
	h.t.Helper()
	var view slacksim.View
	err := h.slack.WaitFor(h.ctx(), func() bool {
		for _, v := range h.slack.Views(user) {
			if v.Open {
				view = v
				return true
			}
		}
		return false
	})
	if err != nil {
		h.t.Fatalf("no modal opened for %s: %v", user, err)
	}
	inputs := view.Inputs()
	if len(inputs) != 1 {
		h.t.Fatalf("modal inputs = %+v; want one", inputs)
	}
	res, err := h.slack.SubmitView(h.ctx(), slacksim.ViewSubmission{UserID: user, ViewID: view.ID,
		Values: map[string]map[string]string{inputs[0].BlockID: {inputs[0].ActionID: typed}}})
	if err != nil {
		h.t.Fatalf("submit modal: %v", err)
	}
	return res
}

func TestProtectedClusterTypedConfirmationEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop production-eu")
	msg := h.confirmation(ops)
	if !strings.Contains(msg.PlainText(), "Protected cluster: confirming asks for its name.") {
		t.Errorf("confirmation of a production cluster = %q", msg.PlainText())
	}
	h.click(alice, msg, commands.ActionConfirm)
	res := h.typeName(alice, "Production-EU")
	if res.Closed || !strings.Contains(res.Errors["cluster_name"], "Type production-eu exactly") {
		t.Fatalf("wrong name: closed=%v errors=%v; want the modal kept open with an error on the input", res.Closed, res.Errors)
	}
	if n := h.stopCalls("production-eu"); n != 0 {
		t.Fatalf("a wrong typed name made %d stop calls", n)
	}
	views := h.slack.Views(alice)
	res, err := h.slack.SubmitView(h.ctx(), slacksim.ViewSubmission{UserID: alice, ViewID: views[len(views)-1].ID,
		Values: map[string]map[string]string{"cluster_name": {"typed_name": "production-eu"}}})
	if err != nil || !res.Closed {
		t.Fatalf("right name: %+v, %v; want the modal closed", res, err)
	}
	h.waitParent(msg, "is `STOPPED`")
	if n := h.stopCalls("production-eu"); n != 1 {
		t.Errorf("stop calls = %d; want 1", n)
	}
	if !strings.Contains(h.logs.String(), `"reason":"typed_name_mismatch"`) {
		t.Error("the wrong name was not audited")
	}
}

func TestFourEyesEndToEnd(t *testing.T) {
	h := startBot(t, map[string]string{"QOVERY_BOT_FOUR_EYES": "true", "QOVERY_BOT_PROTECTED_CLUSTERS": "stag*"})
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	if !strings.Contains(msg.PlainText(), "A second person must confirm: not <@U0ALICE>.") {
		t.Errorf("confirmation = %q", msg.PlainText())
	}
	h.click(alice, msg, commands.ActionConfirm)
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "needs a second person") {
		t.Errorf("requester's own confirm answered %q", got)
	}
	if len(h.slack.Views(alice)) != 0 {
		t.Error("the requester got the confirmation modal")
	}
	h.click(bob, msg, commands.ActionConfirm)
	if res := h.typeName(bob, "staging"); !res.Closed {
		t.Fatalf("bob's typed confirmation stayed open: %v", res.Errors)
	}
	h.waitParent(msg, "is `STOPPED`")
	r := h.replies(msg)
	if last := r[len(r)-1]; !strings.Contains(last, "<@U0ALICE> <@U0BOB>") {
		t.Errorf("final reply %q does not name requester and approver", last)
	}
	if !strings.Contains(h.logs.String(), `"reason":"four_eyes"`) {
		t.Error("the requester's refused confirm was not audited")
	}
}

func TestSlackPayloadVariantsEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	variants := []slacksim.Variant{slacksim.VariantEnterpriseInstallBool, slacksim.VariantEnterpriseInstallString,
		slacksim.VariantEnterpriseInstallMissing, slacksim.VariantEnterpriseGrid}
	for i, v := range variants {
		if _, err := h.slack.SlashCommand(h.ctx(), slacksim.SlashCommand{UserID: alice, ChannelID: ops, Command: "/qovery", Text: "status staging", Variant: v}); err != nil {
			t.Fatalf("variant %d: %v", v, err)
		}
		if got := h.ephemeral(alice, i+1); !strings.Contains(got, "*staging* is `DEPLOYED`") {
			t.Errorf("variant %d answered %q", v, got)
		}
	}
	// An Enterprise Grid click works too.
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	if _, err := h.slack.ClickButton(h.ctx(), slacksim.Click{UserID: alice, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm, Variant: slacksim.VariantEnterpriseGrid}); err != nil {
		t.Fatal(err)
	}
	h.waitParent(msg, "is `STOPPED`")
}

func TestAuditLogFileEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	h := startBot(t, map[string]string{"QOVERY_BOT_AUDIT_LOG": path})
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(bob, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	h.stop() // flush and close

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("audit log mode = %o; want 600", perm)
	}
	b, _ := os.ReadFile(path)
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q is not JSON: %v", line, err)
		}
		for _, field := range []string{"audit", "request_id", "team_id", "org_id", "cluster_id", "channel"} {
			if s, _ := ev[field].(string); s == "" {
				t.Errorf("audit line %q lacks %s", line, field)
			}
		}
		actions = append(actions, ev["audit"].(string))
	}
	if !strings.Contains(string(b), `"audit":"stop_called","request_id"`) || !strings.Contains(string(b), `"http_status":202`) {
		t.Errorf("the stop call's audit event lacks the HTTP status:\n%s", b)
	}
	want := []string{"stop_requested", "stop_approved", "stop_called", "state_changed", "stop_finished"}
	got := strings.Join(actions, ",")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("audit actions %v lack %s", actions, w)
		}
	}
	if strings.Contains(string(b), `"level":"debug"`) {
		t.Error("the audit file carries debug lines; want audit events only")
	}
}

func TestForgedButtonValuesEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	real := msg.Buttons()[0].Value
	opID, _, _ := strings.Cut(real, ":")
	for i, tc := range []struct {
		value, want, reason string
	}{
		{"DROP TABLE", "This button was not made by this bot", "malformed_button_value"},
		{real[:40], "This button was not made by this bot", "malformed_button_value"},
		{opID + ":" + h.cluster["production-eu"].String(), "does not belong to a request the bot knows", "unknown_request"},
		{"11111111-2222-4333-8444-555555555555:" + h.cluster["staging"].String(), "does not belong to a request the bot knows", "unknown_request"},
	} {
		if _, err := h.slack.ClickButton(h.ctx(), slacksim.Click{UserID: alice, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm, ForgedValue: tc.value}); err != nil {
			t.Fatal(err)
		}
		if got := h.ephemeral(alice, i+1); !strings.Contains(got, tc.want) {
			t.Errorf("forged value %q answered %q; want %q", tc.value, got, tc.want)
		}
		h.waitLog(`"reason":"` + tc.reason + `"`)
	}
	if n := h.stopCalls("staging") + h.stopCalls("production-eu"); n != 0 {
		t.Errorf("forged clicks made %d stop calls", n)
	}
	// The genuine button still works.
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
}
