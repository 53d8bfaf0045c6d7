// Package bot connects the bot to Slack: it receives slash commands and button clicks over Socket
// Mode, acks each envelope before doing any work, hands the work to [commands], and renders replies
// and operation updates as Block Kit messages.
package bot

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/ops/metrics"
)

// Handler is what the bot hands Slack's envelopes to: *commands.Handler. Each method answers the
// person through the [Chat] itself; what it returns is for the log.
type Handler interface {
	Handle(ctx context.Context, req commands.Request) error
	Click(ctx context.Context, c commands.Click) error
	CheckTypedName(ctx context.Context, s commands.Submission) (problem string)
	SubmitTypedName(ctx context.Context, s commands.Submission) error
}

// EnvelopeLog remembers envelope ids, so that an envelope Slack delivers twice (even to a restarted
// bot) is acted on once.
type EnvelopeLog interface {
	// SeeEnvelope records id and reports whether it was new.
	SeeEnvelope(ctx context.Context, id string) (bool, error)
}

// Config tunes a [Bot].
type Config struct {
	// OrganizationID and OrganizationName are only reported in the start-up log.
	OrganizationID   uuid.UUID
	OrganizationName string
	// WorkTimeout bounds the work behind one envelope (status reads, the stop call, replies).
	// Default 1m.
	WorkTimeout time.Duration
	// ShutdownGrace is how long Run waits for work in flight after its context is cancelled.
	// Default 8s, inside the 10 s a container gets between SIGTERM and SIGKILL.
	ShutdownGrace time.Duration
	// PingInterval is slack-go's dead-man interval for Slack's pings; zero keeps slack-go's 30s.
	PingInterval time.Duration
	// Dial, when set, makes the Socket Mode connections (tests cut a replica off the network).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Envelopes remembers envelope ids; nil keeps the last 4096 in memory.
	Envelopes EnvelopeLog
	// AuthFailures, shared with the Chat, stops Run when Slack rejects the bot token.
	AuthFailures *AuthFailures
	// Metrics records ack latency; nil records nothing.
	Metrics *metrics.Metrics
	// MaxHandlers bounds the commands and clicks handled at once. Default 16.
	MaxHandlers int
	// BurstQuiet holds the work behind envelopes (the envelope log included) until no envelope
	// has arrived for this long, at most BurstHold after each one's arrival, so that a burst of
	// envelopes is acked before its work competes for the CPU with slack-go's decoding. Default
	// 20ms; negative turns the hold off.
	BurstQuiet time.Duration
	// BurstHold bounds the hold of BurstQuiet. Default 500ms.
	BurstHold time.Duration
}

// Bot is a Slack Socket Mode app around a [Handler].
type Bot struct {
	api   *slack.Client
	sm    *socketmode.Client
	h     Handler
	chat  *Chat
	audit *Auditor
	log   zerolog.Logger
	cfg   Config
	seen  EnvelopeLog

	wg sync.WaitGroup
	// inflight counts envelope work, for Busy; handling counts envelopes from before their ack
	// until their work is done, for Handling.
	inflight atomic.Int64
	handling atomic.Int64
	// connected is whether a Socket Mode connection is up, for readiness.
	connected atomic.Bool
	// received is when the event loop got the envelope it is dispatching; only the event loop
	// goroutine touches it.
	received time.Time
	// slots bounds the envelope handlers running at once (see goHandle).
	slots chan struct{}
	// burst holds envelope work back while envelopes are arriving (see goHandle).
	burst   *burstGate
	mu      sync.Mutex
	team    string
	teamID  string
	botUser string
	// install is where the app is installed: commands and clicks from elsewhere are refused.
	install installation
}

// New returns a Bot that talks to Slack through api, which must carry the bot token and the
// app-level token (slack.OptionAppLevelToken); chat answers what the bot cannot hand to h (a
// command of another app), and audit learns the workspace's team.
func New(api *slack.Client, h Handler, chat *Chat, audit *Auditor, log zerolog.Logger, cfg Config) *Bot {
	if cfg.WorkTimeout <= 0 {
		cfg.WorkTimeout = time.Minute
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 8 * time.Second
	}
	if cfg.Envelopes == nil {
		cfg.Envelopes = newEnvelopeSet(4096)
	}
	if cfg.MaxHandlers <= 0 {
		cfg.MaxHandlers = 16
	}
	if cfg.BurstQuiet == 0 {
		cfg.BurstQuiet = 20 * time.Millisecond
	}
	if cfg.BurstHold <= 0 {
		cfg.BurstHold = 500 * time.Millisecond
	}
	var opts []socketmode.Option
	if cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(cfg.PingInterval))
	}
	if cfg.Dial != nil {
		opts = append(opts, socketmode.OptionDialer(&websocket.Dialer{NetDialContext: cfg.Dial, HandshakeTimeout: 45 * time.Second}))
	}
	return &Bot{
		api:   api,
		sm:    socketmode.New(api, opts...),
		h:     h,
		chat:  chat,
		audit: audit,
		log:   log,
		cfg:   cfg,
		seen:  cfg.Envelopes,
		slots: make(chan struct{}, cfg.MaxHandlers),
		burst: newBurstGate(cfg.BurstQuiet, cfg.BurstHold),
	}
}

// SocketModeError is how [Bot.Run] fails when Slack's Socket Mode ends the connection for good:
// apps.connections.open refuses the app-level token, for one.
type SocketModeError struct{ Err error }

func (e *SocketModeError) Error() string { return "socket mode: " + e.Err.Error() }

func (e *SocketModeError) Unwrap() error { return e.Err }

// AuthTestError is how [Bot.Run] fails when auth.test, its first call to Slack, fails: the bot token
// is refused, or Slack does not answer. Err is what slack-go returned.
type AuthTestError struct{ Err error }

func (e *AuthTestError) Error() string {
	return "check SLACK_BOT_TOKEN with auth.test: " + e.Err.Error()
}

func (e *AuthTestError) Unwrap() error { return e.Err }

// Run checks the bot token, connects Socket Mode and serves until ctx is cancelled, then waits up to
// ShutdownGrace for work in flight and returns nil. It returns an error when Slack rejects a token.
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return &AuthTestError{Err: err}
	}
	b.mu.Lock()
	b.team, b.teamID, b.botUser = auth.Team, auth.TeamID, auth.UserID
	b.install = installation{teamID: auth.TeamID, enterpriseID: auth.EnterpriseID}
	b.mu.Unlock()
	b.audit.setTeam(auth.TeamID)

	outer := ctx
	ctx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	smCtx, cancelSM := context.WithCancel(ctx)
	defer cancelSM()
	smErr := make(chan error, 1)
	go func() { smErr <- b.sm.RunContext(smCtx) }()

	// Envelope work (status reads, the stop call, replies) outlives ctx by up to ShutdownGrace, so
	// that a stop call in flight at SIGTERM completes and is reported.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-smErr:
			if outer.Err() != nil {
				break loop
			}
			runErr = &SocketModeError{Err: err}
			cancelSM()
			break loop
		case err := <-b.cfg.AuthFailures.failures():
			runErr = err
			b.log.Error().Err(err).Msg("the bot token no longer works; stopping")
			break loop
		case evt := <-b.sm.Events:
			b.dispatch(workCtx, evt)
		}
	}
	// Whatever ended the loop, no new work starts; envelope work gets the grace period.
	cancelRun()
	b.log.Info().Msg("shutting down: no new work; waiting for work in flight")
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	// The last second of the grace is for work to notice the cancellation and return.
	lastSecond := min(time.Second, b.cfg.ShutdownGrace/2)
	select {
	case <-done:
		return runErr
	case <-time.After(b.cfg.ShutdownGrace - lastSecond):
	}
	b.log.Warn().Dur("grace", b.cfg.ShutdownGrace).Msg("cancelling work still in flight at the end of the shutdown grace")
	cancelWork()
	select {
	case <-done:
	case <-time.After(lastSecond):
	}
	return runErr
}

// goWork runs f in a goroutine that Run waits for.
func (b *Bot) goWork(f func()) {
	b.wg.Add(1)
	b.inflight.Add(1)
	go func() {
		defer b.wg.Done()
		defer b.inflight.Add(-1)
		f()
	}()
}

// Busy reports whether a command or click is being handled.
func (b *Bot) Busy() bool { return b.inflight.Load() > 0 }

// Handling reports whether a command or click is being handled. It turns true before the envelope
// is acked, so a sender that saw the ack and then sees Handling false has seen the whole answer.
func (b *Bot) Handling() bool { return b.handling.Load() > 0 }

// goHandle acks an envelope and handles it in a goroutine that Run waits for.
// The event loop only acks and hands over: anything slower there (a disk write, a lock) delays the
// ack of every envelope behind it. The dedupe check, which writes the envelope log, runs in the work
// goroutine, after the burst the envelope came in (if any) has been acked: until then, the work
// would take the CPU that the rest of the burst's acks wait for (see [burstGate]). A duplicate
// delivered in the meantime is held too, and the envelope log still lets one of the two through.
func (b *Bot) goHandle(workCtx context.Context, evt socketmode.Event, handle func()) {
	b.handling.Add(1)
	if !b.ack(evt) {
		b.handling.Add(-1)
		return
	}
	received := b.received
	b.burst.arrived(received)
	b.goWork(func() {
		defer b.handling.Add(-1)
		if b.burst.wait(workCtx, received) != nil {
			return
		}
		if !b.firstSight(evt.Request.EnvelopeID) {
			b.log.Info().Str("envelope_id", evt.Request.EnvelopeID).Int("retry_attempt", evt.Request.RetryAttempt).Msg("duplicate envelope ignored")
			return
		}
		// A bounded number of handlers run at once, so that a burst of hundreds of commands
		// leaves the event loop (and its acks) enough CPU; the others wait their turn, idle.
		select {
		case b.slots <- struct{}{}:
			defer func() { <-b.slots }()
		case <-time.After(b.cfg.WorkTimeout):
			b.log.Error().Str("envelope_id", evt.Request.EnvelopeID).Msg("no handler free for the whole work timeout; envelope dropped")
			return
		}
		handle()
	})
}

// workContext bounds the work behind one envelope.
func (b *Bot) workContext(workCtx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(workCtx, b.cfg.WorkTimeout)
}

// dispatch handles one Socket Mode event. Envelope work runs under workCtx.
func (b *Bot) dispatch(workCtx context.Context, evt socketmode.Event) {
	b.received = time.Now()
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.connected.Store(false)
		b.log.Debug().Msg("connecting to Slack")
	case socketmode.EventTypeConnected:
		b.onConnected(evt)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		b.connected.Store(false)
		b.log.Warn().Interface("error", evt.Data).Msg("Slack connection error; slack-go reconnects")
	case socketmode.EventTypeHello, socketmode.EventTypeDisconnect:
		b.log.Debug().Str("type", string(evt.Type)).Msg("socket mode control frame")
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			b.ack(evt)
			b.log.Warn().Msg("slash command envelope without a slash command")
			return
		}
		b.goHandle(workCtx, evt, func() { b.handleSlash(workCtx, evt.Request.EnvelopeID, cmd) })
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			b.ack(evt)
			b.log.Warn().Msg("interactive envelope without an interaction")
			return
		}
		if cb.Type == slack.InteractionTypeViewSubmission && cb.View.CallbackID == typedConfirmationCallback {
			b.handleViewSubmission(workCtx, evt, cb)
			return
		}
		b.goHandle(workCtx, evt, func() { b.handleInteraction(workCtx, evt.Request.EnvelopeID, cb) })
	default:
		// Events API envelopes and anything new: ack so Slack does not retry, and ignore.
		if evt.Request != nil && evt.Request.EnvelopeID != "" {
			b.ack(evt)
		} else if evt.Type == socketmode.EventTypeErrorBadMessage || evt.Type == socketmode.EventTypeIncomingError {
			b.log.Debug().Str("type", string(evt.Type)).Msg("socket mode read error")
		}
	}
}

// Connected reports whether the bot has a Socket Mode connection to Slack now.
func (b *Bot) Connected() bool { return b.connected.Load() }

func (b *Bot) onConnected(evt socketmode.Event) {
	b.connected.Store(true)
	b.mu.Lock()
	team, teamID, botUser := b.team, b.teamID, b.botUser
	b.mu.Unlock()
	count := 0
	if c, ok := evt.Data.(*slack.ConnectedEvent); ok {
		count = c.ConnectionCount
	}
	msg := "connected to Slack"
	if count > 0 {
		msg = "reconnected to Slack"
	}
	b.log.Info().Str("team", team).Str("team_id", teamID).Str("bot_user", botUser).
		Str("org", b.cfg.OrganizationName).
		Int("connection_count", count).Msg(msg)
}

// ack acknowledges an envelope at once, before any other call, and reports whether there was one to
// acknowledge (a Socket Mode event without a request has none). Whether the envelope is new is
// firstSight's question, asked after the ack.
func (b *Bot) ack(evt socketmode.Event) bool {
	if evt.Request == nil {
		return false
	}
	b.sendAck(evt)
	return true
}

// sendAck acks an envelope, with an optional payload, and records how long the ack took.
func (b *Bot) sendAck(evt socketmode.Event, payload ...any) {
	if err := b.sm.Ack(*evt.Request, payload...); err != nil {
		b.log.Error().Err(err).Str("envelope_id", evt.Request.EnvelopeID).Msg("ack failed")
	}
	b.cfg.Metrics.Acked(time.Since(b.received))
}

// firstSight reports whether an envelope id is new. When the log cannot tell, it is taken as new:
// acting twice is caught by the operations' own state machine, ignoring a real click is not.
func (b *Bot) firstSight(id string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	isNew, err := b.seen.SeeEnvelope(ctx, id)
	if err != nil {
		b.log.Error().Err(err).Str("envelope_id", id).Msg("envelope log")
		return true
	}
	return isNew
}
