package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func validEnv() map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN":  "xapp-1-A1-secretapp",
		"SLACK_BOT_TOKEN":  "xoxb-secretbot",
		"QOVERY_API_TOKEN": "qov_secretqovery",
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(env(validEnv()))
	if err != nil {
		t.Fatalf("loadConfig = %v", err)
	}
	if cfg.SlackAPIURL != "https://slack.com/api/" || cfg.QoveryAPIURL != "https://api.qovery.com" ||
		cfg.PollInterval != 10*time.Second || cfg.WatchTimeout != 4*time.Hour || cfg.ConfirmTTL != 10*time.Minute ||
		cfg.LogFormat != "json" || cfg.LogLevel.String() != "info" || cfg.OrganizationID != uuid.Nil ||
		cfg.DatabaseURL != "" || cfg.LeaseTimeout != 15*time.Second ||
		cfg.Timezone != time.UTC || cfg.ScheduleNotice != 15*time.Minute || cfg.ScheduleGrace != 30*time.Minute {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	e := validEnv()
	e["SLACK_API_URL"] = "http://127.0.0.1:9/api" // no trailing slash: added
	e["QOVERY_ORGANIZATION_ID"] = "3f2a9c1e-0000-4000-8000-000000000001"
	e["QOVERY_BOT_POLL_INTERVAL"] = "250ms"
	e["LOG_LEVEL"] = "DEBUG"
	e["LOG_FORMAT"] = "console"
	e["QOVERY_BOT_DATABASE_URL"] = "postgresql://bot:pw@db.internal:5432/bot?sslmode=require"
	e["QOVERY_BOT_LEASE_TIMEOUT"] = "30s"
	e["QOVERY_BOT_TIMEZONE"] = "Europe/Paris"
	e["QOVERY_BOT_SCHEDULE_NOTICE"] = "0"
	e["QOVERY_BOT_SCHEDULE_GRACE"] = "1h"
	cfg, err := loadConfig(env(e))
	if err != nil {
		t.Fatalf("loadConfig = %v", err)
	}
	if cfg.Timezone.String() != "Europe/Paris" || cfg.ScheduleNotice >= 0 || cfg.ScheduleGrace != time.Hour {
		t.Errorf("schedule settings = %v, %v, %v; want Europe/Paris, no heads-up, 1h", cfg.Timezone, cfg.ScheduleNotice, cfg.ScheduleGrace)
	}
	if cfg.SlackAPIURL != "http://127.0.0.1:9/api/" || cfg.PollInterval != 250*time.Millisecond ||
		cfg.OrganizationID.String() != e["QOVERY_ORGANIZATION_ID"] || cfg.LogLevel.String() != "debug" ||
		cfg.DatabaseURL != e["QOVERY_BOT_DATABASE_URL"] || cfg.LeaseTimeout != 30*time.Second {
		t.Errorf("overrides = %+v", cfg)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"missing app token", "SLACK_APP_TOKEN", "", "SLACK_APP_TOKEN: not set"},
		{"bot token in app slot", "SLACK_APP_TOKEN", "xoxb-secretbot", `SLACK_APP_TOKEN: want a token starting with "xapp-"`},
		{"user token as bot token", "SLACK_BOT_TOKEN", "xoxp-secretuser", `SLACK_BOT_TOKEN: want a token starting with "xoxb-"`},
		{"missing qovery token", "QOVERY_API_TOKEN", "", "QOVERY_API_TOKEN: not set"},
		{"token with a space", "QOVERY_API_TOKEN", "qov_secret other", "QOVERY_API_TOKEN: the token contains white space"},
		{"bad slack url", "SLACK_API_URL", "slack.com/api", "SLACK_API_URL: want an absolute http(s) URL"},
		{"bad qovery url", "QOVERY_API_URL", "ftp://x", "QOVERY_API_URL: want an absolute http(s) URL"},
		{"bad org id", "QOVERY_ORGANIZATION_ID", "acme", `QOVERY_ORGANIZATION_ID: want an organization id (a UUID`},
		{"bad duration", "QOVERY_BOT_POLL_INTERVAL", "10", `QOVERY_BOT_POLL_INTERVAL: want a positive Go duration such as 10s, got "10"`},
		{"negative duration", "QOVERY_BOT_CONFIRM_TTL", "-1m", "QOVERY_BOT_CONFIRM_TTL: want a positive Go duration"},
		{"bad timeout", "QOVERY_BOT_WATCH_TIMEOUT", "forever", "QOVERY_BOT_WATCH_TIMEOUT"},
		{"bad level", "LOG_LEVEL", "loud", "LOG_LEVEL: want one of"},
		{"database URL not postgres", "QOVERY_BOT_DATABASE_URL", "mysql://bot:secret@db/bot", "QOVERY_BOT_DATABASE_URL: want a PostgreSQL URL"},
		{"database URL without host", "QOVERY_BOT_DATABASE_URL", "postgres:///bot?password=secret", "QOVERY_BOT_DATABASE_URL: want a PostgreSQL URL"},
		{"bad lease timeout", "QOVERY_BOT_LEASE_TIMEOUT", "0s", "QOVERY_BOT_LEASE_TIMEOUT: want a positive Go duration such as 15s"},
		{"bad format", "LOG_FORMAT", "xml", "LOG_FORMAT: want json or console"},
		{"bad time zone", "QOVERY_BOT_TIMEZONE", "Paris", `QOVERY_BOT_TIMEZONE: want an IANA time zone such as Europe/Paris`},
		{"local time zone", "QOVERY_BOT_TIMEZONE", "Local", `QOVERY_BOT_TIMEZONE: want an IANA time zone`},
		{"bad notice", "QOVERY_BOT_SCHEDULE_NOTICE", "15", `QOVERY_BOT_SCHEDULE_NOTICE: want a positive Go duration such as 15m0s, or 0 for no heads-up`},
		{"bad grace", "QOVERY_BOT_SCHEDULE_GRACE", "-5m", `QOVERY_BOT_SCHEDULE_GRACE: want a positive Go duration such as 30m0s`},
		{"placeholder app token", "SLACK_APP_TOKEN", "REPLACE_ME_xapp_secret", `SLACK_APP_TOKEN: holds the placeholder "REPLACE_ME"`},
		{"placeholder bot token", "SLACK_BOT_TOKEN", "xoxb-your-token-secret", `SLACK_BOT_TOKEN: holds the placeholder "YOUR-TOKEN"`},
		{"placeholder bot token, ellipsis", "SLACK_BOT_TOKEN", "xoxb-…secret", `SLACK_BOT_TOKEN: holds the placeholder "…"`},
		{"placeholder bot token, dots", "SLACK_BOT_TOKEN", "xoxb-...secret", `SLACK_BOT_TOKEN: holds the placeholder "..."`},
		{"placeholder qovery token", "QOVERY_API_TOKEN", "REPLACE_ME_qovery_token_secret", `QOVERY_API_TOKEN: holds the placeholder "REPLACE_ME"`},
		{"placeholder qovery token, lower case", "QOVERY_API_TOKEN", "changeme-secret", `QOVERY_API_TOKEN: holds the placeholder "CHANGEME"`},
		{"placeholder qovery token, brackets", "QOVERY_API_TOKEN", "<your Qovery secret>", `QOVERY_API_TOKEN: holds the placeholder "<…>"`},
		{"placeholder database password", "QOVERY_BOT_DATABASE_URL", "postgres://bot:REPLACE_ME_secret@db.internal:5432/bot", `QOVERY_BOT_DATABASE_URL: holds the placeholder "REPLACE_ME"`},
		{"placeholder database password, brackets", "QOVERY_BOT_DATABASE_URL", "postgres://bot:<secret>@db.internal:5432/bot", `QOVERY_BOT_DATABASE_URL: holds the placeholder "<…>"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validEnv()
			e[tc.key] = tc.value
			_, err := loadConfig(env(e))
			if err == nil {
				t.Fatalf("loadConfig accepted %s=%q", tc.key, tc.value)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error = %q; want it to contain %q", msg, tc.want)
			}
			if strings.Contains(msg, "secret") {
				t.Errorf("error %q repeats a token", msg)
			}
			if strings.Count(msg, "\n") != 0 {
				t.Errorf("error %q; want one line for one problem", msg)
			}
		})
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := loadConfig(env(map[string]string{}))
	if err == nil {
		t.Fatal("loadConfig accepted an empty environment")
	}
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "QOVERY_API_TOKEN"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}
