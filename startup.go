package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// explained is a failure told the way doctor tells it: what went wrong and how to fix it, one line
// each, with no Go error chain and never a secret. Start-up returns one, main prints it as is, and
// doctor prints the same two parts on the line of its check: the functions that build them
// (qoveryProblem, databaseProblem, healthAddrProblem, …) serve both.
type explained struct {
	cause, fix string
	// err is the failure explained, for errors.Is and errors.As; its text is not shown.
	err error
}

func explain(cause, fix string, err error) *explained {
	return &explained{cause: strings.TrimSuffix(oneLine(cause), "."), fix: oneLine(fix), err: err}
}

func (e *explained) Error() string { return e.cause + ".\nFix: " + e.fix }

func (e *explained) Unwrap() error { return e.err }

// oneLine joins the lines of s (pgx writes a failed connection over two) with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// configProblem is the start-up error for a configuration that loadConfig refused: its lines, one per
// variable, then where to go next. A missing required variable is a first run: the console needs no
// account, and doctor checks each variable and token once they are set.
func configProblem(getenv func(string) string, err error) error {
	next := "Fix: set them as the README's configuration table describes; `go run . doctor` (in the image, `qovery-slack-bot doctor`) checks each variable and token, one line each."
	for _, name := range requiredVariables() {
		if strings.TrimSpace(getenv(name)) == "" {
			next = "Fix: set them as the README's configuration table describes, then check them with `go run . doctor` (in the image, `qovery-slack-bot doctor`); no accounts yet? `go run . console` tries the bot against a simulated organization."
			break
		}
	}
	return fmt.Errorf("configuration:\n%w\n%s", err, next)
}

// redactSecrets replaces the token values and the database password in err's text, as doctor does
// in every line: a last guard, since the texts of wrapped errors come from libraries. It returns err
// itself when it holds none.
func redactSecrets(err error, cfg config) error {
	if err == nil {
		return nil
	}
	secrets := []string{cfg.SlackAppToken, cfg.SlackBotToken, cfg.QoveryAPIToken}
	if u, perr := url.Parse(cfg.DatabaseURL); perr == nil {
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw)
		}
	}
	msg := err.Error()
	redacted := redact(msg, secrets)
	if redacted == msg {
		return err
	}
	return &redactedError{msg: redacted, err: err}
}

// redact replaces every secret of six characters or more in line (shorter ones would garble it, and
// no token is that short).
func redact(line string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 6 {
			line = strings.ReplaceAll(line, s, "[redacted]")
		}
	}
	return line
}

// redactedError is err with the text redactSecrets made of it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }

// explainedParts returns the cause and the fix of err when it is explained.
func explainedParts(err error) (cause, fix string, ok bool) {
	var e *explained
	if errors.As(err, &e) {
		return e.cause, e.fix, true
	}
	return "", "", false
}
