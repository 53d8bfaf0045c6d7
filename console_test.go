package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestConsoleScripted runs `console` as a new user would, with scripted input on a pipe, against the
// built-in simulated organization.
func TestConsoleScripted(t *testing.T) {
	script := strings.Join([]string{
		"/qovery help",
		"/qovery stop stagin",
		"/qovery stop staging",
		"1", // Stop cluster
		"/qovery stop preview-scw",
		"3", // Stop cluster on the second confirmation
		"/qovery stop staging-us",
		"6", // Cancel
		"9", // no such button
		"hello",
		"/qovery stop production-eu",
		"7", // Stop cluster: a protected cluster asks for its name
		"production",
		"production-eu",
	}, "\n")
	var out bytes.Buffer
	logs := &syncBuffer{}
	vars := map[string]string{"QOVERY_BOT_POLL_INTERVAL": "10ms", "LOG_LEVEL": "error"}
	if err := run(t.Context(), []string{"console"}, env(vars), strings.NewReader(script), &out, logs); err != nil {
		t.Fatalf("console: %v\n%s\n%s", err, out.String(), logs.String())
	}
	got := out.String()
	for _, want := range []string{
		"a simulated Qovery organization",
		"• `/qovery stop <cluster>`",
		"No cluster named `stagin` in this organization. Did you mean `staging`, `staging-us`?",
		"⚠️ Stop cluster *staging*?",
		"[1] Stop cluster   [2] Cancel",
		"📥 Qovery accepted the stop · `STOP_QUEUED`",
		"⚙️ `STOPPING`",
		"✅ `STOPPED` after",
		"✅ *staging* is `STOPPED`",
		"❌ `STOP_ERROR` after",
		"Execution id: `",
		"❌ *preview-scw* stop failed · `STOP_ERROR`",
		"🚫 Stop of *staging-us* cancelled by @alice",
		"there is no button [9]",
		"🔒 Protected cluster: confirming asks for its name.",
		"Qovery opened a dialog:",
		"Type the cluster name to confirm: [________]",
		"Qovery (in the dialog): That is not the cluster's name. Type production-eu exactly to stop it.",
		"✅ *production-eu* is `STOPPED`",
		"type a slash command such as `/qovery help`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("console output:\n%s", got)
	}
}
