package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/ops/health"
)

// doctor runs through run, as `qovery-slack-bot doctor` does, against the fake Slack and the fake
// Qovery API.

const doctorQoveryToken = "qov_doctorsecretqovery"

func TestRequiredScopesMatchManifest(t *testing.T) {
	if got, want := requiredScopes(), readManifest(t).OAuthConfig.Scopes.Bot; !slices.Equal(got, want) {
		t.Errorf("requiredScopes() = %v; want manifest.yaml's oauth_config.scopes.bot %v", got, want)
	}
}

// doctorEnv starts the fakes (the fake Slack with slackOpts) and returns an environment under which
// every check passes: one organization, Acme, with two clusters.
func doctorEnv(t *testing.T, slackOpts ...slacksim.Option) (map[string]string, *slacksim.Server, *qoverysim.Server) {
	t.Helper()
	q := qoverysim.NewServer(t, qoverysim.WithToken(doctorQoveryToken))
	org := q.AddOrganization("Acme")
	q.AddCluster(org, qoverysim.ClusterSpec{Name: "staging", Region: "eu-west-3", CloudProvider: "AWS"})
	q.AddCluster(org, qoverysim.ClusterSpec{Name: "production", Region: "eu-west-3", CloudProvider: "AWS", Production: true})
	s := slacksim.NewServer(append([]slacksim.Option{slacksim.WithAppToken(appTok), slacksim.WithBotToken(botTok)}, slackOpts...)...)
	t.Cleanup(s.Close)
	return map[string]string{
		"SLACK_APP_TOKEN":          appTok,
		"SLACK_BOT_TOKEN":          botTok,
		"SLACK_API_URL":            s.APIURL(),
		"QOVERY_API_TOKEN":         doctorQoveryToken,
		"QOVERY_API_URL":           q.URL(),
		"QOVERY_BOT_DATA_DIR":      filepath.Join(t.TempDir(), "data"),
		"QOVERY_BOT_HTTP_ADDR":     "127.0.0.1:0", // port 0 is always free
		"QOVERY_BOT_ALLOWED_USERS": alice,
	}, s, q
}

// runDoctorCommand runs `qovery-slack-bot doctor` and returns what it printed, one string per line.
func runDoctorCommand(t *testing.T, vars map[string]string) ([]string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), []string{"doctor"}, env(vars), nil, &out, io.Discard)
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"), err
}

// outcomes reduces the check lines to their mark and check name, such as "✗ Qovery API token".
func outcomes(lines []string) []string {
	var out []string
	for _, l := range lines {
		for _, mark := range []string{"✓ ", "✗ ", "- "} {
			if strings.HasPrefix(l, mark) {
				what, _, _ := strings.Cut(l, ": ")
				out = append(out, what)
			}
		}
	}
	return out
}

// line returns the first line starting with prefix, or "".
func line(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestDoctorHealthy(t *testing.T) {
	vars, s, _ := doctorEnv(t)
	lines, err := runDoctorCommand(t, vars)
	if err != nil {
		t.Errorf("doctor = %v; want nil\n%s", err, strings.Join(lines, "\n"))
	}
	want := []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
		"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"}
	if got := outcomes(lines); !slices.Equal(got, want) {
		t.Fatalf("checks = %q; want %q\n%s", got, want, strings.Join(lines, "\n"))
	}
	for _, w := range []string{
		"✓ configuration: the required variables are set and every variable is well-formed",
		"✓ Slack app-level token: opens a Socket Mode connection (apps.connections.open)",
		"✓ Slack bot token: works (auth.test): workspace Fake Workspace (T0FAKE), bot user @fakebot (U0BOT)",
		"✓ Slack bot scopes: granted " + strings.Join(requiredScopes(), ", "),
		"✓ Qovery API token: works (GET /organization), sees 1 organization",
		"✓ Qovery organization: Acme (",
		"✓ Qovery clusters: the token lists 2 clusters in Acme",
		"✓ data directory: " + vars["QOVERY_BOT_DATA_DIR"] + " does not exist yet; start-up creates it (0700) in " + filepath.Dir(vars["QOVERY_BOT_DATA_DIR"]) + ", which is writable, and qovery-bot.db in it",
		"✓ audit log: off (QOVERY_BOT_AUDIT_LOG unset): audit events go to the log only",
		"✓ health address: 127.0.0.1:0 is free",
	} {
		if line(lines, w) == "" {
			t.Errorf("no line starting with %q in:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	if last := lines[len(lines)-1]; last != "All 10 checks passed." {
		t.Errorf("last line = %q", last)
	}
	if !strings.HasPrefix(lines[0], "qovery-slack-bot "+version()) {
		t.Errorf("first line = %q; want it to name the version", lines[0])
	}
	// A check changes nothing: the data directory is still missing.
	if _, err := os.Stat(vars["QOVERY_BOT_DATA_DIR"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after doctor: %v; want it still missing", err)
	}
	// apps.connections.open is asked once, and the WebSocket it names is not dialled: Slack would
	// send that connection events meant for a running bot.
	if n := len(s.Calls("apps.connections.open")); n != 1 {
		t.Errorf("apps.connections.open called %d times; want 1", n)
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("%d Socket Mode connections; want none", n)
	}
	assertNoSecrets(t, lines)

	// Run again: the data directory now exists, and the bot's data file is reported.
	if err := os.Mkdir(vars["QOVERY_BOT_DATA_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vars["QOVERY_BOT_DATA_DIR"], dataFileName), make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err = runDoctorCommand(t, vars)
	if err != nil || line(lines, "✓ data directory: "+vars["QOVERY_BOT_DATA_DIR"]+" is writable; qovery-bot.db exists (2 KiB)") == "" {
		t.Errorf("doctor with a data file = %v\n%s", err, strings.Join(lines, "\n"))
	}
}

// assertNoSecrets fails when the output has any token the tests use, right or wrong.
func assertNoSecrets(t *testing.T, lines []string, more ...string) {
	t.Helper()
	out := strings.Join(lines, "\n")
	for _, secret := range append([]string{appTok, botTok, doctorQoveryToken, "secret"}, more...) {
		if strings.Contains(out, secret) {
			t.Errorf("doctor printed a token (%q):\n%s", secret, out)
		}
	}
}

func TestDoctorFindsProblems(t *testing.T) {
	const (
		wrongApp    = "xapp-1-A0FAKE-1-wrongsecretapp"
		wrongBot    = "xoxb-wrongsecretbot"
		wrongQovery = "qov_wrongsecretqovery"
	)
	for _, tc := range []struct {
		name      string
		slackOpts []slacksim.Option
		// setup changes the healthy environment.
		setup func(t *testing.T, vars map[string]string, q *qoverysim.Server)
		// want is the mark and name of every check line, in order.
		want []string
		// lines are prefixes of lines that must be printed.
		lines []string
		// failed is the error doctor returns.
		failed string
	}{
		{
			name: "wrong Qovery token",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				vars["QOVERY_API_TOKEN"] = wrongQovery
			},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✗ Qovery API token", "- Qovery organization", "- Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✗ Qovery API token: Qovery rejected the token on GET /organization (401): the token is invalid or revoked. " +
					"Fix: create an organization API token (Qovery console > Organization settings > API token) and set QOVERY_API_TOKEN to it",
				"- Qovery organization: skipped, the Qovery token does not work",
			},
			failed: "doctor: 1 of 10 checks failed, 2 skipped",
		},
		{
			name: "wrong Slack bot token",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				vars["SLACK_BOT_TOKEN"] = wrongBot
			},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✗ Slack bot token", "- Slack bot scopes",
				"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✗ Slack bot token: Slack rejected the token on auth.test (invalid_auth). Fix: reinstall the app (Install App), then set SLACK_BOT_TOKEN",
				"- Slack bot scopes: skipped, the bot token does not work",
			},
			failed: "doctor: 1 of 10 checks failed, 1 skipped",
		},
		{
			name: "wrong Slack app token",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				vars["SLACK_APP_TOKEN"] = wrongApp
			},
			want: []string{"✓ configuration", "✗ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✗ Slack app-level token: Slack rejected the app-level token on apps.connections.open (invalid_auth). " +
					"Fix: generate an app-level token with the connections:write scope",
			},
			failed: "doctor: 1 of 10 checks failed",
		},
		{
			name:      "missing scope",
			slackOpts: []slacksim.Option{slacksim.WithBotScopes(slices.DeleteFunc(requiredScopes(), func(s string) bool { return s == "usergroups:read" })...)},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✗ Slack bot scopes",
				"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✗ Slack bot scopes: the bot token lacks usergroups:read. Fix: add them under OAuth & Permissions > Scopes (manifest.yaml lists them), then reinstall the app",
			},
			failed: "doctor: 1 of 10 checks failed",
		},
		{
			name: "bad environment",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				vars["SLACK_APP_TOKEN"] = botTok // the bot token pasted in the app token's place
				vars["QOVERY_BOT_POLL_INTERVAL"] = "soon"
				delete(vars, "QOVERY_BOT_ALLOWED_USERS")
			},
			want: []string{"✗ configuration", "✗ configuration", "- Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				`✗ configuration: SLACK_APP_TOKEN: want a token starting with "xapp-"`,
				`✗ configuration: QOVERY_BOT_POLL_INTERVAL: want a positive Go duration such as 10s, got "soon". Fix: set QOVERY_BOT_POLL_INTERVAL`,
				"- Slack app-level token: skipped until SLACK_APP_TOKEN is fixed",
			},
			failed: "doctor: 1 of 10 checks failed, 1 skipped",
		},
		{
			name: "no one allowed to stop",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				delete(vars, "QOVERY_BOT_ALLOWED_USERS")
			},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✓ configuration: the required variables are set and every variable is well-formed (note: stop is refused until QOVERY_BOT_ALLOWED_USERS or QOVERY_BOT_ALLOWED_USERGROUPS is set)",
			},
		},
		{
			name: "health address in use",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				// A bot already running: something listens there and answers /healthz.
				running := httptest.NewServer(health.Handler(nil))
				t.Cleanup(running.Close)
				vars["QOVERY_BOT_HTTP_ADDR"] = running.Listener.Addr().String()
			},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ data directory", "✓ audit log", "✗ health address"},
			lines: []string{
				"✗ health address: 127.0.0.1:",
			},
			failed: "doctor: 1 of 10 checks failed",
		},
		{
			name: "data directory under a file",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				file := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(file, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				vars["QOVERY_BOT_DATA_DIR"] = filepath.Join(file, "data")
			},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✗ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✗ data directory: ",
			},
			failed: "doctor: 1 of 10 checks failed",
		},
		{
			name: "several organizations",
			setup: func(t *testing.T, vars map[string]string, q *qoverysim.Server) {
				q.AddOrganization("Globex")
			},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✓ Qovery API token", "✗ Qovery organization", "- Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✓ Qovery API token: works (GET /organization), sees 2 organizations",
				"✗ Qovery organization: QOVERY_ORGANIZATION_ID is not set and the Qovery token sees 2 organizations: Acme (",
				"- Qovery clusters: skipped, no organization to list them from",
			},
			failed: "doctor: 1 of 10 checks failed, 1 skipped",
		},
		{
			name: "organization the token cannot see",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				vars["QOVERY_ORGANIZATION_ID"] = "3f2a9c1e-0000-4000-8000-000000000001"
			},
			want: []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
				"✓ Qovery API token", "✗ Qovery organization", "- Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✗ Qovery organization: the Qovery token cannot see organization 3f2a9c1e-0000-4000-8000-000000000001 (QOVERY_ORGANIZATION_ID); it sees Acme (",
			},
			failed: "doctor: 1 of 10 checks failed, 1 skipped",
		},
		{
			name: "Slack and Qovery unreachable",
			setup: func(t *testing.T, vars map[string]string, _ *qoverysim.Server) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				closed := ln.Addr().String()
				ln.Close()
				vars["SLACK_API_URL"] = "http://" + closed + "/api/"
				vars["QOVERY_API_URL"] = "http://" + closed
			},
			want: []string{"✓ configuration", "✗ Slack app-level token", "✗ Slack bot token", "- Slack bot scopes",
				"✗ Qovery API token", "- Qovery organization", "- Qovery clusters", "✓ data directory", "✓ audit log", "✓ health address"},
			lines: []string{
				"✗ Slack app-level token: Slack (http://127.0.0.1:",
				"✗ Qovery API token: Qovery (http://127.0.0.1:",
			},
			failed: "doctor: 3 of 10 checks failed, 3 skipped",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars, _, q := doctorEnv(t, tc.slackOpts...)
			if tc.setup != nil {
				tc.setup(t, vars, q)
			}
			lines, err := runDoctorCommand(t, vars)
			dump := strings.Join(lines, "\n")
			switch {
			case tc.failed == "" && err != nil:
				t.Errorf("doctor = %v; want nil\n%s", err, dump)
			case tc.failed != "" && (err == nil || err.Error() != tc.failed):
				t.Errorf("doctor = %v; want %q\n%s", err, tc.failed, dump)
			}
			if got := outcomes(lines); !slices.Equal(got, tc.want) {
				t.Errorf("checks = %q\nwant     %q\n%s", got, tc.want, dump)
			}
			for _, w := range tc.lines {
				if line(lines, w) == "" {
					t.Errorf("no line starting with %q in:\n%s", w, dump)
				}
			}
			for _, l := range lines {
				if strings.HasPrefix(l, "✗ ") && !strings.Contains(l, ". Fix: ") {
					t.Errorf("failed check without a fix: %q", l)
				}
			}
			assertNoSecrets(t, lines, wrongApp, wrongBot, wrongQovery)
		})
	}
}

func TestDoctorHealthAddressOff(t *testing.T) {
	vars, _, _ := doctorEnv(t)
	vars["QOVERY_BOT_HTTP_ADDR"] = "off"
	lines, err := runDoctorCommand(t, vars)
	if err != nil || line(lines, "✓ health address: off (QOVERY_BOT_HTTP_ADDR=off)") == "" {
		t.Errorf("doctor with the health endpoints off = %v\n%s", err, strings.Join(lines, "\n"))
	}
}

// However many variables are wrong, doctor runs the same ten checks, and a bad variable is reported
// once: by the configuration check, not again by the check that would use it.
func TestDoctorCountsEachCheckOnce(t *testing.T) {
	vars, _, _ := doctorEnv(t)
	lines, err := runDoctorCommand(t, vars)
	if err != nil || lines[len(lines)-1] != "All 10 checks passed." {
		t.Fatalf("healthy doctor = %v, last line %q", err, lines[len(lines)-1])
	}
	vars["QOVERY_BOT_POLL_INTERVAL"] = "soon"
	vars["QOVERY_BOT_FOUR_EYES"] = "maybe"
	vars["QOVERY_BOT_DATABASE_URL"] = "mysql://bot:hunter2-secret@db:3306/bot"
	lines, err = runDoctorCommand(t, vars)
	dump := strings.Join(lines, "\n")
	if err == nil || err.Error() != "doctor: 1 of 10 checks failed, 1 skipped" {
		t.Errorf("doctor with three bad variables = %v; want %q\n%s", err, "doctor: 1 of 10 checks failed, 1 skipped", dump)
	}
	if got := strings.Count(dump, "QOVERY_BOT_DATABASE_URL: want a PostgreSQL URL"); got != 1 {
		t.Errorf("the mysql:// URL is reported %d times; want once\n%s", got, dump)
	}
	if line(lines, "- database: skipped until QOVERY_BOT_DATABASE_URL is fixed") == "" || line(lines, "✗ database") != "" {
		t.Errorf("want the database check skipped, not failed\n%s", dump)
	}
	if got := strings.Count(dump, "✗ configuration: "); got != 3 {
		t.Errorf("%d configuration lines; want one per bad variable (3)\n%s", got, dump)
	}
	assertNoSecrets(t, lines, "hunter2-secret")

	// A warning is not a check: it adds to the summary, not to the count.
	delete(vars, "QOVERY_BOT_POLL_INTERVAL")
	delete(vars, "QOVERY_BOT_FOUR_EYES")
	vars["QOVERY_BOT_DATABASE_URL"] = "postgres://bot:hunter2-secret@127.0.0.1:1/bot?sslmode=require&connect_timeout=2"
	lines, err = runDoctorCommand(t, vars)
	if want := "doctor: 1 of 10 checks failed, 1 warning"; err == nil || err.Error() != want {
		t.Errorf("doctor with an unreachable database over unchecked TLS = %v; want %q\n%s", err, want, strings.Join(lines, "\n"))
	}
	assertNoSecrets(t, lines, "hunter2-secret")
}

// A token that a library would echo in its error text is masked all the same.
func TestDoctorMasksTokens(t *testing.T) {
	var out bytes.Buffer
	d := &doctor{out: &out, secrets: []string{"xoxb-leakysecret", ""}}
	d.fail("Slack bot token", "Post https://x/?token=xoxb-leakysecret: refused", "none")
	if strings.Contains(out.String(), "leakysecret") || !strings.Contains(out.String(), "token=[redacted]") {
		t.Errorf("line = %q; want the token masked", out.String())
	}
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(health.Handler(nil))
	t.Cleanup(ok.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "draining", http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	_, okPort, _ := net.SplitHostPort(ok.Listener.Addr().String())

	var out bytes.Buffer
	// Listening on every interface (":port"), the bot is asked over loopback.
	if err := run(t.Context(), []string{"healthcheck"}, env(map[string]string{"QOVERY_BOT_HTTP_ADDR": ":" + okPort}), nil, &out, io.Discard); err != nil {
		t.Errorf("healthcheck of a serving bot = %v", err)
	}
	if want := "ok: GET http://127.0.0.1:" + okPort + "/healthz answered 200 OK\n"; out.String() != want {
		t.Errorf("healthcheck printed %q; want %q", out.String(), want)
	}
	for _, tc := range []struct{ addr, want string }{
		{failing.Listener.Addr().String(), "answered 503 Service Unavailable: draining"},
		{"off", "the health endpoints are off"},
		{"127.0.0.1:0", "no fixed port"},
	} {
		err := run(t.Context(), []string{"healthcheck"}, env(map[string]string{"QOVERY_BOT_HTTP_ADDR": tc.addr}), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("healthcheck of %q = %v; want an error containing %q", tc.addr, err, tc.want)
		}
	}
}

func TestHealthzURL(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/healthz"},
		{"[::]:8080", "http://[::1]:8080/healthz"},
		{"10.1.2.3:9090", "http://10.1.2.3:9090/healthz"},
		{"localhost:8080", "http://localhost:8080/healthz"},
		{"8080", ""},
		{":0", ""},
	} {
		got, err := healthzURL(tc.addr)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("healthzURL(%q) = %q, %v; want %q", tc.addr, got, err, tc.want)
		}
	}
}
