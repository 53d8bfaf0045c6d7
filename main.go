// Command qovery-slack-bot is a Slack app (Socket Mode) that stops Qovery clusters from Slack:
// `/qovery stop <cluster>`, a confirmation click, and the cluster watched to STOPPED in a thread.
//
// Usage:
//
//	qovery-slack-bot             serve Slack with the configuration in the environment
//	qovery-slack-bot console     a local console against a simulated organization (no accounts needed)
//	qovery-slack-bot doctor      check the configuration, tokens, scopes, data directory or database, and health address
//	qovery-slack-bot version     print the version
//	qovery-slack-bot healthcheck GET /healthz of the running bot (the image's HEALTHCHECK)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/bot"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/boltstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/ops/health"
	"github.com/qovery-slack-bot/qovery-slack-bot/ops/metrics"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func main() {
	setMemoryLimit(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "qovery-slack-bot:", err)
		os.Exit(1)
	}
}

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT sets one. Without a
// limit the heap grows to twice its peak before a collection and is returned to the system slowly;
// with it, the bot's memory stays near what it needs (a thousand watches take about 20 MB of heap
// and stacks). It is soft: a bot that needs more gets more, at the cost of more frequent collections.
const defaultMemoryLimit = 48 << 20

// setMemoryLimit applies defaultMemoryLimit unless GOMEMLIMIT is set (the runtime reads that itself).
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
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
	case "doctor":
		return runDoctor(ctx, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "qovery-slack-bot", version())
		return nil
	case "healthcheck":
		return runHealthcheck(ctx, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: qovery-slack-bot [console|doctor|version|healthcheck]\n\n"+
			"Without arguments it serves Slack (see README.md for the environment variables).\n"+
			"`console` runs a local chat against a simulated Qovery organization.\n"+
			"`doctor` checks the configuration, the tokens, the data directory (or the database) and the health address, one line each.\n"+
			"`version` prints the version.\n"+
			"`healthcheck` asks the running bot's /healthz (for Docker's HEALTHCHECK).")
		return nil
	default:
		return fmt.Errorf("unknown command %q; run with `help` for usage", verb)
	}
}

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer, opts ...func(*appOptions)) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	var o appOptions
	for _, opt := range opts {
		opt(&o)
	}
	reopen, stopHangups := hangups(cfg, o)
	defer stopHangups()
	log, audit, closeLogs, err := openLoggers(cfg, stderr, reopen)
	if err != nil {
		return err
	}
	defer closeLogs()
	ln := o.healthListener
	if ln == nil && cfg.HTTPAddr != "" {
		// Listen before anything else, so a taken port fails start-up at once.
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("QOVERY_BOT_HTTP_ADDR: %w", err)
		}
		defer ln.Close()
	}
	a, err := newApp(ctx, cfg, log, audit, opts...)
	if err != nil {
		return err
	}
	return a.run(ctx, log, ln)
}

// app is the wired program.
type app struct {
	bot     *bot.Bot
	handler *commands.Handler
	qovery  *qovery.Client
	watcher *qovery.Watcher
	store   commands.Store
	// fleet are the leases shared with the other replicas on the database; nil with the embedded
	// store, where this process is alone.
	fleet *pgstore.Leases
	// health serves /healthz and /readyz; nil when QOVERY_BOT_HTTP_ADDR is off.
	health *http.Server
	// closeStore releases the data file or the database connections.
	closeStore func() error
	// pruner deletes old finished operations; nil for the console's memory store.
	pruner pruner
}

// appOptions are the knobs tests and the console turn beyond the environment.
type appOptions struct {
	staleGrace  time.Duration
	expirySweep time.Duration
	// workTimeout replaces the bound on one envelope's work (tests make Slack outlive it).
	workTimeout  time.Duration
	pingInterval time.Duration
	// memoryStore keeps operations in memory instead of the data dir (the console).
	memoryStore bool
	// healthListener replaces listening on QOVERY_BOT_HTTP_ADDR (tests use port 0 and ask it).
	healthListener net.Listener
	// wrapTransport and wrapStore let crash tests cut the program off from the world at an exact
	// step, as a killed process would be.
	wrapTransport func(http.RoundTripper) http.RoundTripper
	wrapStore     func(commands.Store) commands.Store
	// pacing replaces channelPacing (the console compresses time); noPacing lifts it (tests, where
	// the fakes answer at once).
	pacing   time.Duration
	noPacing bool
	// qoveryRetry replaces the Qovery client's retry policy (tests shorten its waits).
	qoveryRetry *qovery.RetryPolicy
	// dial replaces the network dialer of every connection the program makes (Slack, Qovery, the
	// database): tests kill a replica by cutting it off the network.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// now replaces the commands' clock (tests freeze it to hold the read cache and throttle).
	now func() time.Time
	// reopenAudit replaces SIGHUP as what reopens the audit file.
	reopenAudit <-chan os.Signal
	// perClusterPolling polls each watched cluster on its own, as the reference clients do; kept
	// only so that benchmarks can compare it with the batched watcher.
	perClusterPolling bool
}

// maxConnsPerHost bounds the connections to Slack and to Qovery; calls beyond it wait for one.
const maxConnsPerHost = 32

// connectionPool is the transport of every call to Slack and to Qovery. Go's default keeps 2 idle
// connections per host: a burst of replies (a thousand stops ending in one poll) would open and
// close a connection for nearly every Slack call. dial, when set, replaces the network dialer.
func connectionPool(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	pool := http.DefaultTransport.(*http.Transport).Clone()
	pool.MaxIdleConns, pool.MaxIdleConnsPerHost, pool.MaxConnsPerHost = 2*maxConnsPerHost, maxConnsPerHost, maxConnsPerHost
	if dial != nil {
		pool.DialContext = dial
	}
	return pool
}

// channelPacing spaces the bot's messages to one channel: Slack's chat.postMessage allows about one
// a second per channel.
const channelPacing = time.Second

// settledRetention is how long finished operations stay in the data file, for the record.
const settledRetention = 30 * 24 * time.Hour

// run serves until ctx is done: the bot, and the health endpoints beside it.
func (a *app) run(ctx context.Context, log zerolog.Logger, ln net.Listener) error {
	defer func() {
		if err := a.closeStore(); err != nil {
			log.Error().Err(err).Msg("close the data file")
		}
	}()
	if a.health != nil {
		go func() {
			if err := a.health.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("health server")
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			_ = a.health.Shutdown(sctx)
		}()
		log.Info().Str("addr", ln.Addr().String()).Msg("health endpoints: /healthz, /readyz, /metrics")
	}
	wctx, stopWatcher := context.WithCancel(ctx)
	defer stopWatcher()
	go func() { _ = a.watcher.Run(wctx) }()
	if a.pruner != nil {
		go pruneSettled(wctx, log, a.pruner, pruneInterval, settledRetention, time.Now)
	}
	if a.fleet != nil {
		defer func() {
			// Whatever is still held once the bot has stopped goes back now, so that the other
			// replicas take it over at once instead of after QOVERY_BOT_LEASE_TIMEOUT.
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := a.fleet.Close(hctx); err != nil {
				log.Warn().Err(err).Msg("hand leases back; they expire instead")
			}
		}()
		go func() { _ = a.fleet.Run(wctx) }()
		// Hear leases handed back before looking for work, so that none falls in between.
		select {
		case <-a.fleet.Listening():
		case <-time.After(5 * time.Second):
			log.Warn().Msg("not listening for leases handed back yet; relying on the periodic look for work")
		case <-ctx.Done():
		}
	}
	return a.bot.Run(ctx)
}

// ready lists the readiness checks: Slack connected, the store readable, the Qovery token accepted.
func (a *app) ready() map[string]health.Check {
	return map[string]health.Check{
		"slack": func(context.Context) error {
			if !a.bot.Connected() {
				return errors.New("not connected to Slack (Socket Mode)")
			}
			return nil
		},
		a.storeCheckName(): func(ctx context.Context) error {
			_, err := a.store.Active(ctx)
			return err
		},
		"qovery": func(context.Context) error {
			if a.qovery.Unauthorized() {
				return errors.New("Qovery answers 401: QOVERY_API_TOKEN is invalid or revoked")
			}
			return nil
		},
	}
}

// storeCheckName names the readiness check of the store: the database when replicas share one.
func (a *app) storeCheckName() string {
	if a.fleet != nil {
		return "database"
	}
	return "store"
}

func newApp(ctx context.Context, cfg config, log, auditLog zerolog.Logger, opts ...func(*appOptions)) (*app, error) {
	var o appOptions
	for _, opt := range opts {
		opt(&o)
	}
	m := metrics.New()
	var transport http.RoundTripper = connectionPool(o.dial)
	if o.wrapTransport != nil {
		transport = o.wrapTransport(transport)
	}
	qopts := []qovery.Option{qovery.WithBaseURL(cfg.QoveryAPIURL), qovery.WithUserAgent("qovery-slack-bot"),
		qovery.WithHTTPClient(&http.Client{Timeout: 30 * time.Second, Transport: m.InstrumentQovery(transport)})}
	if o.qoveryRetry != nil {
		qopts = append(qopts, qovery.WithRetry(*o.qoveryRetry))
	}
	qc, err := qovery.NewClient(cfg.QoveryAPIToken, qopts...)
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
		slack.OptionHTTPClient(&http.Client{Timeout: 30 * time.Second, Transport: m.InstrumentSlack(transport)}),
		// 429s, honouring Retry-After (1 s when absent); after OptionHTTPClient so it wraps it.
		slack.OptionRetryConfig(slack.RetryConfig{MaxRetries: 5, RetryAfterDuration: time.Second}),
	)
	var (
		store     commands.Store
		envelopes bot.EnvelopeLog
		fleet     *pgstore.Leases
		leases    commands.Leases // nil: this process is alone
		pruner    pruner
	)
	closeStore := func() error { return nil }
	switch {
	case o.memoryStore:
		store = commands.NewMemoryStore()
	case cfg.DatabaseURL != "":
		var popts []pgstore.Option
		if o.dial != nil {
			popts = append(popts, pgstore.WithDialFunc(o.dial))
		}
		ps, err := pgstore.Open(ctx, cfg.DatabaseURL, popts...)
		if err != nil {
			return nil, fmt.Errorf("QOVERY_BOT_DATABASE_URL: %w", err)
		}
		replica := replicaID()
		log = log.With().Str("replica", replica).Logger()
		fleet = ps.Leases(replica, cfg.LeaseTimeout)
		m.WatchLeases(fleet.Stats)
		store, envelopes, leases, pruner = ps, ps, fleet, ps
		closeStore = func() error { ps.Close(); return nil }
		log.Info().Int("schema_version", pgstore.SchemaVersion()).Dur("lease_timeout", cfg.LeaseTimeout).Msg("PostgreSQL store: replicas share the work under leases")
	default:
		bs, err := boltstore.Open(filepath.Join(cfg.DataDir, dataFileName))
		if err != nil {
			return nil, fmt.Errorf("QOVERY_BOT_DATA_DIR: %w", err)
		}
		store, envelopes, pruner, closeStore = bs, bs, bs, bs.Close
	}
	if o.wrapStore != nil {
		store = o.wrapStore(store)
	}
	audit := bot.NewAuditor(auditLog.With().Str("org_id", org.ID.String()).Logger(), m)
	var groups commands.Groups
	if len(cfg.Policy.Groups) > 0 {
		groups = bot.NewUserGroups(api, time.Minute)
	}
	pacing := channelPacing
	if o.pacing > 0 {
		pacing = o.pacing
	}
	if o.noPacing {
		pacing = 0
	}
	authFailures := bot.NewAuthFailures()
	// One status request per interval for every watched cluster; fast (2 s) for a minute after a stop
	// is accepted, never faster than 1 s unless the interval itself is shorter.
	watcher := qc.NewWatcher(org.ID, qovery.WatcherConfig{
		Interval:     cfg.PollInterval,
		FastInterval: min(2*time.Second, cfg.PollInterval),
		FastFor:      time.Minute,
		Floor:        min(time.Second, cfg.PollInterval),
		PerCluster:   o.perClusterPolling,
	})
	h, err := commands.NewHandler(qc, bot.NewNotifier(api, log, audit, pacing, authFailures), store, groups, commands.Config{
		OrganizationID:   org.ID,
		OrganizationName: org.Name,
		PollInterval:     cfg.PollInterval,
		WatchTimeout:     cfg.WatchTimeout,
		ConfirmTTL:       cfg.ConfirmTTL,
		StaleGrace:       o.staleGrace,
		Policy:           cfg.Policy,
		Durable:          !o.memoryStore,
		Statuses:         watcher,
		Leases:           leases,
		Now:              o.now,
	})
	if err != nil {
		_ = closeStore()
		return nil, err
	}
	b := bot.New(api, h, audit, log, bot.Config{
		OrganizationID:   org.ID,
		OrganizationName: org.Name,
		ConfirmTTL:       cfg.ConfirmTTL,
		ExpirySweep:      o.expirySweep,
		WorkTimeout:      o.workTimeout,
		AdoptEvery:       cfg.LeaseTimeout / 5,
		Dial:             o.dial,
		PingInterval:     o.pingInterval,
		Envelopes:        envelopes,
		AuthFailures:     authFailures,
		Metrics:          m,
	})
	a := &app{bot: b, handler: h, qovery: qc, watcher: watcher, store: store, fleet: fleet, closeStore: closeStore, pruner: pruner}
	if cfg.HTTPAddr != "" || o.healthListener != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		mux.Handle("/", health.Handler(a.ready(), health.WithFailed(readinessFailed(log))))
		a.health = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	}
	return a, nil
}

// replicaID names this process run in the lease table: the host (the pod's name in Kubernetes) and
// a random suffix, so that a restarted process never mistakes its previous run's leases for its own.
func replicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + "-" + uuid.NewString()[:8]
}

// dataFileName is the embedded store's file inside QOVERY_BOT_DATA_DIR.
const dataFileName = "qovery-bot.db"

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
