package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// Freeze from Slack: a lock said in the channel, refusing stops; unlock after a confirmation (a
// protected cluster's asking for its name), one DELETE; both audited.
func TestLockAndUnlockEndToEnd(t *testing.T) {
	h := startBot(t, nil)
	h.command(alice, ops, "lock staging 2d release freeze")
	announcement := h.newTopLevel()
	if announced := announcement.PlainText(); !strings.Contains(announced, ":lock: <@U0ALICE> locked *staging* in Qovery for 2 days: “release freeze”") {
		t.Errorf("announcement = %q", announced)
	}
	locks := h.qovery.CountRequests("POST", fmt.Sprintf("/cluster/%s/lock", h.cluster["staging"]))
	if locks != 1 {
		t.Errorf("lock calls = %d; want 1", locks)
	}
	h.waitLog(`"audit":"lock_done"`)

	h.command(bob, ops, "stop staging")
	if got := h.ephemeral(bob, 1); !strings.Contains(got, "is locked in Qovery") || !strings.Contains(got, "release freeze") {
		t.Errorf("stop of the locked cluster answered %q", got)
	}
	h.command(bob, ops, "unlock staging")
	msg := h.newTopLevel(announcement.TS)
	if text := msg.PlainText(); !strings.Contains(text, "Unlock cluster *staging*?") || !strings.Contains(text, "release freeze") {
		t.Fatalf("unlock confirmation = %q", text)
	}
	h.click(bob, msg, commands.ActionConfirm)
	h.waitParent(msg, ":unlock: *staging* is unlocked")
	if n := h.qovery.CountRequests("DELETE", fmt.Sprintf("/cluster/%s/lock", h.cluster["staging"])); n != 1 {
		t.Errorf("unlock calls = %d; want 1", n)
	}
	h.waitLog(`"audit":"unlock_finished"`)

	// The stop goes through now.
	h.command(bob, ops, "stop staging")
	stop := h.newTopLevel(announcement.TS, msg.TS)
	if !strings.Contains(stop.PlainText(), "Stop cluster *staging*?") {
		t.Errorf("stop after the unlock = %q", stop.PlainText())
	}
}
