package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore/pgtest"
)

// The audit log is checked without being created or opened: a missing file is reported as created at
// start-up, a missing directory or a directory in the file's place fails.
func TestDoctorAuditLog(t *testing.T) {
	vars, _, _ := doctorEnv(t)
	dir := t.TempDir()
	vars["QOVERY_BOT_AUDIT_LOG"] = filepath.Join(dir, "audit.jsonl")
	lines, err := runDoctorCommand(t, vars)
	if err != nil || line(lines, "✓ audit log: "+vars["QOVERY_BOT_AUDIT_LOG"]+" does not exist yet; start-up creates it (0600)") == "" {
		t.Errorf("doctor with a new audit log = %v\n%s", err, strings.Join(lines, "\n"))
	}
	if _, err := os.Stat(vars["QOVERY_BOT_AUDIT_LOG"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("doctor created the audit log: %v", err)
	}

	if err := os.WriteFile(vars["QOVERY_BOT_AUDIT_LOG"], []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err = runDoctorCommand(t, vars)
	if err != nil || line(lines, "✓ audit log: "+vars["QOVERY_BOT_AUDIT_LOG"]+" can be appended to") == "" {
		t.Errorf("doctor with an audit log = %v\n%s", err, strings.Join(lines, "\n"))
	}
	if b, _ := os.ReadFile(vars["QOVERY_BOT_AUDIT_LOG"]); string(b) != "{}\n" {
		t.Errorf("doctor changed the audit log to %q", b)
	}

	vars["QOVERY_BOT_AUDIT_LOG"] = filepath.Join(dir, "missing", "audit.jsonl")
	lines, err = runDoctorCommand(t, vars)
	if err == nil || line(lines, "✗ audit log: "+vars["QOVERY_BOT_AUDIT_LOG"]+" cannot be created: its directory "+filepath.Join(dir, "missing")+" does not exist. Fix: ") == "" {
		t.Errorf("doctor with an audit log in a missing directory = %v\n%s", err, strings.Join(lines, "\n"))
	}
	vars["QOVERY_BOT_AUDIT_LOG"] = dir
	lines, err = runDoctorCommand(t, vars)
	if err == nil || line(lines, "✗ audit log: "+dir+" is a directory. Fix: ") == "" {
		t.Errorf("doctor with a directory as audit log = %v\n%s", err, strings.Join(lines, "\n"))
	}
}

// A check never creates the data directory, even where it could.
func TestDoctorChangesNothing(t *testing.T) {
	vars, _, _ := doctorEnv(t)
	root := t.TempDir()
	vars["QOVERY_BOT_DATA_DIR"] = filepath.Join(root, "a", "b", "data")
	lines, err := runDoctorCommand(t, vars)
	if err != nil || line(lines, "✓ data directory: "+vars["QOVERY_BOT_DATA_DIR"]+" does not exist yet; start-up creates it (0700) in "+root+", which is writable") == "" {
		t.Errorf("doctor with a data directory to create = %v\n%s", err, strings.Join(lines, "\n"))
	}
	if entries, err := os.ReadDir(root); err != nil || len(entries) != 0 {
		t.Errorf("after doctor, %s holds %v (%v); want nothing", root, entries, err)
	}
	// The default, ./data, stays absent from the working directory too.
	t.Chdir(root)
	delete(vars, "QOVERY_BOT_DATA_DIR")
	if lines, err := runDoctorCommand(t, vars); err != nil {
		t.Errorf("doctor with the default data directory = %v\n%s", err, strings.Join(lines, "\n"))
	}
	if _, err := os.Stat(filepath.Join(root, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("doctor created ./data: %v", err)
	}
}

func TestDoctorDatabaseTLS(t *testing.T) {
	const fix = "Fix: add sslmode=verify-full to QOVERY_BOT_DATABASE_URL"
	for _, tc := range []struct {
		url, pgsslmode string
		want           string // the warning's start, "" for none
	}{
		{"postgres://bot@db/bot?sslmode=verify-full", "", ""},
		{"postgres://bot@db/bot?sslmode=verify-full", "disable", ""},
		{"postgres://bot@db/bot?sslmode=verify-ca", "", "! database TLS: QOVERY_BOT_DATABASE_URL has sslmode=verify-ca: the server's certificate is checked, but not that it was issued for this host name. "},
		{"postgres://bot@db/bot?sslmode=require", "", "! database TLS: QOVERY_BOT_DATABASE_URL has sslmode=require: the connection is encrypted, but "},
		{"postgres://bot@db/bot?sslmode=prefer", "", "! database TLS: QOVERY_BOT_DATABASE_URL has sslmode=prefer: TLS is used only if the server offers it"},
		{"postgres://bot@db/bot?sslmode=allow", "", "! database TLS: QOVERY_BOT_DATABASE_URL has sslmode=allow: "},
		{"postgres://bot@db/bot?sslmode=disable", "", "! database TLS: QOVERY_BOT_DATABASE_URL has sslmode=disable: no TLS"},
		{"postgres://bot@db/bot", "", "! database TLS: QOVERY_BOT_DATABASE_URL names no sslmode, so the driver uses prefer: "},
		{"postgres://bot@db/bot", "verify-full", ""},
		{"postgres://bot@db/bot", "require", "! database TLS: QOVERY_BOT_DATABASE_URL names no sslmode and PGSSLMODE is require: "},
	} {
		var out bytes.Buffer
		d := &doctor{out: &out}
		d.databaseTLS(tc.url, tc.pgsslmode, "database TLS")
		got := strings.TrimSuffix(out.String(), "\n")
		switch {
		case tc.want == "" && (got != "" || d.warned != 0):
			t.Errorf("databaseTLS(%q, PGSSLMODE=%q) warned %q; want nothing", tc.url, tc.pgsslmode, got)
		case tc.want != "" && (!strings.HasPrefix(got, tc.want) || !strings.Contains(got, fix) || d.warned != 1):
			t.Errorf("databaseTLS(%q, PGSSLMODE=%q) = %q; want %q… with %q", tc.url, tc.pgsslmode, got, tc.want, fix)
		}
	}
}

// TestDoctorDatabase: with QOVERY_BOT_DATABASE_URL the database is checked instead of the data
// directory, without being changed; a database it cannot reach fails with the fix, and no password
// is printed.
func TestDoctorDatabase(t *testing.T) {
	db := pgtest.Database(t)
	vars, _, _ := doctorEnv(t)
	vars["QOVERY_BOT_DATABASE_URL"] = db
	lines, err := runDoctorCommand(t, vars)
	if err != nil || !strings.HasPrefix(lines[len(lines)-1], "All 10 checks passed") {
		t.Errorf("doctor = %v; want nil\n%s", err, strings.Join(lines, "\n"))
	}
	want := []string{"✓ configuration", "✓ Slack app-level token", "✓ Slack bot token", "✓ Slack bot scopes",
		"✓ Qovery API token", "✓ Qovery organization", "✓ Qovery clusters", "✓ database", "✓ audit log", "✓ health address"}
	if got := outcomes(lines); !slices.Equal(got, want) {
		t.Fatalf("checks = %q; want %q\n%s", got, want, strings.Join(lines, "\n"))
	}
	fresh := fmt.Sprintf("empty, the tables are created at start-up (version %d); replicas holding leases now: 0", pgstore.SchemaVersion())
	if l := line(lines, "✓ database: PostgreSQL "); !strings.HasSuffix(l, fresh) {
		t.Errorf("database line = %q; want it to end with %q", l, fresh)
	}
	// Doctor changed nothing: the schema is still empty. Once the bot has migrated it, it says so.
	s, err := pgstore.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Leases("replica-a", time.Minute).Acquire(t.Context(), "watch/org"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	lines, _ = runDoctorCommand(t, vars)
	upToDate := fmt.Sprintf("version %d, up to date; replicas holding leases now: 1", pgstore.SchemaVersion())
	if l := line(lines, "✓ database: "); !strings.HasSuffix(l, upToDate) {
		t.Errorf("database line after a start-up = %q; want it to end with %q", l, upToDate)
	}

	// Nothing listens on port 1; the password must not be printed.
	vars["QOVERY_BOT_DATABASE_URL"] = "postgres://bot:hunter2-secret@127.0.0.1:1/bot?sslmode=disable&connect_timeout=2"
	lines, err = runDoctorCommand(t, vars)
	if l := line(lines, "✗ database: cannot use the database of QOVERY_BOT_DATABASE_URL: failed to connect"); err == nil || !strings.Contains(l, "Fix: check QOVERY_BOT_DATABASE_URL") {
		t.Errorf("doctor on an unreachable database = %v\n%s", err, strings.Join(lines, "\n"))
	}
	assertNoSecrets(t, lines, "hunter2-secret")
}
