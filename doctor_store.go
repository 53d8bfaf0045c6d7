package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
)

// dataDir checks that the bot can create its data file: the directory exists (or can be created,
// 0700 as the bot would) and takes a new file. The data file itself is not opened: a running bot
// holds its lock.
func (d *doctor) dataDir(dir, what string) {
	created := false
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	const fix = "point QOVERY_BOT_DATA_DIR at a directory the bot's user can write (on Kubernetes, a mounted volume)"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		d.fail(what, fmt.Sprintf("%s cannot be created: %v", dir, pathError(err)), fix)
		return
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		d.fail(what, fmt.Sprintf("%s is not writable: %v", dir, pathError(err)), fix)
		return
	}
	_, werr := f.WriteString("qovery-slack-bot doctor\n")
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	if err := errors.Join(werr, cerr, rerr); err != nil {
		d.fail(what, fmt.Sprintf("%s is not writable: %v", dir, pathError(err)), fix)
		return
	}
	detail := dir + " is writable"
	if created {
		detail += " (created it, 0700)"
	}
	if st, err := os.Stat(filepath.Join(dir, dataFileName)); err == nil {
		detail += fmt.Sprintf("; %s exists (%d KiB)", dataFileName, (st.Size()+1023)/1024)
	} else {
		detail += fmt.Sprintf("; %s will be created at start-up", dataFileName)
	}
	d.pass(what, detail)
}

// database checks that QOVERY_BOT_DATABASE_URL reaches a PostgreSQL the bot can use, without
// changing anything: the schema version found, whether start-up can migrate it, and how many
// replicas hold leases there now.
func (d *doctor) database(ctx context.Context, dbURL, what string) {
	if u, err := url.Parse(dbURL); err == nil {
		if pw, ok := u.User.Password(); ok {
			d.secrets = append(d.secrets, pw)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	info, err := pgstore.Inspect(ctx, dbURL)
	if err != nil {
		// pgx writes a failed connection over two lines; one line per check.
		d.fail(what, "cannot use it: "+strings.Join(strings.Fields(err.Error()), " "),
			"check QOVERY_BOT_DATABASE_URL (host, port, user, password, database name, sslmode) and that the bot's network reaches PostgreSQL")
		return
	}
	want := pgstore.SchemaVersion()
	if info.SchemaVersion < want && !info.CanCreate {
		d.fail(what, fmt.Sprintf("the schema is at version %d and start-up must migrate it to %d, but this user may not create tables in schema %q", info.SchemaVersion, want, info.Schema),
			fmt.Sprintf("GRANT CREATE ON SCHEMA %s TO the bot's user, or point search_path in the URL at a schema it owns", info.Schema))
		return
	}
	detail := fmt.Sprintf("PostgreSQL %s, schema %q: ", info.ServerVersion, info.Schema)
	switch {
	case info.SchemaVersion == 0:
		detail += fmt.Sprintf("empty, the tables are created at start-up (version %d)", want)
	case info.SchemaVersion < want:
		detail += fmt.Sprintf("version %d, migrated to %d at start-up", info.SchemaVersion, want)
	case info.SchemaVersion == want:
		detail += fmt.Sprintf("version %d, up to date", want)
	default:
		detail += fmt.Sprintf("version %d, newer than this release's %d (fine: migrations only add, as during a rolling update)", info.SchemaVersion, want)
	}
	detail += fmt.Sprintf("; replicas holding leases now: %d", info.Replicas)
	d.pass(what, detail)
}

// auditLog checks that QOVERY_BOT_AUDIT_LOG can be opened for appending, as the bot does at start-up
// (creating it 0600 when missing).
func (d *doctor) auditLog(path, what string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		d.fail(what, fmt.Sprintf("%s cannot be opened for appending: %v", path, pathError(err)),
			"point QOVERY_BOT_AUDIT_LOG at a file in a directory the bot's user can write, or unset it")
		return
	}
	d.pass(what, path+" can be appended to")
}
