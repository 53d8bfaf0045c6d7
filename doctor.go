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
	"strings"
	"syscall"
	"time"
)

// doctorCheckTimeout bounds each check that talks to Slack or Qovery, so that doctor never hangs on
// a network that drops packets.
const doctorCheckTimeout = 10 * time.Second

// runDoctor checks, one line each, what serving needs: the configuration, the Slack app-level and
// bot tokens (and the bot's scopes), the Qovery token, organization and clusters, the store (data
// directory or database), the audit log and the health address: always the same ten checks. A
// passing check prints "✓ <what>: …", a failing one "✗ <what>: <problem>. Fix: <how>" (the
// configuration check, one such line per variable), a check that cannot run because an earlier one
// failed "- <what>: skipped, …", and something that works but should change "! <what>: <problem>.
// Fix: <how>". It returns an error when any check failed. It changes nothing: it creates no file or
// directory, and only reads the database. It never prints a token, and it does not open a
// Socket Mode WebSocket: Slack would hand that connection events meant for a bot already running
// with the same app.
func runDoctor(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	d := &doctor{out: stdout}
	for _, name := range requiredVariables() {
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
	} else if qc, ok := d.qoveryToken(ctx, cfg, hc, tokenCheck); !ok {
		d.skip(orgCheck, "skipped, the Qovery token does not work")
		d.skip(clustersCheck, "skipped, the Qovery token does not work")
	} else if why := ready("QOVERY_ORGANIZATION_ID"); why != "" {
		d.skip(orgCheck, why)
		d.skip(clustersCheck, why)
	} else if org, ok := d.qoveryOrganization(ctx, qc, cfg.OrganizationID, orgCheck); ok {
		d.qoveryClusters(ctx, qc, org, clustersCheck)
	} else {
		d.skip(clustersCheck, "skipped, no organization to list them from")
	}

	// A misconfigured variable is reported once, by the configuration check.
	switch {
	case bad["QOVERY_BOT_DATABASE_URL"]:
		d.skip("database", ready("QOVERY_BOT_DATABASE_URL"))
	case cfg.DatabaseURL != "":
		d.database(ctx, cfg.DatabaseURL, "database")
		d.databaseTLS(cfg.DatabaseURL, getenv("PGSSLMODE"), "database TLS")
	default:
		d.dataDir(cfg.DataDir, "data directory")
	}
	d.auditLog(cfg.AuditLog, "audit log")
	if why := ready("QOVERY_BOT_HTTP_ADDR"); why != "" {
		d.skip("health address", why)
	} else {
		d.healthAddr(ctx, cfg.HTTPAddr, "health address")
	}

	total := d.passed + d.failed + d.skipped
	warnings := ""
	if d.warned > 0 {
		warnings = ", " + plural(d.warned, "warning")
	}
	if d.failed == 0 && d.skipped == 0 {
		d.print(fmt.Sprintf("All %d checks passed%s.", total, warnings))
		return nil
	}
	msg := fmt.Sprintf("%d of %d checks failed", d.failed, total)
	if d.skipped > 0 {
		msg += fmt.Sprintf(", %d skipped", d.skipped)
	}
	return errors.New("doctor: " + msg + warnings)
}

// doctor prints the result of each check and counts them.
type doctor struct {
	out io.Writer
	// secrets are the token values, masked in every line as a last guard: no check prints one on
	// purpose, but error texts come from libraries.
	secrets []string
	// Each check counts once, whatever it prints; a warning is not a check.
	passed, failed, skipped, warned int
}

func (d *doctor) print(line string) {
	fmt.Fprintln(d.out, redact(line, d.secrets))
}

func (d *doctor) pass(what, detail string) {
	d.passed++
	d.print("✓ " + what + ": " + detail)
}

func (d *doctor) fail(what, problem, fix string) {
	d.failed++
	d.problem("✗", what, problem, fix)
}

// warn reports something that works but should be changed; doctor still exits 0.
func (d *doctor) warn(what, problem, fix string) {
	d.warned++
	d.problem("!", what, problem, fix)
}

func (d *doctor) problem(mark, what, problem, fix string) {
	d.print(mark + " " + what + ": " + strings.TrimSuffix(problem, ".") + ". Fix: " + fix)
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
	// One line per problem, one failed check in all: the count of checks does not depend on the errors.
	d.failed++
	for _, p := range problems {
		name, _, _ := strings.Cut(p.Error(), ":")
		bad[name] = true
		d.problem("✗", what, p.Error(), "set "+name+" as the README's configuration table describes")
	}
	return bad
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
	problem, fix := healthAddrProblem(ctx, addr, err)
	d.fail(what, problem, fix)
}

// healthAddrProblem explains why the health endpoints cannot listen on addr, and how to fix it.
func healthAddrProblem(ctx context.Context, addr string, err error) (problem, fix string) {
	const setIt = "set QOVERY_BOT_HTTP_ADDR to a free host:port (or off)"
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		problem := addr + " (QOVERY_BOT_HTTP_ADDR) is in use"
		if healthzAnswers(ctx, addr) {
			problem += " by something answering /healthz: a bot already running?"
		}
		return problem, "stop what listens there, or " + setIt
	case errors.Is(err, syscall.EACCES):
		return "not allowed to listen on " + addr + " (QOVERY_BOT_HTTP_ADDR; ports below 1024 need privileges)", setIt
	default:
		return fmt.Sprintf("cannot listen on %s (QOVERY_BOT_HTTP_ADDR): %v", addr, err), setIt
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
