package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// clusterRunning adds a cluster running n environments, costing cost (nil: unknown), to the
// harness's organization.
func (h *harness) clusterRunning(name string, n int, cost *qovery.CostRange) {
	envs := make([]qovery.ClusterEnvironment, n)
	for i := range envs {
		envs[i] = qovery.ClusterEnvironment{EnvironmentID: uuid.New(), ProjectID: uuid.New(), ProjectName: fmt.Sprintf("project-%d", i%4),
			EnvironmentName: fmt.Sprintf("env-%03d", i), Services: []qovery.ClusterEnvironmentService{{ID: uuid.New(), Name: "api", Type: "APPLICATION"}}}
	}
	h.cluster[name] = h.qovery.AddCluster(h.org, qoverysim.ClusterSpec{Name: name, Environments: envs, Cost: cost})
}

// The confirmation shows what a stop takes down and what the cluster costs, within Slack's Block
// Kit limits (the simulated Slack refuses a message over them), and the stop still works.
func TestConfirmationShowsTheImpactEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.clusterRunning("big", 150, &qovery.CostRange{Min: 1200, Max: 1800, Currency: "USD"})
	h.clusterRunning("empty", 0, nil)

	h.command(alice, ops, "stop big")
	msg := h.confirmation(ops)
	text := msg.PlainText()
	for _, want := range []string{":package: *150 environments run* on this cluster and stop with it:", "• project-0 / *env-000* · 1 service",
		"…and 140 more.", ":moneybag: The cluster costs $1,200–1,800 / month."} {
		if !strings.Contains(text, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, text)
		}
	}
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")

	h.command(alice, ops, "status empty")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "0 environments run on it") {
		t.Errorf("status = %q; want the environments counted", got)
	}
}

// When Qovery cannot say what runs on the cluster, or takes too long to, the confirmation goes
// out within the budget saying so, and the stop still works.
func TestConfirmationWithoutTheImpactEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.qovery.FailNext(qoverysim.RouteClusterEnvironments, 500, 3) // every attempt of the client's retries
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	if text := msg.PlainText(); !strings.Contains(text, "Environments unavailable: Qovery answered 500.") {
		t.Errorf("confirmation = %q; want it to say the environments could not be read", text)
	}
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")

	h.qovery.SetDelay(qoverysim.RouteClusterEnvironments, 5*time.Second)
	start := time.Now()
	h.command(alice, ops, "stop preview")
	msg = h.newTopLevel(msg.TS)
	if text := msg.PlainText(); !strings.Contains(text, "Environments unavailable: Qovery did not answer within 1.5s.") {
		t.Errorf("confirmation = %q; want it to say the environments did not come in time", text)
	}
	if waited := time.Since(start); waited >= 5*time.Second {
		t.Errorf("the confirmation waited %v for a read that takes 5 s", waited)
	}
	h.qovery.SetDelay(qoverysim.RouteClusterEnvironments, 0)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "stop failed") // preview's stop ends in STOP_ERROR: the call was made
	if n := h.stopCalls("preview"); n != 1 {
		t.Errorf("stop calls = %d; want 1", n)
	}
}

// A stop that fails says why in its thread, from Qovery's logs, and its Try again button makes a
// fresh confirmation.
func TestFailureDiagnosedEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	failure := qovery.ClusterLog{Type: "error", Timestamp: time.Now().UTC(), Step: "PauseError",
		Error: &qovery.ClusterLogError{Tag: "CANNOT_PAUSE_CLUSTER_NODE_POOL", UserLogMessage: "A <PodDisruptionBudget> blocks the drain.",
			HintMessage: "Relax it, then stop again.", Link: "https://hub.qovery.com/docs/troubleshoot"}}
	h.cluster["fragile"] = h.qovery.AddCluster(h.org, qoverysim.ClusterSpec{Name: "fragile",
		StopScript: []qovery.State{qovery.StateStopping, qovery.StateStopError}, Logs: []qovery.ClusterLog{failure}})

	h.command(alice, ops, "stop fragile")
	msg := h.confirmation(ops)
	h.click(alice, msg, commands.ActionConfirm)
	h.waitParent(msg, "stop failed")
	var last slacksim.Message
	if err := h.slack.WaitFor(h.ctx(), func() bool {
		r := h.slack.Replies(msg.Channel, msg.TS)
		if len(r) == 0 || !strings.HasPrefix(r[len(r)-1].PlainText(), ":x:") {
			return false
		}
		last = r[len(r)-1]
		return true
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*Qovery says:* `CANNOT_PAUSE_CLUSTER_NODE_POOL` A &lt;PodDisruptionBudget&gt; blocks the drain.",
		":bulb: Relax it, then stop again.", "<https://hub.qovery.com/docs/troubleshoot|Qovery's documentation on this error>"} {
		if !strings.Contains(last.PlainText(), want) {
			t.Errorf("failure reply lacks %q:\n%s", want, last.PlainText())
		}
	}
	buttons := last.Buttons()
	if len(buttons) != 1 || buttons[0].ActionID != commands.ActionRetry {
		t.Fatalf("failure reply buttons = %+v; want Try again", buttons)
	}
	h.click(bob, last, commands.ActionRetry)
	again := h.newTopLevel(msg.TS)
	if !strings.Contains(again.PlainText(), "Stop cluster *fragile*?") || !strings.Contains(again.PlainText(), "Requested by <@U0BOB>") {
		t.Errorf("Try again posted %q; want a fresh confirmation by bob", again.PlainText())
	}
	if n := h.stopCalls("fragile"); n != 1 {
		t.Errorf("stop calls = %d; want 1 until the new confirmation is clicked", n)
	}
}
