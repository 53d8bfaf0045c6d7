package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// newLoggers returns the program's log and its audit log. The log is filtered by LOG_LEVEL; the
// audit log never is, since the audit trail is not diagnostics: it goes to the same stream as the
// log whatever LOG_LEVEL says, and to the QOVERY_BOT_AUDIT_LOG file (JSON lines, created 0600) when
// one is set.
func newLoggers(cfg config, stderr io.Writer) (log, audit zerolog.Logger, closeFn func(), err error) {
	w := stderr
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}
	}
	log = zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Str("service", "qovery-slack-bot").Str("version", version()).Logger()
	if cfg.AuditLog == "" {
		audit = zerolog.New(w).With().Timestamp().Str("service", "qovery-slack-bot").Str("version", version()).Logger()
		return log, audit, func() {}, nil
	}
	f, err := os.OpenFile(cfg.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return log, log, nil, fmt.Errorf("QOVERY_BOT_AUDIT_LOG: %w", err)
	}
	audit = zerolog.New(zerolog.MultiLevelWriter(w, f)).With().Timestamp().Str("service", "qovery-slack-bot").Str("version", version()).Logger()
	return log, audit, func() { _ = f.Close() }, nil
}

// readinessFailed logs a failing readiness check: /readyz answers only "failed", the detail is here.
func readinessFailed(log zerolog.Logger) func(name string, err error) {
	return func(name string, err error) {
		log.Warn().Str("check", name).Err(err).Msg("readiness check failed")
	}
}
