package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
)

// dataDir checks that the bot can create or open its data file without changing anything: the
// directory exists and the bot's user may write it, or the nearest directory above it that exists is
// one the bot may create it in (0700, at start-up). The data file itself is not opened: a running
// bot holds its lock.
func (d *doctor) dataDir(dir, what string) {
	const fix = dataDirFix
	parent, err := nearestDir(dir)
	if err != nil {
		d.fail(what, fmt.Sprintf("%s cannot be created: %v", dir, err), fix)
		return
	}
	if err := writable(parent); err != nil {
		d.fail(what, fmt.Sprintf("%s is not writable: %v", parent, err), fix)
		return
	}
	if parent != dir {
		d.pass(what, fmt.Sprintf("%s does not exist yet; start-up creates it (0700) in %s, which is writable, and %s in it", dir, parent, dataFileName))
		return
	}
	detail := dir + " is writable"
	if st, err := os.Stat(filepath.Join(dir, dataFileName)); err == nil {
		detail += fmt.Sprintf("; %s exists (%d KiB)", dataFileName, (st.Size()+1023)/1024)
	} else {
		detail += fmt.Sprintf("; %s will be created at start-up", dataFileName)
	}
	d.pass(what, detail)
}

// dataFileProblem explains why the data file at path (QOVERY_BOT_DATA_DIR) cannot be opened, and
// how to fix it.
func dataFileProblem(path string, err error) (problem, fix string) {
	var pe *os.PathError
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return path + " (in QOVERY_BOT_DATA_DIR) is locked by another process: another bot running on the same data directory?",
			"stop the other bot; one data file serves one process, so to run several replicas set QOVERY_BOT_DATABASE_URL to a shared PostgreSQL database instead"
	case errors.As(err, &pe):
		return fmt.Sprintf("cannot create or open %s (in QOVERY_BOT_DATA_DIR): %v", pe.Path, pe.Err), dataDirFix
	}
	// What remains is the file's content: a schema it does not understand, a damaged file.
	return fmt.Sprintf("cannot use the data file %s: %s", path, strings.TrimPrefix(err.Error(), "open store "+path+": ")),
		"move " + path + " aside to start with an empty store (the confirmations and watches in it are lost), or run the release that wrote it"
}

// nearestDir returns path when it is a directory, else the nearest directory above it, which is
// where creating path would start. It fails when path, or what stands above it, is not a directory.
func nearestDir(path string) (string, error) {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		switch {
		case err == nil && st.IsDir():
			return p, nil
		case err == nil:
			return "", fmt.Errorf("%s is not a directory", p)
		case !errors.Is(err, os.ErrNotExist):
			return "", pathError(err)
		case filepath.Dir(p) == p:
			return "", pathError(err)
		}
	}
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
		problem, fix := databaseProblem(err)
		d.fail(what, problem, fix)
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

// databaseProblem explains why the database of QOVERY_BOT_DATABASE_URL cannot be used, and how to
// fix it: PostgreSQL's own answer when it gave one (a refused password, a missing privilege), else
// the connection's failure. pgx names the user and the database there, never the password.
func databaseProblem(err error) (problem, fix string) {
	const check = "check QOVERY_BOT_DATABASE_URL (host, port, user, password, database name, sslmode) and that the bot's network reaches PostgreSQL"
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &pe) && pe.Code == "42501": // insufficient_privilege, as when migrating
		return "PostgreSQL refused the bot's user: " + pe.Message + " (SQLSTATE 42501)",
			"GRANT CREATE ON SCHEMA to the bot's user on the schema of its tables, or point search_path in QOVERY_BOT_DATABASE_URL at a schema it owns"
	case errors.As(err, &pe):
		return "PostgreSQL refused the bot: " + pe.Message + " (SQLSTATE " + pe.Code + ")", check
	case errors.As(err, &ce):
		return "cannot use the database of QOVERY_BOT_DATABASE_URL: " + oneLine(ce.Error()), check
	case errors.Is(err, context.DeadlineExceeded):
		return "cannot use the database of QOVERY_BOT_DATABASE_URL: no answer in time", check
	}
	return "cannot use the database of QOVERY_BOT_DATABASE_URL: " + oneLine(err.Error()), check
}

// auditLogFix is what to do when the bot cannot append to QOVERY_BOT_AUDIT_LOG.
const auditLogFix = "point QOVERY_BOT_AUDIT_LOG at a file in a directory the bot's user can write, or unset it"

// dataDirFix is what to do when the bot cannot create or open its data file.
const dataDirFix = "point QOVERY_BOT_DATA_DIR at a directory the bot's user can write (on Kubernetes, a mounted volume)"

// auditLog checks that QOVERY_BOT_AUDIT_LOG can be opened for appending, as the bot does at start-up
// (creating it 0600 when missing, in a directory that must exist), without opening or creating it.
func (d *doctor) auditLog(path, what string) {
	if path == "" {
		d.pass(what, "off (QOVERY_BOT_AUDIT_LOG unset): audit events go to the log only")
		return
	}
	const fix = auditLogFix
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		d.fail(what, path+" is a directory", fix)
	case err == nil:
		if err := writable(path); err != nil {
			d.fail(what, fmt.Sprintf("%s cannot be opened for appending: %v", path, err), fix)
			return
		}
		d.pass(what, path+" can be appended to")
	case !errors.Is(err, os.ErrNotExist):
		d.fail(what, fmt.Sprintf("%s cannot be opened for appending: %v", path, pathError(err)), fix)
	default:
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			d.fail(what, fmt.Sprintf("%s cannot be created: its directory %s does not exist", path, dir), fix)
			return
		}
		if err := writable(dir); err != nil {
			d.fail(what, fmt.Sprintf("%s cannot be created: %s is not writable: %v", path, dir, err), fix)
			return
		}
		d.pass(what, path+" does not exist yet; start-up creates it (0600)")
	}
}

// databaseTLS warns when QOVERY_BOT_DATABASE_URL lets the connection go without TLS, or with TLS
// that does not check the server's certificate and name: then whoever sits on the network path can
// read the password and the data, or pose as the database. pgx, like libpq, takes PGSSLMODE when the
// URL names no sslmode, and prefer when neither does.
func (d *doctor) databaseTLS(dbURL, pgsslmode, what string) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return // the configuration check reports it
	}
	mode, from := u.Query().Get("sslmode"), "QOVERY_BOT_DATABASE_URL has sslmode="
	switch {
	case mode != "":
	case strings.TrimSpace(pgsslmode) != "":
		mode, from = strings.TrimSpace(pgsslmode), "QOVERY_BOT_DATABASE_URL names no sslmode and PGSSLMODE is "
	default:
		mode, from = "prefer", "QOVERY_BOT_DATABASE_URL names no sslmode, so the driver uses "
	}
	var risk string
	switch mode {
	case "verify-full":
		return
	case "verify-ca":
		risk = "the server's certificate is checked, but not that it was issued for this host name"
	case "require":
		risk = "the connection is encrypted, but the server's certificate is not checked, so anyone on the network path can pose as the database"
	case "prefer", "allow":
		risk = "TLS is used only if the server offers it and its certificate is not checked, so the password can cross the network in clear"
	case "disable":
		risk = "no TLS: the password and the data cross the network in clear"
	default:
		risk = "not a mode this check knows"
	}
	d.warn(what, from+mode+": "+risk,
		"add sslmode=verify-full to QOVERY_BOT_DATABASE_URL, with sslrootcert=<file of the CA that signed the server's certificate> unless the system's CAs cover it")
}
