package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// doctorCheckTimeout bounds each check that talks to Slack or Qovery, so that doctor never hangs on
// a network that drops packets.
const doctorCheckTimeout = 10 * time.Second

// runDoctor checks, one line each, what serving needs: the configuration, the Slack app-level and
// bot tokens (and the bot's scopes), the Qovery token, organization and clusters, the data
// directory and the health address. A passing check prints "✓ <what>: …", a failing one
// "✗ <what>: <problem>. Fix: <how>", a check that cannot run because an earlier one failed
// "- <what>: skipped, …". It returns an error when any check failed. It never prints a token, and
// it does not open a Socket Mode WebSocket: Slack would hand that connection events meant for a
// bot already running with the same app.
func runDoctor(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	d := &doctor{out: stdout}
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "QOVERY_API_TOKEN"} {
		d.secrets = append(d.secrets, getenv(name), strings.TrimSpace(getenv(name)))
	}
	d.print("qovery-slack-bot " + version() + ": checking the configuration in the environment")

	cfg, err := loadConfig(getenv)
	bad := d.configuration(cfg, err)
	// ready returns "" when none of vars is misconfigured, else a skip reason naming the first one.
	ready := func(vars ...string) string {
		for _, v := range vars {
			if bad[v] {
				return "skipped until " + v + " is fixed"
			}
		}
		return ""
	}
	hc := &http.Client{Timeout: doctorCheckTimeout}

	const appCheck, botCheck, scopesCheck = "Slack app-level token", "Slack bot token", "Slack bot scopes"
	if why := ready("SLACK_API_URL", "SLACK_APP_TOKEN"); why != "" {
		d.skip(appCheck, why)
	} else {
		d.slackAppToken(ctx, cfg, hc, appCheck)
	}
	if why := ready("SLACK_API_URL", "SLACK_BOT_TOKEN"); why != "" {
		d.skip(botCheck, why)
		d.skip(scopesCheck, why)
	} else if granted, ok := d.slackBotToken(ctx, cfg, hc, botCheck); ok {
		d.botScopes(granted, scopesCheck)
	} else {
		d.skip(scopesCheck, "skipped, the bot token does not work")
	}

	const tokenCheck, orgCheck, clustersCheck = "Qovery API token", "Qovery organization", "Qovery clusters"
	if why := ready("QOVERY_API_URL", "QOVERY_API_TOKEN"); why != "" {
		for _, c := range []string{tokenCheck, orgCheck, clustersCheck} {
			d.skip(c, why)
		}
	} else if qc, orgs, ok := d.qoveryToken(ctx, cfg, hc, tokenCheck); !ok {
		d.skip(orgCheck, "skipped, the Qovery token does not work")
		d.skip(clustersCheck, "skipped, the Qovery token does not work")
	} else if why := ready("QOVERY_ORGANIZATION_ID"); why != "" {
		d.skip(orgCheck, why)
		d.skip(clustersCheck, why)
	} else if org, ok := d.qoveryOrganization(ctx, qc, cfg.OrganizationID, orgs, orgCheck); ok {
		d.qoveryClusters(ctx, qc, org, clustersCheck)
	} else {
		d.skip(clustersCheck, "skipped, no organization to list them from")
	}

	switch {
	case cfg.DatabaseURL != "":
		d.database(ctx, cfg.DatabaseURL, "database")
	case bad["QOVERY_BOT_DATABASE_URL"]:
		d.skip("database", ready("QOVERY_BOT_DATABASE_URL"))
	default:
		d.dataDir(cfg.DataDir, "data directory")
	}
	if cfg.AuditLog != "" {
		d.auditLog(cfg.AuditLog, "audit log")
	}
	if why := ready("QOVERY_BOT_HTTP_ADDR"); why != "" {
		d.skip("health address", why)
	} else {
		d.healthAddr(ctx, cfg.HTTPAddr, "health address")
	}

	total := d.passed + d.failed + d.skipped
	if d.failed == 0 && d.skipped == 0 {
		d.print(fmt.Sprintf("All %d checks passed.", total))
		return nil
	}
	msg := fmt.Sprintf("%d of %d checks failed", d.failed, total)
	if d.skipped > 0 {
		msg += fmt.Sprintf(", %d skipped", d.skipped)
	}
	return errors.New("doctor: " + msg)
}

// doctor prints the result of each check and counts them.
type doctor struct {
	out io.Writer
	// secrets are the token values, masked in every line as a last guard: no check prints one on
	// purpose, but error texts come from libraries.
	secrets                 []string
	passed, failed, skipped int
}

func (d *doctor) print(line string) {
	for _, s := range d.secrets {
		if len(s) >= 6 {
			line = strings.ReplaceAll(line, s, "[redacted]")
		}
	}
	fmt.Fprintln(d.out, line)
}

func (d *doctor) pass(what, detail string) {
	d.passed++
	d.print("✓ " + what + ": " + detail)
}

func (d *doctor) fail(what, problem, fix string) {
	d.failed++
	d.print("✗ " + what + ": " + strings.TrimSuffix(problem, ".") + ". Fix: " + fix)
}

func (d *doctor) skip(what, why string) {
	d.skipped++
	d.print("- " + what + ": " + why)
}

// configuration prints the result of loadConfig, one line per problem, and returns the variables
// that have one.
func (d *doctor) configuration(cfg config, err error) map[string]bool {
	const what = "configuration"
	bad := map[string]bool{}
	if err == nil {
		detail := "the required variables are set and every variable is well-formed"
		if p := cfg.Policy; !p.AllowEveryone && len(p.Users) == 0 && len(p.Groups) == 0 {
			detail += " (note: stop is refused until QOVERY_BOT_ALLOWED_USERS or QOVERY_BOT_ALLOWED_USERGROUPS is set)"
		}
		d.pass(what, detail)
		return bad
	}
	problems := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		problems = joined.Unwrap()
	}
	for _, p := range problems {
		name, _, _ := strings.Cut(p.Error(), ":")
		bad[name] = true
		d.fail(what, p.Error(), "set "+name+" as the README's configuration table describes")
	}
	return bad
}

// slackAppToken asks Slack for a Socket Mode URL with the app-level token (apps.connections.open),
// as the bot does before dialling it.
func (d *doctor) slackAppToken(ctx context.Context, cfg config, hc *http.Client, what string) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	api := slack.New("", slack.OptionAppLevelToken(cfg.SlackAppToken), slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionHTTPClient(hc))
	_, _, err := api.StartSocketModeContext(ctx)
	if err == nil {
		d.pass(what, "opens a Socket Mode connection (apps.connections.open)")
		return
	}
	const newToken = "generate an app-level token with the connections:write scope (your app's Basic Information > App-Level Tokens) and set SLACK_APP_TOKEN to it"
	switch code := slackErrorCode(err); code {
	case "":
		d.fail(what, unreachable("Slack", cfg.SlackAPIURL, "apps.connections.open", err), "check the network (and any proxy) to Slack, and SLACK_API_URL")
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		d.fail(what, "Slack rejected the token on apps.connections.open ("+code+")", newToken)
	case "not_allowed_token_type":
		d.fail(what, "Slack says this is not an app-level token (not_allowed_token_type)", newToken)
	case "missing_scope":
		d.fail(what, "the token lacks the connections:write scope (missing_scope)", newToken)
	default:
		d.fail(what, "apps.connections.open answered "+code, "check that Socket Mode is enabled for the app (manifest.yaml enables it), then "+newToken)
	}
}

// slackBotToken calls auth.test with the bot token and returns the scopes Slack reports it has.
func (d *doctor) slackBotToken(ctx context.Context, cfg config, hc *http.Client, what string) (granted []string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	api := slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionHTTPClient(hc))
	resp, err := api.AuthTestContext(ctx)
	if err != nil {
		const reinstall = "reinstall the app (Install App), then set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions"
		switch code := slackErrorCode(err); code {
		case "":
			d.fail(what, unreachable("Slack", cfg.SlackAPIURL, "auth.test", err), "check the network (and any proxy) to Slack, and SLACK_API_URL")
		case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
			d.fail(what, "Slack rejected the token on auth.test ("+code+")", reinstall)
		default:
			d.fail(what, "auth.test answered "+code, reinstall)
		}
		return nil, false
	}
	d.pass(what, fmt.Sprintf("works (auth.test): workspace %s (%s), bot user @%s (%s)", resp.Team, resp.TeamID, resp.User, resp.UserID))
	if resp.Header == nil || resp.Header.Values("X-OAuth-Scopes") == nil {
		return nil, true
	}
	for _, s := range strings.Split(resp.Header.Get("X-OAuth-Scopes"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			granted = append(granted, s)
		}
	}
	if granted == nil {
		granted = []string{}
	}
	return granted, true
}

// botScopes compares the scopes Slack granted the bot token with those the manifest asks for. granted
// is nil when Slack did not say (no X-OAuth-Scopes header).
func (d *doctor) botScopes(granted []string, what string) {
	if granted == nil {
		d.fail(what, "Slack did not report the token's scopes (no X-OAuth-Scopes header on auth.test)",
			"check that nothing between the bot and Slack strips response headers; OAuth & Permissions lists the scopes the app has")
		return
	}
	var missing []string
	for _, s := range requiredScopes() {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		d.fail(what, "the bot token lacks "+strings.Join(missing, ", "),
			"add them under OAuth & Permissions > Scopes (manifest.yaml lists them), then reinstall the app (the bot token stays the same)")
		return
	}
	d.pass(what, "granted "+strings.Join(requiredScopes(), ", "))
}

// qoveryToken lists the organizations the Qovery token sees (GET /organization).
func (d *doctor) qoveryToken(ctx context.Context, cfg config, hc *http.Client, what string) (*qovery.Client, []qovery.Organization, bool) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	qc, err := qovery.NewClient(cfg.QoveryAPIToken, qovery.WithBaseURL(cfg.QoveryAPIURL), qovery.WithUserAgent("qovery-slack-bot-doctor"),
		qovery.WithHTTPClient(hc), qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 2, MinBackoff: 500 * time.Millisecond, MaxBackoff: 2 * time.Second}))
	if err != nil {
		d.fail(what, err.Error(), "check QOVERY_API_URL")
		return nil, nil, false
	}
	orgs, err := qc.Organizations(ctx)
	if err != nil {
		problem, fix := qoveryProblem(cfg.QoveryAPIURL, "GET /organization", err)
		d.fail(what, problem, fix)
		return nil, nil, false
	}
	d.pass(what, fmt.Sprintf("works (GET /organization), sees %s", plural(len(orgs), "organization")))
	return qc, orgs, true
}

// qoveryOrganization picks the organization as the bot does (resolveOrganization).
func (d *doctor) qoveryOrganization(ctx context.Context, qc *qovery.Client, want uuid.UUID, orgs []qovery.Organization, what string) (qovery.Organization, bool) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	org, err := resolveOrganization(ctx, qc, want)
	if err == nil {
		how := "the only one the token sees"
		if want != uuid.Nil {
			how = "QOVERY_ORGANIZATION_ID"
		}
		d.pass(what, fmt.Sprintf("%s (%s), %s", org.Name, org.ID, how))
		return org, true
	}
	// resolveOrganization decides from the same list the token check got; a list that changed
	// between the two calls is the only other way for it to fail.
	seen := slices.ContainsFunc(orgs, func(o qovery.Organization) bool { return o.ID == want })
	switch {
	case want != uuid.Nil && !seen:
		d.fail(what, err.Error(), "set QOVERY_ORGANIZATION_ID to one of those ids, or create the API token in the organization the bot should act on")
	case want == uuid.Nil && len(orgs) == 0:
		d.fail(what, err.Error(), "create the API token inside the organization the bot should act on (Organization settings > API token)")
	case want == uuid.Nil && len(orgs) > 1:
		d.fail(what, err.Error(), "set QOVERY_ORGANIZATION_ID to the id of the organization the bot should act on")
	default:
		d.fail(what, err.Error(), "run doctor again: Qovery answered GET /organization differently the second time")
	}
	return qovery.Organization{}, false
}

// qoveryClusters lists the organization's clusters, as /qovery list and stop do.
func (d *doctor) qoveryClusters(ctx context.Context, qc *qovery.Client, org qovery.Organization, what string) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	clusters, err := qc.Clusters(ctx, org.ID)
	if err != nil {
		problem, fix := qoveryProblem(qc.BaseURL(), "GET /organization/{id}/cluster", err)
		d.fail(what, problem, fix)
		return
	}
	d.pass(what, fmt.Sprintf("the token lists %s in %s", plural(len(clusters), "cluster"), org.Name))
}

// qoveryProblem explains a failed Qovery call and how to fix it.
func qoveryProblem(apiURL, call string, err error) (problem, fix string) {
	var qe *qovery.Error
	switch {
	case qovery.IsUnauthorized(err):
		return "Qovery rejected the token on " + call + " (401): the token is invalid or revoked",
			"create an organization API token (Qovery console > Organization settings > API token) and set QOVERY_API_TOKEN to it"
	case qovery.IsForbidden(err):
		return "Qovery refused " + call + " (403): the token's role does not allow it",
			"give the API token a role that can read and stop the organization's clusters"
	case errors.As(err, &qe):
		return "Qovery answered " + call + " with " + qe.Error(), "try again later; if it persists, check QOVERY_API_URL and Qovery's status page"
	}
	return unreachable("Qovery", apiURL, call, err), "check the network (and any proxy) to Qovery, and QOVERY_API_URL"
}

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

// healthAddr checks that the health endpoints can listen where QOVERY_BOT_HTTP_ADDR says.
func (d *doctor) healthAddr(ctx context.Context, addr, what string) {
	if addr == "" {
		d.pass(what, "off (QOVERY_BOT_HTTP_ADDR=off): no /healthz, /readyz or /metrics")
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		_ = ln.Close()
		d.pass(what, addr+" is free for /healthz, /readyz and /metrics")
		return
	}
	const fix = "set QOVERY_BOT_HTTP_ADDR to a free host:port (or off)"
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		problem := addr + " is in use"
		if healthzAnswers(ctx, addr) {
			problem += " by something answering /healthz: a bot already running?"
		}
		d.fail(what, problem, "stop what listens there, or "+fix)
	case errors.Is(err, syscall.EACCES):
		d.fail(what, "not allowed to listen on "+addr+" (ports below 1024 need privileges)", fix)
	default:
		d.fail(what, fmt.Sprintf("cannot listen on %s: %v", addr, err), fix)
	}
}

// healthzAnswers reports whether GET /healthz on addr answers 200, the sign of a running bot.
func healthzAnswers(ctx context.Context, addr string) bool {
	u, err := healthzURL(addr)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// slackErrorCode returns the error code of a Slack answer with "ok": false ("invalid_auth"), or ""
// when err is not one (Slack did not answer, or answered with an HTTP error).
func slackErrorCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// unreachable describes a call that got no usable answer.
func unreachable(service, apiURL, call string, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
		return fmt.Sprintf("no answer from %s (%s) to %s within %s", service, apiURL, call, doctorCheckTimeout)
	}
	// The network error itself ("dial tcp …: connection refused"), without the URL and wrapping
	// the line already names.
	var oe *net.OpError
	var ue *url.Error
	switch {
	case errors.As(err, &oe):
		err = oe
	case errors.As(err, &ue):
		err = ue.Err
	}
	return fmt.Sprintf("%s (%s) did not answer %s: %v", service, apiURL, call, err)
}

// pathError drops the operation and path of an *os.PathError, which the caller already names.
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
