// Command qovery-slack-bot is a Slack app (Socket Mode) that stops Qovery clusters from Slack:
// `/qovery stop <cluster>`, a confirmation click, and the cluster watched to STOPPED in a thread.
//
// Usage:
//
//	qovery-slack-bot           serve Slack with the configuration in the environment
//	qovery-slack-bot console   a local console against a simulated organization (no accounts needed)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/bot"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "qovery-slack-bot:", err)
		os.Exit(1)
	}
}

// run is the whole program; main only adds the process around it, so that tests run it in process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "":
		return serve(ctx, getenv, stderr)
	case "console":
		return runConsole(ctx, getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: qovery-slack-bot [console]\n\nWithout arguments it serves Slack (see README.md for the environment variables).\n`console` runs a local chat against a simulated Qovery organization.")
		return nil
	default:
		return fmt.Errorf("unknown command %q; run with `help` for usage", verb)
	}
}

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	a, err := newApp(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	return a.bot.Run(ctx)
}

func newLogger(cfg config, w io.Writer) zerolog.Logger {
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Str("service", "qovery-slack-bot").Logger()
}

// app is the wired program.
type app struct {
	bot     *bot.Bot
	handler *commands.Handler
	store   *commands.MemoryStore
}

// appOptions are the knobs tests and the console turn beyond the environment.
type appOptions struct {
	staleGrace   time.Duration
	expirySweep  time.Duration
	pingInterval time.Duration
}

func newApp(ctx context.Context, cfg config, log zerolog.Logger, opts ...func(*appOptions)) (*app, error) {
	var o appOptions
	for _, opt := range opts {
		opt(&o)
	}
	qc, err := qovery.NewClient(cfg.QoveryAPIToken, qovery.WithBaseURL(cfg.QoveryAPIURL), qovery.WithUserAgent("qovery-slack-bot"))
	if err != nil {
		return nil, fmt.Errorf("qovery client: %w", err)
	}
	org, err := resolveOrganization(ctx, qc, cfg.OrganizationID)
	if err != nil {
		return nil, err
	}
	log = log.With().Str("org_id", org.ID.String()).Logger()

	api := slack.New(cfg.SlackBotToken,
		slack.OptionAPIURL(cfg.SlackAPIURL),
		slack.OptionAppLevelToken(cfg.SlackAppToken),
		slack.OptionHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		slack.OptionRetry(3), // 429s, honouring Retry-After; after OptionHTTPClient so it wraps it
	)
	store := commands.NewMemoryStore()
	h, err := commands.NewHandler(qc, bot.NewNotifier(api, log), store, commands.Config{
		OrganizationID:   org.ID,
		OrganizationName: org.Name,
		PollInterval:     cfg.PollInterval,
		WatchTimeout:     cfg.WatchTimeout,
		ConfirmTTL:       cfg.ConfirmTTL,
		StaleGrace:       o.staleGrace,
	})
	if err != nil {
		return nil, err
	}
	b := bot.New(api, h, log, bot.Config{
		OrganizationID:   org.ID,
		OrganizationName: org.Name,
		ConfirmTTL:       cfg.ConfirmTTL,
		ExpirySweep:      o.expirySweep,
		PingInterval:     o.pingInterval,
	})
	return &app{bot: b, handler: h, store: store}, nil
}

// resolveOrganization returns the configured organization, or the token's only one.
func resolveOrganization(ctx context.Context, qc *qovery.Client, want uuid.UUID) (qovery.Organization, error) {
	orgs, err := qc.Organizations(ctx)
	if err != nil {
		var qe *qovery.Error
		if errors.As(err, &qe) && qe.StatusCode == http.StatusUnauthorized {
			return qovery.Organization{}, errors.New("QOVERY_API_TOKEN: Qovery rejected the token (401); create a new organization API token")
		}
		return qovery.Organization{}, fmt.Errorf("list Qovery organizations: %w", err)
	}
	if want != uuid.Nil {
		for _, o := range orgs {
			if o.ID == want {
				return o, nil
			}
		}
		return qovery.Organization{}, fmt.Errorf("QOVERY_ORGANIZATION_ID: the token cannot see organization %s; it sees %s", want, orgList(orgs))
	}
	switch len(orgs) {
	case 0:
		return qovery.Organization{}, errors.New("QOVERY_API_TOKEN: the token sees no organization; create the token inside the organization to act on")
	case 1:
		return orgs[0], nil
	}
	return qovery.Organization{}, fmt.Errorf("QOVERY_ORGANIZATION_ID: not set and the token sees %d organizations; set it to one of: %s", len(orgs), orgList(orgs))
}

func orgList(orgs []qovery.Organization) string {
	if len(orgs) == 0 {
		return "none"
	}
	parts := make([]string, len(orgs))
	for i, o := range orgs {
		parts[i] = fmt.Sprintf("%s (%s)", o.Name, o.ID)
	}
	return strings.Join(parts, ", ")
}
