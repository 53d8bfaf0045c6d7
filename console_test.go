package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery/qoverytest"
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

// TestConsoleIgnoresQoveryEnvironment runs the README's demo with a Qovery token exported for other
// tools: the console must play it on the simulated organization and send nothing to that API.
func TestConsoleIgnoresQoveryEnvironment(t *testing.T) {
	other := qoverytest.NewServer(t)
	orgID := other.AddOrganization("Real Org")
	other.AddCluster(orgID, qoverytest.ClusterSpec{Name: "staging"})
	vars := map[string]string{
		"QOVERY_API_TOKEN": other.Token(), "QOVERY_API_URL": other.URL(), "QOVERY_ORGANIZATION_ID": orgID.String(),
		"QOVERY_BOT_POLL_INTERVAL": "10ms", "LOG_LEVEL": "error",
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"console"}, env(vars), strings.NewReader("/qovery stop staging\n1\n"), &out, &syncBuffer{}); err != nil {
		t.Fatalf("console: %v\n%s", err, out.String())
	}
	if got := other.Requests(); len(got) != 0 {
		t.Errorf("the API of QOVERY_API_URL got %d requests, want 0; the first: %v %v", len(got), got[0].Method, got[0].Path)
	}
	for _, want := range []string{
		"a simulated Qovery organization",
		"QOVERY_API_TOKEN is set but ignored",
		"✅ *staging* is `STOPPED`",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %q\n%s", want, out.String())
		}
	}
}

// TestConsoleRealRefuses checks what `console --real` needs before it starts: typed input and a token.
func TestConsoleRealRefuses(t *testing.T) {
	q := qoverytest.NewServer(t)
	orgID := q.AddOrganization("Real Org")
	q.AddCluster(orgID, qoverytest.ClusterSpec{Name: "staging"})
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pipeR.Close(); pipeW.Close() })
	go func() { _, _ = io.WriteString(pipeW, "/qovery stop staging\n1\nReal Org\n"); pipeW.Close() }()
	withToken := map[string]string{"QOVERY_API_TOKEN": q.Token(), "QOVERY_API_URL": q.URL()}
	for _, tc := range []struct {
		name        string
		in          io.Reader
		interactive bool
		vars        map[string]string
		want        string
	}{
		{"piped", pipeR, false, withToken, "standard input is not a terminal"},
		{"script", strings.NewReader("/qovery stop staging\n1\nReal Org\n"), false, withToken, "standard input is not a terminal"},
		{"no token", strings.NewReader(""), true, map[string]string{"QOVERY_API_URL": q.URL()}, "QOVERY_API_TOKEN is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if isTerminal(tc.in) {
				t.Fatalf("isTerminal(%T) = true; want false", tc.in)
			}
			var out bytes.Buffer
			err := runConsole(t.Context(), []string{"--real"}, env(tc.vars), consoleIO{in: tc.in, out: &out, errOut: &syncBuffer{}, interactive: tc.interactive})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("console --real = %v; want an error saying %q", err, tc.want)
			}
		})
	}
	// Through run, as main calls it: the pipe is seen as one.
	err = run(t.Context(), []string{"console", "--real"}, env(withToken), strings.NewReader("/qovery stop staging\n1\n"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a terminal") {
		t.Errorf("run(console --real) with piped input = %v; want a refusal", err)
	}
	if got := q.Requests(); len(got) != 0 {
		t.Errorf("the API got %d requests, want 0; the first: %v %v", len(got), got[0].Method, got[0].Path)
	}
}

// TestConsoleRealAsksOrganizationName plays `console --real` as if typed in a terminal, against a
// fake Qovery API standing for the real one: the first confirmation waits for the organization's
// name; a wrong name sends nothing, the right one sends exactly one stop, and is not asked again.
func TestConsoleRealAsksOrganizationName(t *testing.T) {
	q := qoverytest.NewServer(t)
	orgID := q.AddOrganization("Real Org")
	staging := q.AddCluster(orgID, qoverytest.ClusterSpec{Name: "staging"})
	dev := q.AddCluster(orgID, qoverytest.ClusterSpec{Name: "dev"})
	stopPath := func(id uuid.UUID) string {
		return "/organization/" + orgID.String() + "/cluster/" + id.String() + "/stop"
	}
	vars := map[string]string{"QOVERY_API_TOKEN": q.Token(), "QOVERY_API_URL": q.URL(), "QOVERY_BOT_POLL_INTERVAL": "10ms", "LOG_LEVEL": "error"}
	console := func(t *testing.T, script ...string) string {
		t.Helper()
		var out bytes.Buffer
		in := strings.NewReader(strings.Join(script, "\n") + "\n")
		if err := runConsole(t.Context(), []string{"--real"}, env(vars), consoleIO{in: in, out: &out, errOut: &syncBuffer{}, interactive: true}); err != nil {
			t.Fatalf("console --real: %v\n%s", err, out.String())
		}
		return out.String()
	}
	prompt := `Type the organization's name to go on`

	t.Run("wrong name", func(t *testing.T) {
		out := console(t, "/qovery stop staging", "1", "real org")
		if n := q.CountRequests("POST", stopPath(staging)); n != 0 {
			t.Errorf("stop calls = %d; want 0\n%s", n, out)
		}
		for _, want := range []string{
			`the Qovery API at ` + strings.TrimPrefix(q.URL(), "http://") + ` (QOVERY_API_URL), organization "Real Org"`,
			"A confirmed stop is REAL",
			prompt,
			`That is not "Real Org": button [1] was not clicked`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("console output lacks %q\n%s", want, out)
			}
		}
	})
	t.Run("right name", func(t *testing.T) {
		// Both stops hold STOPPING, so that no button comes and goes while the script runs.
		q.SetStopScript(staging, qovery.StateStopping)
		q.SetStopScript(dev, qovery.StateStopping)
		out := console(t,
			"/qovery stop staging", "1", "Real Org?", // refused
			"1", " Real Org ", // asked again; accepted
			"/qovery stop dev", "3", // [3] Stop cluster: not asked again
			"quit")
		if n := q.CountRequests("POST", stopPath(staging)); n != 1 {
			t.Errorf("stop calls for staging = %d; want 1\n%s", n, out)
		}
		if n := q.CountRequests("POST", stopPath(dev)); n != 1 {
			t.Errorf("stop calls for dev = %d; want 1\n%s", n, out)
		}
		if n := strings.Count(out, prompt); n != 2 {
			t.Errorf("the prompt shows %d times; want 2\n%s", n, out)
		}
		for _, want := range []string{"Confirmed for this session; clicking [1] Stop cluster.", "[3] Stop cluster   [4] Cancel"} {
			if !strings.Contains(out, want) {
				t.Errorf("console output lacks %q\n%s", want, out)
			}
		}
	})
}
