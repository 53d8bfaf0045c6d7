package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// newLoggers returns the program's log and its audit log, without reopening the audit file (the
// console's); see openLoggers.
func newLoggers(cfg config, stderr io.Writer) (log, audit zerolog.Logger, closeFn func(), err error) {
	return openLoggers(cfg, stderr, nil)
}

// openLoggers returns the program's log and its audit log. The log is filtered by LOG_LEVEL; the
// audit log never is, since the audit trail is not diagnostics: it goes to the same stream as the
// log whatever LOG_LEVEL says, and to the QOVERY_BOT_AUDIT_LOG file (JSON lines, created 0600) when
// one is set. Each value received on reopen reopens that file at its path (logrotate renames the
// file, then sends SIGHUP); closeFn stops listening and closes the file.
func openLoggers(cfg config, stderr io.Writer, reopen <-chan os.Signal) (log, audit zerolog.Logger, closeFn func(), err error) {
	w := stderr
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}
	}
	log = zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Str("service", "qovery-slack-bot").Str("version", version()).Logger()
	if cfg.AuditLog == "" {
		audit = zerolog.New(w).With().Timestamp().Str("service", "qovery-slack-bot").Str("version", version()).Logger()
		return log, audit, func() {}, nil
	}
	f := &auditFile{path: cfg.AuditLog}
	if err := f.reopen(); err != nil {
		return log, log, nil, explain(fmt.Sprintf("cannot open %s (QOVERY_BOT_AUDIT_LOG) for appending: %v", cfg.AuditLog, pathError(err)), auditLogFix, err)
	}
	// The file first: once a line shows in the log, it is in the trail.
	audit = zerolog.New(zerolog.MultiLevelWriter(f, w)).With().Timestamp().Str("service", "qovery-slack-bot").Str("version", version()).Logger()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-reopen: // a nil channel never delivers
				if err := f.reopen(); err != nil {
					log.Error().Err(err).Str("path", cfg.AuditLog).Msg("reopen the audit log; still writing to the previous file")
					continue
				}
				log.Info().Str("path", cfg.AuditLog).Msg("audit log reopened")
			}
		}
	}()
	return log, audit, func() { close(stop); <-done; _ = f.Close() }, nil
}

// hangups returns the channel that reopens the audit file: SIGHUP, unless tests give their own.
// stop stops listening.
func hangups(cfg config, o appOptions) (reopen <-chan os.Signal, stop func()) {
	if o.reopenAudit != nil {
		return o.reopenAudit, func() {}
	}
	if cfg.AuditLog == "" {
		return nil, func() {} // SIGHUP keeps its default meaning
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup, func() { signal.Stop(hup) }
}

// auditFile is the audit log file, which can be reopened at its path while being written.
type auditFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func (a *auditFile) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Write(p)
}

// reopen opens the file at the path (creating it 0600) and closes the one written so far.
func (a *auditFile) reopen() error {
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	a.mu.Lock()
	old := a.f
	a.f = f
	a.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func (a *auditFile) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}

// readinessFailed logs a failing readiness check: /readyz answers only "failed", the detail is here.
func readinessFailed(log zerolog.Logger) func(name string, err error) {
	return func(name string, err error) {
		log.Warn().Str("check", name).Err(err).Msg("readiness check failed")
	}
}
