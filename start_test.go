package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// TestStartEndToEnd: a stop, its Start again button, the start watched to DEPLOYED, and its Stop
// button: the same guarded flow both ways.
func TestStartEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "start staging")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "*staging* is already `DEPLOYED`. Nothing to start.") {
		t.Errorf("start of a running cluster answered %q", got)
	}

	h.command(alice, ops, "stop staging")
	stop := h.confirmation(ops)
	h.click(alice, stop, commands.ActionConfirm)
	h.waitParent(stop, "is `STOPPED`")
	final := lastReplyWithButton(t, h, stop)
	if b := final.Buttons()[0]; b.ActionID != commands.ActionFollowUp || b.Text != "Start again" {
		t.Fatalf("final stop reply button = %+v; want Start again", b)
	}

	h.click(bob, final, commands.ActionFollowUp)
	start := h.newTopLevel(stop.TS)
	text := start.PlainText()
	for _, want := range []string{"Start cluster *staging*?", "Requested by <@U0BOB>", "currently `STOPPED`"} {
		if !strings.Contains(text, want) {
			t.Errorf("start confirmation %q lacks %q", text, want)
		}
	}
	if b := start.Buttons()[0]; b.Text != "Start cluster" || b.Style != "primary" {
		t.Errorf("start button = %+v; want Start cluster (primary)", b)
	}
	h.click(bob, start, commands.ActionConfirm)
	h.waitParent(start, "is `DEPLOYED`")
	replies := h.replies(start)
	want := []string{":inbox_tray: Qovery accepted the start · `DEPLOYMENT_QUEUED`", ":gear: `DEPLOYING`", ":white_check_mark: `DEPLOYED` after"}
	if err := h.slack.WaitFor(h.ctx(), func() bool { return len(h.replies(start)) >= len(want) }); err != nil {
		t.Fatalf("start thread = %q", replies)
	}
	replies = h.replies(start)
	if len(replies) != len(want) {
		t.Fatalf("start thread = %q; want %d replies", replies, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(replies[i], want[i]) {
			t.Errorf("start reply %d = %q; want prefix %q", i, replies[i], want[i])
		}
	}
	if b := lastReplyWithButton(t, h, start).Buttons()[0]; b.ActionID != commands.ActionFollowUp || b.Text != "Stop" {
		t.Errorf("final start reply button = %+v; want Stop", b)
	}
	deploys := h.qovery.CountRequests("POST", fmt.Sprintf("/organization/%s/cluster/%s/deploy", h.org, h.cluster["staging"]))
	if deploys != 1 || h.stopCalls("staging") != 1 {
		t.Errorf("calls: %d deploy, %d stop; want 1 each", deploys, h.stopCalls("staging"))
	}
	for _, audit := range []string{`"audit":"start_requested"`, `"audit":"start_confirmed"`, `"audit":"start_called"`, `"audit":"start_finished"`} {
		if !strings.Contains(h.logs.String(), audit) {
			t.Errorf("log lacks %s", audit)
		}
	}
}

// lastReplyWithButton waits for the thread of msg to end with a reply that has a button.
func lastReplyWithButton(t *testing.T, h *harness, msg slacksim.Message) slacksim.Message {
	t.Helper()
	var last slacksim.Message
	if err := h.slack.WaitFor(h.ctx(), func() bool {
		r := h.slack.Replies(msg.Channel, msg.TS)
		if len(r) == 0 || len(r[len(r)-1].Buttons()) == 0 {
			return false
		}
		last = r[len(r)-1]
		return true
	}); err != nil {
		t.Fatalf("no final reply with a button in %q", h.replies(msg))
	}
	return last
}

// newTopLevel waits for a top-level message other than the ones with the given timestamps.
func (h *harness) newTopLevel(except ...string) slacksim.Message {
	h.t.Helper()
	var found slacksim.Message
	err := h.slack.WaitFor(h.ctx(), func() bool {
		for _, m := range h.slack.Messages(ops) {
			if m.ThreadTS != "" && m.ThreadTS != m.TS {
				continue
			}
			seen := false
			for _, ts := range except {
				seen = seen || m.TS == ts
			}
			if !seen {
				found = m
				return true
			}
		}
		return false
	})
	if err != nil {
		h.t.Fatalf("no new message in the channel: %v", err)
	}
	return found
}
