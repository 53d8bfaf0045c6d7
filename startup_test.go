package main

import (
	"errors"
	"strings"
	"testing"
)

// A configuration that is set but wrong points to doctor only: the console is for a first run.
func TestConfigProblemNextStep(t *testing.T) {
	e := validEnv()
	e["LOG_LEVEL"] = "loud"
	_, err := loadConfig(env(e))
	lines := strings.Split(configProblem(env(e), err).Error(), "\n")
	last := lines[len(lines)-1]
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "LOG_LEVEL: ") || !strings.Contains(last, "`go run . doctor`") || strings.Contains(last, "console") {
		t.Errorf("configProblem = %q; want the problem, then a Fix line pointing to doctor only", lines)
	}
}

// redactSecrets is the last guard of start-up errors: a token or the database password that a
// library put in an error's text is replaced, and the error keeps its identity.
func TestRedactSecrets(t *testing.T) {
	cfg := config{SlackAppToken: "xapp-1-secretapp", QoveryAPIToken: "qov_secretqovery", DatabaseURL: "postgres://bot:hunter2-secret@db/bot"}
	cause := errors.New("boom")
	err := redactSecrets(explain("dial with qov_secretqovery and password hunter2-secret", "fix it", cause), cfg)
	if got := err.Error(); strings.Contains(got, "secret") || !strings.Contains(got, "[redacted]") {
		t.Errorf("redactSecrets = %q; want the token and the password redacted", got)
	}
	if !errors.Is(err, cause) {
		t.Errorf("redactSecrets lost the error's identity: %v", err)
	}
	if plain := explain("nothing secret here", "fix", nil); redactSecrets(plain, cfg) != error(plain) {
		t.Error("redactSecrets wrapped an error that holds no secret")
	}
}
