package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
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
	if err := run(t.Context(), []string{"console", "--log", "-"}, env(vars), strings.NewReader(script), &out, logs); err != nil {
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
	other := qoverysim.NewServer(t)
	orgID := other.AddOrganization("Real Org")
	other.AddCluster(orgID, qoverysim.ClusterSpec{Name: "staging"})
	vars := map[string]string{
		"QOVERY_API_TOKEN": other.Token(), "QOVERY_API_URL": other.URL(), "QOVERY_ORGANIZATION_ID": orgID.String(),
		"QOVERY_BOT_POLL_INTERVAL": "10ms", "LOG_LEVEL": "error",
	}
	t.Setenv("TMPDIR", t.TempDir()) // the bot's log file
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
	q := qoverysim.NewServer(t)
	orgID := q.AddOrganization("Real Org")
	q.AddCluster(orgID, qoverysim.ClusterSpec{Name: "staging"})
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
	q := qoverysim.NewServer(t)
	orgID := q.AddOrganization("Real Org")
	staging := q.AddCluster(orgID, qoverysim.ClusterSpec{Name: "staging"})
	dev := q.AddCluster(orgID, qoverysim.ClusterSpec{Name: "dev"})
	stopPath := func(id uuid.UUID) string {
		return "/organization/" + orgID.String() + "/cluster/" + id.String() + "/stop"
	}
	vars := map[string]string{"QOVERY_API_TOKEN": q.Token(), "QOVERY_API_URL": q.URL(), "QOVERY_BOT_POLL_INTERVAL": "10ms", "LOG_LEVEL": "error"}
	console := func(t *testing.T, script ...string) string {
		t.Helper()
		var out bytes.Buffer
		in := strings.NewReader(strings.Join(script, "\n") + "\n")
		if err := runConsole(t.Context(), []string{"--real", "--log", "-"}, env(vars), consoleIO{in: in, out: &out, errOut: &syncBuffer{}, interactive: true}); err != nil {
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
			"A confirmed stop is REAL: it is sent to " + strings.TrimPrefix(q.URL(), "http://"),
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

// consoleScript runs the simulated console on script, as typed in a terminal when interactive, and
// returns the transcript.
func consoleScript(t *testing.T, vars map[string]string, interactive bool, script ...string) string {
	t.Helper()
	var out bytes.Buffer
	in := strings.NewReader(strings.Join(script, "\n") + "\n")
	if err := runConsole(t.Context(), []string{"--log", "-"}, env(vars), consoleIO{in: in, out: &out, errOut: &syncBuffer{}, interactive: interactive}); err != nil {
		t.Fatalf("console: %v\n%s", err, out.String())
	}
	return out.String()
}

// realConsole is a fake Qovery API standing for the real one behind `console --real`, with one
// cluster, staging, whose stop holds STOPPING: it is being watched whenever the session ends.
func realConsole(t *testing.T) (q *qoverysim.Server, vars map[string]string) {
	t.Helper()
	q = qoverysim.NewServer(t)
	orgID := q.AddOrganization("Real Org")
	q.AddCluster(orgID, qoverysim.ClusterSpec{Name: "staging", StopScript: []qovery.State{qovery.StateStopping}})
	return q, map[string]string{"QOVERY_API_TOKEN": q.Token(), "QOVERY_API_URL": q.URL(), "QOVERY_BOT_POLL_INTERVAL": "10ms", "LOG_LEVEL": "error"}
}

// TestConsoleQuitStopsWatchingAloud leaves with `quit`, and with Ctrl-C or SIGTERM (the context
// main cancels on either), while a stop is watched: the bot shuts down as the program does, and its
// last word in the thread shows in the transcript.
func TestConsoleQuitStopsWatchingAloud(t *testing.T) {
	const stopped = "The bot stopped watching because it is shutting down."
	t.Run("quit", func(t *testing.T) {
		_, vars := realConsole(t)
		var out syncBuffer
		in := strings.NewReader("/qovery stop staging\n1\nReal Org\nquit\n/qovery help\n")
		if err := runConsole(t.Context(), []string{"--real", "--log", "-"}, env(vars), consoleIO{in: in, out: &out, errOut: io.Discard, interactive: true}); err != nil {
			t.Fatalf("console: %v", err)
		}
		got := out.String()
		if !strings.Contains(got, stopped) || !strings.Contains(got, "the bot stopped watching") {
			t.Errorf("the transcript does not show the watch stopped\n%s", got)
		}
		if strings.Contains(got, "• `/qovery stop <cluster>`") {
			t.Errorf("a line after `quit` was handled\n%s", got)
		}
	})
	t.Run("signal", func(t *testing.T) {
		_, vars := realConsole(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		inR, inW := io.Pipe()
		defer inW.Close()
		var out syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- runConsole(ctx, []string{"--real", "--log", "-"}, env(vars), consoleIO{in: inR, out: &out, errOut: io.Discard, interactive: true})
		}()
		go func() { _, _ = io.WriteString(inW, "/qovery stop staging\n1\nReal Org\n") }()
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		if err := out.waitFor(wctx, "Qovery accepted the stop"); err != nil {
			t.Fatalf("the stop was not accepted: %v\n%s", err, out.String())
		}
		cancel() // what main's signal.NotifyContext does on SIGINT or SIGTERM
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("console = %v; want nil", err)
		}
		if got := out.String(); !strings.Contains(got, stopped) {
			t.Errorf("the transcript does not show the watch stopped\n%s", got)
		}
	})
}

// TestConsoleLongLine types a line over 64 KiB: the console says so and goes on with the next ones.
func TestConsoleLongLine(t *testing.T) {
	got := consoleScript(t, map[string]string{"LOG_LEVEL": "error"}, false,
		"/qovery stop "+strings.Repeat("x", 70<<10), "/qovery stop stagin")
	for _, want := range []string{"That line is over 64 KiB; it was ignored.", "No cluster named `stagin`"} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q\n%.2000s", want, got)
		}
	}
}

// TestConsoleEcho checks that typed lines show once: a terminal shows them itself, a script does not.
func TestConsoleEcho(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interactive bool
		want        int
	}{
		{"terminal", true, 0},
		{"script", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := consoleScript(t, map[string]string{"LOG_LEVEL": "error"}, tc.interactive, "/qovery stop stagin", "as @bob /qovery stop stagin")
			if n := strings.Count(got, "@alice: /qovery stop stagin"); n != tc.want {
				t.Errorf("the line of @alice is echoed %d times; want %d\n%s", n, tc.want, got)
			}
			if n := strings.Count(got, "@bob: /qovery stop stagin"); n != tc.want {
				t.Errorf("the line of @bob is echoed %d times; want %d\n%s", n, tc.want, got)
			}
		})
	}
}

// TestConsoleLogsStayOutOfTheChat sends a command of another app, which the bot logs as a warning:
// with the terminal as both standard output and standard error, the log line must not show.
func TestConsoleLogsStayOutOfTheChat(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	var terminal syncBuffer
	if err := run(t.Context(), []string{"console"}, env(nil), strings.NewReader("/other thing\n"), &terminal, &terminal); err != nil {
		t.Fatalf("console: %v\n%s", err, terminal.String())
	}
	got := terminal.String()
	if strings.Contains(got, "unexpected slash command") {
		t.Errorf("a log line shows in the chat\n%s", got)
	}
	files, err := filepath.Glob(filepath.Join(dir, "qovery-slack-bot-console-*.log"))
	if err != nil || len(files) != 1 {
		t.Fatalf("log files in TMPDIR: %v, %v; want one", files, err)
	}
	if !strings.Contains(got, "The bot's log goes to "+files[0]) {
		t.Errorf("the banner does not name the log file %s\n%s", files[0], got)
	}
	log, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "unexpected slash command") {
		t.Errorf("the log file lacks the warning:\n%s", log)
	}
}

// TestConsoleSecondPerson plays a protected cluster's stop under QOVERY_BOT_FOUR_EYES: @alice may
// not confirm her own request, @bob does with `as @bob`, and types the name in his dialog.
func TestConsoleSecondPerson(t *testing.T) {
	got := consoleScript(t, map[string]string{"QOVERY_BOT_FOUR_EYES": "true", "QOVERY_BOT_POLL_INTERVAL": "10ms", "LOG_LEVEL": "error"}, false,
		"/qovery stop production-eu",
		"1", // @alice: refused, she asked
		"as @bob 1",
		"as @bob production-eu",
		"as @carol 1",
	)
	for _, want := range []string{
		"A second person must confirm: not @alice.",
		"needs a second person",
		"Qovery opened a dialog for @bob:",
		"(type `as @bob <answer>`, or `as @bob back` to close the dialog)",
		"✅ *production-eu* is `STOPPED`",
		"there is no @carol here; `as` takes one of @alice, @bob",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q\n%s", want, got)
		}
	}
}

// TestConsoleHelp checks that the console's own lines are documented where it starts and on
// `help`, and that `exit` leaves and `#` comments are skipped.
func TestConsoleHelp(t *testing.T) {
	got := consoleScript(t, map[string]string{"LOG_LEVEL": "error"}, false,
		"# a comment: /qovery stop stagin", "help", "exit", "/qovery stop stagin")
	for _, want := range []string{"`help` this list", "`# …` a comment (ignored)", "`as @bob <line>`", "`quit`, `exit` or the end of input leaves"} {
		if n := strings.Count(got, want); n != 2 {
			t.Errorf("console output has %q %d times; want 2 (at the start and on `help`)\n%s", want, n, got)
		}
	}
	if strings.Contains(got, "No cluster named") {
		t.Errorf("a comment or a line after `exit` was handled\n%s", got)
	}
}
