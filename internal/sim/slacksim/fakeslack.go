// Package slacksim is an in-process fake of the Slack platform for a Socket
// Mode app. It speaks the real Socket Mode protocol over a WebSocket (hello,
// PING frames, envelopes, acks, disconnects) to slack-go's socketmode client,
// serves the Web API methods the bot calls (with the scopes they need), and
// serves response_url endpoints. It keeps a small workspace (users, user
// groups, channels, messages, ephemeral messages and modals) that tests and
// the local console observe.
//
// A Server is to Slack what an [net/http/httptest.Server] is to an HTTP
// service: [NewServer] starts one on a loopback port, [Server.Close] stops
// it, and [Server.APIURL] is what the bot passes to slack.OptionAPIURL.
//
// The package does not depend on the testing package, so the program's local
// console can use it too.
package slacksim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors returned by the Socket Mode side of a [Server].
var (
	// ErrNotConnected means no Socket Mode connection was available to
	// deliver an envelope to.
	ErrNotConnected = errors.New("slacksim: no socket mode connection")
	// ErrAckTimeout means the app did not acknowledge an envelope within
	// the ack timeout. Slack would show the user operation_timeout.
	ErrAckTimeout = errors.New("slacksim: envelope not acknowledged in time")
	// ErrNoSuchMessage means a click named a message that does not exist,
	// was deleted, or is an ephemeral message of another user.
	ErrNoSuchMessage = errors.New("slacksim: no such message")
	// ErrNoSuchButton means the clicked message has no button with the
	// requested action_id, for example because an update removed it.
	ErrNoSuchButton = errors.New("slacksim: no such button")
	// ErrClosed means the server was closed.
	ErrClosed = errors.New("slacksim: server closed")
	// ErrNoSuchView means a submission or close named a view that was
	// never opened, is already closed, is hidden under a view pushed on
	// top of it, or is shown to another user.
	ErrNoSuchView = errors.New("slacksim: no such view")
	// ErrInvalidSubmission means a [ViewSubmission] asked for something
	// the user could not do in Slack's client: fill in a field the view
	// does not have, type into a field that is not a text input, leave a
	// required field empty, or submit a modal without a submit button.
	ErrInvalidSubmission = errors.New("slacksim: invalid view submission")
)

// appID is the app every payload names. Nothing in the bot configures it,
// so it is fixed rather than an option.
const appID = "A0FAKE"

// baseEpoch is the first second of the fake clock used for message ts
// values, so that ts values look like Slack's and are deterministic.
const baseEpoch = 1700000000

type config struct {
	appToken     string
	botToken     string
	teamID       string
	teamName     string
	botUserID    string
	botID        string
	pingInterval time.Duration
	ackTimeout   time.Duration
	triggerTTL   time.Duration
	scopes       []string
	// randomRouting and routingSeed are set by WithRandomRouting.
	randomRouting bool
	routingSeed   int64
}

// An Option configures a [Server] created by [NewServer].
type Option func(*config)

// WithAppToken sets the app-level token (xapp-…) that apps.connections.open
// accepts. The default is "xapp-1-A0FAKE-1-fake".
func WithAppToken(token string) Option {
	return func(c *config) { c.appToken = token }
}

// WithBotToken sets the bot token (xoxb-…) that Web API methods accept. The
// default is "xoxb-fake-bot-token".
func WithBotToken(token string) Option {
	return func(c *config) { c.botToken = token }
}

// WithTeam sets the workspace ID and name. The default is "T0FAKE",
// "Fake Workspace".
func WithTeam(id, name string) Option {
	return func(c *config) { c.teamID, c.teamName = id, name }
}

// WithPingInterval sets how often the server sends WebSocket PING frames on
// every Socket Mode connection. The default is 2s. slack-go reconnects when
// no PING arrives within its own interval (30s by default), so this must be
// shorter than the client's.
func WithPingInterval(d time.Duration) Option {
	return func(c *config) { c.pingInterval = d }
}

// WithAckTimeout sets how long [Server.SlashCommand], [Server.ClickButton],
// [Server.SubmitView] and [Server.CloseView] wait for an ack. The default is
// Slack's 3s.
func WithAckTimeout(d time.Duration) Option {
	return func(c *config) { c.ackTimeout = d }
}

// WithBotScopes sets the OAuth scopes granted to the bot token, replacing
// the default set: commands, chat:write, chat:write.public, users:read and
// usergroups:read. Methods that need a scope the token lacks fail with
// missing_scope, and every bot-token response reports the granted scopes in
// its X-OAuth-Scopes header.
//
// chat:write.public is reported but not honoured: posting to a channel
// added with botIsMember false still fails with not_in_channel, so that
// such a channel also stands for the private channels the scope does not
// reach.
func WithBotScopes(scopes ...string) Option {
	return func(c *config) { c.scopes = append([]string{}, scopes...) }
}

// WithRandomRouting makes the server send each envelope to a uniformly
// random live Socket Mode connection, as Slack hands each envelope to a
// random one of an app's connections. The choices come from a
// [math/rand/v2] PCG generator seeded with seed and owned by the server, so
// the same seed, connections and envelopes give the same sequence of
// sockets (see [Ack.Socket] and [AckRecord.Socket]).
//
// Without this option the server routes envelopes round robin over the
// live connections, in the order they connected, which keeps
// multi-replica tests deterministic without a seed.
func WithRandomRouting(seed int64) Option {
	return func(c *config) { c.randomRouting, c.routingSeed = true, seed }
}

type user struct {
	id, name, realName string
	isBot              bool
}

type channel struct {
	id, name  string
	botMember bool
}

// A Server is a fake Slack workspace with one app installed. All its
// methods are safe for concurrent use, and the observation methods return
// copies.
type Server struct {
	cfg     config
	srv     *httptest.Server
	started time.Time
	// now is the clock for response_url expiry and record timestamps. Tests
	// inside the package replace it to expire URLs without waiting.
	now func() time.Time

	// done is closed by Close so that waiters and per-socket goroutines stop.
	done chan struct{}
	// wg tracks goroutines the http server does not: hijacked WebSocket
	// handlers, their ping loops and subscriber pumps. Add is only called
	// under mu while closed is false, so it never races with Close's Wait.
	wg sync.WaitGroup

	mu sync.Mutex
	// changed is closed and replaced on every state change; WaitFor and
	// WaitConnected block on it instead of polling.
	changed chan struct{}
	closed  bool

	users    map[string]*user
	channels map[string]*channel

	msgs       map[string][]*Message // per channel, in ts order
	msgIndex   map[string]*Message   // channel + "/" + ts
	ephemerals []*Ephemeral
	tsSeq      int64
	idSeq      int

	tickets   map[string]bool
	ticketSeq int
	conns     []*wsConn
	connSeq   int
	rr        int        // next round-robin index, without random routing
	rng       *rand.Rand // socket picker with random routing, else nil
	envelopes map[string]*envelope
	envSeq    int
	pending   map[string]*delivery
	acks      []AckRecord

	responses map[string]*responseURL
	respSeq   int

	// triggers holds every trigger_id sent in a payload, for views.open.
	triggers map[string]*trigger
	views    []*view // in opening order
	viewByID map[string]*view
	viewSeq  int
	hashSeq  int

	usergroups map[string]*usergroup

	calls    []Call
	failures map[string][]Failure
	subs     map[*subscriber]struct{}
	eventSeq uint64
}

// NewServer starts and returns a new Server listening on 127.0.0.1. The
// workspace starts with users U0ALICE (alice) and U0BOB (bob), the bot user,
// and channel C0OPS (ops) with the bot as a member. The caller should call
// Close when finished.
func NewServer(opts ...Option) *Server {
	cfg := config{
		appToken:     "xapp-1-A0FAKE-1-fake",
		botToken:     "xoxb-fake-bot-token",
		teamID:       "T0FAKE",
		teamName:     "Fake Workspace",
		botUserID:    "U0BOT",
		botID:        "B0BOT",
		pingInterval: 2 * time.Second,
		ackTimeout:   3 * time.Second,
		triggerTTL:   3 * time.Second,
		scopes:       []string{"commands", "chat:write", "chat:write.public", "users:read", "usergroups:read", "channels:history", "groups:history"},
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:        cfg,
		started:    time.Now(),
		now:        time.Now,
		done:       make(chan struct{}),
		changed:    make(chan struct{}),
		users:      map[string]*user{},
		channels:   map[string]*channel{},
		msgs:       map[string][]*Message{},
		msgIndex:   map[string]*Message{},
		tickets:    map[string]bool{},
		envelopes:  map[string]*envelope{},
		pending:    map[string]*delivery{},
		responses:  map[string]*responseURL{},
		triggers:   map[string]*trigger{},
		viewByID:   map[string]*view{},
		usergroups: map[string]*usergroup{},
		failures:   map[string][]Failure{},
		subs:       map[*subscriber]struct{}{},
	}
	if cfg.randomRouting {
		s.rng = rand.New(rand.NewPCG(uint64(cfg.routingSeed), 0))
	}
	s.users[cfg.botUserID] = &user{id: cfg.botUserID, name: "fakebot", realName: "Fake Bot", isBot: true}
	s.AddUser("U0ALICE", "alice")
	s.AddUser("U0BOB", "bob")
	s.AddChannel("C0OPS", "ops", true)

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleWebSocket)
	mux.HandleFunc("/response/", s.handleResponseURL)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close closes every Socket Mode connection with a going-away close frame,
// ends subscriptions, makes pending calls that wait for an ack (SlashCommand,
// ClickButton, SubmitView, CloseView) return [ErrClosed], and shuts the HTTP server down. It blocks until the
// server's goroutines have exited.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := append([]*wsConn(nil), s.conns...)
	subs := make([]*subscriber, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.notifyLocked()
	s.mu.Unlock()

	for _, c := range conns {
		c.closeGracefully()
	}
	for _, sub := range subs {
		sub.cancel()
	}
	s.srv.Close()
	s.wg.Wait()
}

// URL returns the server's base URL, such as "http://127.0.0.1:1234".
func (s *Server) URL() string { return s.srv.URL }

// APIURL returns the Web API base URL with its trailing slash, such as
// "http://127.0.0.1:1234/api/". slack-go appends method names to it, so
// pass it to slack.OptionAPIURL unchanged.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// AppToken returns the app-level token the server accepts.
func (s *Server) AppToken() string { return s.cfg.appToken }

// BotToken returns the bot token the server accepts.
func (s *Server) BotToken() string { return s.cfg.botToken }

// AddUser adds a workspace user, or renames an existing one.
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	real := name
	if name != "" {
		real = strings.ToUpper(name[:1]) + name[1:]
	}
	s.users[id] = &user{id: id, name: name, realName: real}
	s.notifyLocked()
}

// AddChannel adds a public channel, or replaces an existing one's name and
// membership. botIsMember says whether the bot has been invited: the fake
// does not honour chat:write.public (see [WithBotScopes]), so posting to a
// channel the bot is not in fails with not_in_channel.
func (s *Server) AddChannel(id, name string, botIsMember bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = &channel{id: id, name: name, botMember: botIsMember}
	s.notifyLocked()
}

// SetBotMember invites the bot to, or removes it from, a channel added with
// [Server.AddChannel]. Unknown channels are ignored.
func (s *Server) SetBotMember(channelID string, member bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.channels[channelID]; ok {
		ch.botMember = member
		s.notifyLocked()
	}
}

type usergroup struct {
	id, handle string
	members    []string
}

// AddUsergroup adds a user group (a "subteam", mentioned as @handle) with
// the given members, or replaces an existing one.
func (s *Server) AddUsergroup(id, handle string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usergroups[id] = &usergroup{id: id, handle: handle, members: append([]string{}, members...)}
	s.notifyLocked()
}

// SetUsergroupMembers replaces the members of a group added with
// [Server.AddUsergroup]. Unknown groups are ignored.
func (s *Server) SetUsergroupMembers(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.usergroups[id]; ok {
		g.members = append([]string{}, members...)
		s.notifyLocked()
	}
}

// teamDomain derives the workspace's subdomain from its name, as Slack
// suggests one at sign-up ("Fake Workspace" → "fake-workspace").
func (s *Server) teamDomain() string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s.cfg.teamName)), " ", "-")
}

// channelLocked finds a channel by ID, or by name with or without "#", as
// chat.postMessage accepts both.
func (s *Server) channelLocked(ref string) (*channel, bool) {
	if ch, ok := s.channels[ref]; ok {
		return ch, true
	}
	name := strings.TrimPrefix(ref, "#")
	ids := make([]string, 0, len(s.channels))
	for id := range s.channels {
		ids = append(ids, id)
	}
	sort.Strings(ids) // deterministic when two channels share a name
	for _, id := range ids {
		if s.channels[id].name == name && name != "" {
			return s.channels[id], true
		}
	}
	return nil, false
}

// nextTSLocked returns a fresh message timestamp. Timestamps advance by 100µs
// from a fixed epoch, so they are unique, increase, sort as strings and do
// not depend on the wall clock.
func (s *Server) nextTSLocked() string {
	s.tsSeq += 100
	return fmt.Sprintf("%d.%06d", baseEpoch+s.tsSeq/1e6, s.tsSeq%1e6)
}

// nextIDLocked returns a small number unique within the server, used for
// generated block IDs, action IDs, trigger IDs and action_ts values.
func (s *Server) nextIDLocked() int {
	s.idSeq++
	return s.idSeq
}

// notifyLocked wakes everything blocked in WaitFor or WaitConnected.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
