package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"golang.org/x/sync/errgroup"

	"github.com/qovery-slack-bot/qovery-slack-bot/bot"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/ops/health"
	"github.com/qovery-slack-bot/qovery-slack-bot/ops/metrics"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// app is the wired program.
type app struct {
	log zerolog.Logger
	// org is the organization the bot acts on, as Qovery names it.
	org     qovery.Organization
	bot     *bot.Bot
	handler *commands.Handler
	qovery  *qovery.Client
	watcher *qovery.Watcher
	storage storage
	// health serves /healthz, /readyz and /metrics; nil when QOVERY_BOT_HTTP_ADDR is off.
	health *http.Server
}

// appOptions are the knobs tests and the console turn beyond the environment.
type appOptions struct {
	staleGrace  time.Duration
	expirySweep time.Duration
	// scheduleTick replaces how often the scheduler looks for what is due (tests shorten it).
	scheduleTick time.Duration
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

// newApp wires the program: the clients of Qovery and Slack, the store, the domain and the Slack
// adapter, and the health endpoints. It checks the Qovery token on the way (the organization).
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
		return nil, explain("cannot build the Qovery client: "+err.Error(), "check QOVERY_API_URL", err)
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

	st, err := openStorage(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	if st.fleet != nil {
		log = log.With().Str("replica", st.replica).Logger()
		m.WatchLeases(st.fleet.Stats)
		log.Info().Int("schema_version", pgstore.SchemaVersion()).Dur("lease_timeout", cfg.LeaseTimeout).Msg("PostgreSQL store: replicas share the work under leases")
	}
	store := st.store
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
		FastInterval: 2 * time.Second,
		FastFor:      time.Minute,
		Floor:        min(time.Second, cfg.PollInterval),
	})
	chat := bot.NewChat(api, log, pacing, cfg.ConfirmTTL, authFailures)
	h, err := commands.NewHandler(qc, chat, audit, store, groups, commands.Config{
		OrganizationID:   org.ID,
		OrganizationName: org.Name,
		PollInterval:     cfg.PollInterval,
		WatchTimeout:     cfg.WatchTimeout,
		ConfirmTTL:       cfg.ConfirmTTL,
		StaleGrace:       o.staleGrace,
		ExpirySweep:      o.expirySweep,
		AdoptEvery:       cfg.LeaseTimeout / 5,
		Policy:           cfg.Policy,
		Durable:          !o.memoryStore,
		Statuses:         watcher,
		Leases:           st.leases(),
		Log:              log,
		Metrics:          m,
		Now:              o.now,
		Zone:             cfg.Timezone,
		ScheduleNotice:   cfg.ScheduleNotice,
		ScheduleGrace:    cfg.ScheduleGrace,
		ScheduleTick:     o.scheduleTick,
	})
	if err != nil {
		_ = st.close()
		return nil, err
	}
	b := bot.New(api, h, chat, audit, log, bot.Config{
		OrganizationID:   org.ID,
		OrganizationName: org.Name,
		WorkTimeout:      o.workTimeout,
		Dial:             o.dial,
		PingInterval:     o.pingInterval,
		Envelopes:        st.envelopes,
		AuthFailures:     authFailures,
		Metrics:          m,
	})
	a := &app{log: log, org: org, bot: b, handler: h, qovery: qc, watcher: watcher, storage: st}
	if cfg.HTTPAddr != "" || o.healthListener != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		mux.Handle("/", health.Handler(a.ready(), health.WithFailed(readinessFailed(log))))
		a.health = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	}
	return a, nil
}

// run serves until ctx is done, then stops in order: the bot and the handler (work in flight
// finishes, leases are handed back), then what served it (the status watcher, the periodic prune,
// the lease renewals, the health endpoints), and the store last. Every goroutine it starts has returned when it returns.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	defer func() {
		if err := a.storage.close(); err != nil {
			a.log.Error().Err(err).Msg("close the store")
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	// The services the bot uses outlive it: they stop once it has.
	services, stopServices := context.WithCancel(context.WithoutCancel(gctx))
	defer stopServices()
	serving := func(err error) error {
		if services.Err() != nil {
			return nil // stopped on purpose
		}
		return err
	}
	g.Go(func() error { return serving(a.watcher.Run(services)) })
	if p := a.storage.pruner; p != nil {
		g.Go(func() error {
			pruneSettled(services, a.log, p, pruneInterval, settledRetention, time.Now)
			return nil
		})
	}
	if a.health != nil {
		g.Go(func() error {
			if err := a.health.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("health endpoints: %w", err)
			}
			return nil
		})
		a.log.Info().Str("addr", ln.Addr().String()).Msg("health endpoints: /healthz, /readyz, /metrics")
	}
	if fleet := a.storage.fleet; fleet != nil {
		g.Go(func() error { return serving(fleet.Run(services)) })
		// Hear leases handed back before looking for work, so that none falls in between.
		select {
		case <-fleet.Listening():
		case <-time.After(5 * time.Second):
			a.log.Warn().Msg("not listening for leases handed back yet; relying on the periodic look for work")
		case <-gctx.Done():
		}
	}
	g.Go(func() error {
		defer stopServices()
		// The Slack adapter and the handler's own work (watches, expiry, adoption) stop together.
		work, wctx := errgroup.WithContext(gctx)
		work.Go(func() error { return a.bot.Run(wctx) })
		work.Go(func() error { return a.handler.Run(wctx) })
		err := work.Wait()
		a.shutdown(ctx)
		return err
	})
	return g.Wait()
}

// busy reports whether the program is at work: a command or click being handled, or an operation
// being watched. The console waits for it before it exits.
func (a *app) busy() bool { return a.bot.Busy() || a.handler.Busy() }

// shutdown stops what the bot leaves behind, once it has stopped: the leases still held go back to
// the other replicas at once (instead of after QOVERY_BOT_LEASE_TIMEOUT), and the health endpoints
// close.
func (a *app) shutdown(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if fleet := a.storage.fleet; fleet != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := fleet.Close(ctx); err != nil {
			a.log.Warn().Err(err).Msg("hand leases back; they expire instead")
		}
		cancel()
	}
	if a.health != nil {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		_ = a.health.Shutdown(ctx)
		cancel()
	}
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
			_, err := a.storage.store.Active(ctx)
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
	if a.storage.fleet != nil {
		return "database"
	}
	return "store"
}
