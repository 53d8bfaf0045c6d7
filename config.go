package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// config is everything the environment configures. Only main reads the environment.
type config struct {
	SlackAppToken  string
	SlackBotToken  string
	SlackAPIURL    string
	QoveryAPIToken string
	QoveryAPIURL   string
	// OrganizationID is uuid.Nil when QOVERY_ORGANIZATION_ID is unset: the token's only
	// organization is used then.
	OrganizationID uuid.UUID
	PollInterval   time.Duration
	WatchTimeout   time.Duration
	ConfirmTTL     time.Duration
	LogLevel       zerolog.Level
	LogFormat      string
	// Policy holds QOVERY_BOT_ALLOWED_USERS, _ALLOWED_CHANNELS, _ALLOWED_USERGROUPS,
	// _PROTECTED_CLUSTERS and _FOUR_EYES.
	Policy commands.Policy
	// AuditLog is a file that also receives every audit event, as JSON lines ("" for none).
	AuditLog string
	// DataDir holds the embedded store.
	DataDir string
	// DatabaseURL, when set, selects the PostgreSQL store, which several replicas can share.
	DatabaseURL string
	// LeaseTimeout bounds how long a dead replica's work waits before another takes it over.
	LeaseTimeout time.Duration
	// HTTPAddr is where /healthz and /readyz listen; "" when QOVERY_BOT_HTTP_ADDR is off.
	HTTPAddr string
	// Timezone is the zone of schedules made without tz (QOVERY_BOT_TIMEZONE, default UTC).
	Timezone *time.Location
	// ScheduleNotice is how long before a scheduled run its heads-up is posted; negative when
	// QOVERY_BOT_SCHEDULE_NOTICE is 0 (no heads-up).
	ScheduleNotice time.Duration
	// ScheduleGrace is how late a run missed while the bot was down may still be made.
	ScheduleGrace time.Duration
}

const (
	defaultSlackAPIURL  = "https://slack.com/api/"
	defaultQoveryAPIURL = "https://api.qovery.com"
	defaultDataDir      = "./data"
	defaultHTTPAddr     = ":8080"
	defaultLeaseTimeout = 15 * time.Second
)

// requiredVariables are the variables serving needs that have no default: the three tokens.
func requiredVariables() []string {
	return []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "QOVERY_API_TOKEN"}
}

// loadConfig reads and checks the environment. Each problem is one line naming the variable and what
// is expected; token values are never repeated back.
func loadConfig(getenv func(string) string) (config, error) {
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	cfg := config{
		SlackAppToken:  strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		SlackBotToken:  strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		QoveryAPIToken: strings.TrimSpace(getenv("QOVERY_API_TOKEN")),
	}
	checkToken(bad, "SLACK_APP_TOKEN", cfg.SlackAppToken, "xapp-", "the app-level token from your Slack app's Basic Information page, with the connections:write scope")
	checkToken(bad, "SLACK_BOT_TOKEN", cfg.SlackBotToken, "xoxb-", "the Bot User OAuth Token from your Slack app's OAuth & Permissions page")
	checkToken(bad, "QOVERY_API_TOKEN", cfg.QoveryAPIToken, "", "a Qovery organization API token (Organization settings > API tokens)")

	var err error
	if cfg.SlackAPIURL, err = baseURL(getenv("SLACK_API_URL"), defaultSlackAPIURL); err != nil {
		bad("SLACK_API_URL", "%v", err)
	} else if !strings.HasSuffix(cfg.SlackAPIURL, "/") {
		cfg.SlackAPIURL += "/" // slack-go appends method names to it
	}
	if cfg.QoveryAPIURL, err = baseURL(getenv("QOVERY_API_URL"), defaultQoveryAPIURL); err != nil {
		bad("QOVERY_API_URL", "%v", err)
	}
	if v := strings.TrimSpace(getenv("QOVERY_ORGANIZATION_ID")); v != "" {
		if cfg.OrganizationID, err = uuid.Parse(v); err != nil {
			bad("QOVERY_ORGANIZATION_ID", "want an organization id (a UUID such as 3f2a9c1e-…), got %q", v)
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
		def  time.Duration
	}{
		{"QOVERY_BOT_POLL_INTERVAL", &cfg.PollInterval, commands.DefaultPollInterval},
		{"QOVERY_BOT_WATCH_TIMEOUT", &cfg.WatchTimeout, commands.DefaultWatchTimeout},
		{"QOVERY_BOT_CONFIRM_TTL", &cfg.ConfirmTTL, commands.DefaultConfirmTTL},
		{"QOVERY_BOT_LEASE_TIMEOUT", &cfg.LeaseTimeout, defaultLeaseTimeout},
		{"QOVERY_BOT_SCHEDULE_GRACE", &cfg.ScheduleGrace, commands.DefaultScheduleGrace},
	}
	for _, d := range durations {
		*d.dst = d.def
		v := strings.TrimSpace(getenv(d.name))
		if v == "" {
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed <= 0 {
			bad(d.name, "want a positive Go duration such as %s, got %q", d.def, v)
			continue
		}
		*d.dst = parsed
	}

	cfg.ScheduleNotice = commands.DefaultScheduleNotice
	if v := strings.TrimSpace(getenv("QOVERY_BOT_SCHEDULE_NOTICE")); v != "" {
		parsed, err := time.ParseDuration(v)
		switch {
		case v == "0":
			cfg.ScheduleNotice = -1 // no heads-up
		case err != nil || parsed <= 0:
			bad("QOVERY_BOT_SCHEDULE_NOTICE", "want a positive Go duration such as %s, or 0 for no heads-up, got %q", commands.DefaultScheduleNotice, v)
		default:
			cfg.ScheduleNotice = parsed
		}
	}
	cfg.Timezone = time.UTC
	if v := strings.TrimSpace(getenv("QOVERY_BOT_TIMEZONE")); v != "" {
		loc, err := time.LoadLocation(v)
		if err != nil || strings.EqualFold(v, "local") {
			bad("QOVERY_BOT_TIMEZONE", "want an IANA time zone such as Europe/Paris or America/New_York, got %q", v)
		} else {
			cfg.Timezone = loc
		}
	}

	cfg.Policy = loadPolicy(getenv, bad)
	cfg.AuditLog = strings.TrimSpace(getenv("QOVERY_BOT_AUDIT_LOG"))
	cfg.DataDir = strings.TrimSpace(getenv("QOVERY_BOT_DATA_DIR"))
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir
	}
	if v := strings.TrimSpace(getenv("QOVERY_BOT_DATABASE_URL")); v != "" {
		// The value holds a password: never repeat it back.
		if p := placeholder(v); p != "" {
			bad("QOVERY_BOT_DATABASE_URL", "holds the placeholder %q of an example; set the URL of your database, with its real password", p)
		} else if u, err := url.Parse(v); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			bad("QOVERY_BOT_DATABASE_URL", "want a PostgreSQL URL such as postgres://user:password@host:5432/dbname?sslmode=require; the value set is not one")
		}
		cfg.DatabaseURL = v
	}
	switch v := strings.TrimSpace(getenv("QOVERY_BOT_HTTP_ADDR")); v {
	case "":
		cfg.HTTPAddr = defaultHTTPAddr
	case "off":
	default:
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			bad("QOVERY_BOT_HTTP_ADDR", "want host:port such as :8080, or off, got %q", v)
		}
		cfg.HTTPAddr = v
	}

	cfg.LogLevel = zerolog.InfoLevel
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		lvl, err := zerolog.ParseLevel(strings.ToLower(v))
		if err != nil || lvl == zerolog.NoLevel {
			bad("LOG_LEVEL", "want one of trace, debug, info, warn, error, fatal, panic, disabled; got %q", v)
		} else {
			cfg.LogLevel = lvl
		}
	}
	cfg.LogFormat = strings.ToLower(strings.TrimSpace(getenv("LOG_FORMAT")))
	switch cfg.LogFormat {
	case "":
		cfg.LogFormat = "json"
	case "json", "console":
	default:
		bad("LOG_FORMAT", "want json or console, got %q", cfg.LogFormat)
	}
	return cfg, errors.Join(problems...)
}

// loadPolicy reads who may stop what. Ids are checked by their Slack prefix, so that a display name
// put where an id belongs is caught at start-up rather than silently matching nobody.
func loadPolicy(getenv func(string) string, bad func(string, string, ...any)) commands.Policy {
	var p commands.Policy
	for _, u := range splitList(getenv("QOVERY_BOT_ALLOWED_USERS")) {
		switch {
		case u == "*":
			p.AllowEveryone = true
		case slackID(u, "U", "W"):
			p.Users = append(p.Users, u)
		default:
			bad("QOVERY_BOT_ALLOWED_USERS", "want Slack user ids such as U012AB3CD (profile > ⋮ > Copy member ID) or *, got %q", u)
		}
	}
	for _, c := range splitList(getenv("QOVERY_BOT_ALLOWED_CHANNELS")) {
		if !slackID(c, "C", "G") {
			bad("QOVERY_BOT_ALLOWED_CHANNELS", "want channel ids such as C012AB3CD (channel details > About), got %q", c)
			continue
		}
		p.Channels = append(p.Channels, c)
	}
	for _, g := range splitList(getenv("QOVERY_BOT_ALLOWED_USERGROUPS")) {
		if !slackID(g, "S") {
			bad("QOVERY_BOT_ALLOWED_USERGROUPS", "want user-group ids such as S012AB3CD, got %q", g)
			continue
		}
		p.Groups = append(p.Groups, g)
	}
	for _, glob := range splitList(getenv("QOVERY_BOT_PROTECTED_CLUSTERS")) {
		if _, err := path.Match(glob, ""); err != nil {
			bad("QOVERY_BOT_PROTECTED_CLUSTERS", "bad glob %q: %v", glob, err)
			continue
		}
		p.Protected = append(p.Protected, glob)
	}
	if v := strings.TrimSpace(getenv("QOVERY_BOT_FOUR_EYES")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("QOVERY_BOT_FOUR_EYES", "want true or false, got %q", v)
		}
		p.FourEyes = b
	}
	return p
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// slackID reports whether s looks like a Slack id with one of the prefixes: upper-case letters and
// digits, 9 to 12 characters in practice (we accept 3 to 24 to stay future-proof).
func slackID(s string, prefixes ...string) bool {
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func checkToken(bad func(string, string, ...any), name, value, prefix, what string) {
	switch {
	case value == "":
		bad(name, "not set; want %s", what)
	case placeholder(value) != "":
		bad(name, "holds the placeholder %q of an example; set the real token: %s", placeholder(value), what)
	case prefix != "" && !strings.HasPrefix(value, prefix):
		bad(name, "want a token starting with %q (%s); the value set does not", prefix, what)
	case strings.ContainsAny(value, " \t\r\n"):
		bad(name, "the token contains white space; copy it again without spaces or line breaks")
	}
}

func baseURL(v, def string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("want an absolute http(s) URL such as %s, got %q", def, v)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return "", fmt.Errorf("want https: the tokens would cross the network in clear; http is only for this machine (localhost, 127.0.0.1, ::1), got %q", v)
	}
	return v, nil
}

// loopback reports whether host names this machine: localhost, 127.0.0.0/8 or ::1.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
