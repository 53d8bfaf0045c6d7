package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/console"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// Console timings are compressed so that a whole stop plays out in seconds.
const (
	consolePollInterval = time.Second
	consoleStaleGrace   = 10 * time.Second
	consolePacing       = 200 * time.Millisecond
)

// runConsole runs the real bot against an in-process fake Slack and, unless QOVERY_API_TOKEN is set,
// a simulated Qovery organization, with the terminal as the Slack user's chat window.
func runConsole(ctx context.Context, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	slackFake := slacksim.NewServer()
	defer slackFake.Close()
	const userID, userName, channelID, channelName = "U0ALICE", "alice", "C0OPS", "ops"

	env := map[string]string{
		"SLACK_APP_TOKEN":          slackFake.AppToken(),
		"SLACK_BOT_TOKEN":          slackFake.BotToken(),
		"SLACK_API_URL":            slackFake.APIURL(),
		"QOVERY_BOT_POLL_INTERVAL": consolePollInterval.String(),
		"LOG_LEVEL":                "warn",
		"LOG_FORMAT":               "console",
	}
	for _, name := range []string{"QOVERY_API_TOKEN", "QOVERY_API_URL", "QOVERY_ORGANIZATION_ID",
		"QOVERY_BOT_POLL_INTERVAL", "QOVERY_BOT_WATCH_TIMEOUT", "QOVERY_BOT_CONFIRM_TTL", "LOG_LEVEL", "LOG_FORMAT",
		"QOVERY_BOT_ALLOWED_USERS", "QOVERY_BOT_ALLOWED_CHANNELS", "QOVERY_BOT_ALLOWED_USERGROUPS",
		"QOVERY_BOT_PROTECTED_CLUSTERS", "QOVERY_BOT_FOUR_EYES", "QOVERY_BOT_AUDIT_LOG"} {
		if v := getenv(name); v != "" {
			env[name] = v
		}
	}
	where := "the real Qovery API"
	if env["QOVERY_API_TOKEN"] == "" {
		q := qoverysim.Start()
		defer q.Close()
		demo := q.SeedDemo()
		env["QOVERY_API_TOKEN"], env["QOVERY_API_URL"] = q.Token(), q.URL()
		env["QOVERY_ORGANIZATION_ID"] = demo.OrganizationID.String()
		where = "a simulated Qovery organization (set QOVERY_API_TOKEN to use the real API)"
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	// The console's user is the one person in its workspace allowed to stop clusters, unless the
	// environment says otherwise.
	if getenv("QOVERY_BOT_ALLOWED_USERS") == "" && getenv("QOVERY_BOT_ALLOWED_USERGROUPS") == "" {
		cfg.Policy.Users = []string{userID}
	}
	log, audit, closeLogs, err := newLoggers(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeLogs()
	cfg.HTTPAddr = "" // the console serves no health endpoints
	a, err := newApp(ctx, cfg, log, audit, func(o *appOptions) {
		o.staleGrace = consoleStaleGrace
		o.expirySweep = time.Second
		o.memoryStore = true // the console's simulated world ends with it
		o.pacing = consolePacing
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Qovery Slack bot, local console: a simulated Slack workspace and %s.\n", where)

	botErr := make(chan error, 1)
	go func() { botErr <- a.run(ctx, nil) }()
	// Ready when the fake Slack has a socket that got its hello, which is after slack-go reports
	// the connection on its side.
	connected := make(chan error, 1)
	go func() { connected <- slackFake.WaitConnected(ctx) }()
	select {
	case err := <-connected:
		if err != nil {
			return nil // ctx done
		}
	case err := <-botErr:
		return err
	}

	err = console.Run(ctx, slackFake, stdin, stdout, console.Options{
		UserID: userID, UserName: userName, ChannelID: channelID, ChannelName: channelName,
		Users:    map[string]string{userID: userName, "U0BOB": "bob"},
		Handling: a.bot.Handling,
		Busy:     a.busy,
	})
	cancel()
	if berr := <-botErr; berr != nil && !errors.Is(berr, context.Canceled) {
		return errors.Join(err, berr)
	}
	return err
}
