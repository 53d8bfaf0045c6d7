package slacksim

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// maxSockets is Slack's cap on concurrent Socket Mode connections per
	// app; the next one is told too_many_websockets.
	maxSockets = 10
	// verificationToken is the legacy token Slack still puts in payloads.
	verificationToken = "fake-verification-token"
	// writeTimeout bounds every frame write, so that a client that stopped
	// reading cannot wedge the server.
	writeTimeout = 5 * time.Second

	envelopeSlash       = "slash_commands"
	envelopeInteractive = "interactive"
)

// A SlashCommand is a user typing a slash command.
type SlashCommand struct {
	UserID    string
	ChannelID string
	// Command is the command with its slash; the default is "/qovery".
	Command string
	Text    string
	// Variant picks the payload's shape; the zero value sends what Slack
	// sends a workspace outside Enterprise Grid today.
	Variant Variant
	// TeamID, when set, is the team of the user instead of the
	// workspace's: a member of another organization typing the command in
	// a Slack Connect channel shared with this workspace. The payload's
	// team_id and team_domain are then that team's.
	TeamID string
}

// A Click is a user pressing a button in a message.
type Click struct {
	UserID    string
	ChannelID string
	// MessageTS names a channel message, or an ephemeral message shown to
	// UserID (see [Ephemeral.TS]).
	MessageTS string
	ActionID  string
	// Variant picks the payload's shape; the zero value sends what Slack
	// sends a workspace outside Enterprise Grid.
	Variant Variant
	// ForgedValue, when set, replaces the button's value in the payload, as a
	// tampered or replaying client could: apps must not trust values.
	ForgedValue string
	// TeamID, when set, is the team of the user instead of the
	// workspace's: a member of another organization clicking in a Slack
	// Connect channel shared with this workspace. The payload's user.team_id
	// and team are then that team's.
	TeamID string
}

// An Ack is the app's acknowledgement of an envelope.
type Ack struct {
	EnvelopeID string
	// Socket is the id of the Socket Mode connection the envelope was sent
	// on; each client connection has its own (see [Server.Sockets]).
	Socket int
	// Payload is the ack's payload, or nil for a bare ack.
	Payload json.RawMessage
	// Latency is the time from sending the envelope to receiving the ack.
	Latency time.Duration
}

// wsConn is one Socket Mode WebSocket.
type wsConn struct {
	id  int
	ws  *websocket.Conn
	wmu sync.Mutex // gorilla allows one concurrent writer of data frames

	// Guarded by Server.mu.
	ready    bool // hello sent or being sent: envelopes may go here
	draining bool // disconnect sent: no more envelopes
	gone     bool // removed from Server.conns
	done     chan struct{}
}

func (c *wsConn) host() string { return "applink-fake-" + strconv.Itoa(c.id) }

func (c *wsConn) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(frame)
}

func (c *wsConn) writeLocked(frame []byte) error {
	if err := c.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

func (c *wsConn) closeGracefully() {
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closed")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.ws.Close()
}

type debugInfo struct {
	Host                      string `json:"host"`
	Started                   string `json:"started,omitempty"`
	BuildNumber               int    `json:"build_number,omitempty"`
	ApproximateConnectionTime int    `json:"approximate_connection_time,omitempty"`
}

type disconnectFrame struct {
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	DebugInfo debugInfo `json:"debug_info"`
}

// connectionsOpen serves apps.connections.open. Slack accepts the app token
// only in the Authorization header.
func (s *Server) connectionsOpen(r *http.Request) reply {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || tok == "":
		return fail("not_authed")
	case tok == s.cfg.botToken:
		return fail("not_allowed_token_type")
	case tok != s.cfg.appToken:
		return fail("invalid_auth")
	}
	s.mu.Lock()
	s.ticketSeq++
	ticket := strconv.Itoa(s.ticketSeq)
	s.tickets[ticket] = true
	s.mu.Unlock()
	host := strings.TrimPrefix(s.srv.URL, "http://")
	return reply{"ok": true, "url": "ws://" + host + "/link/?ticket=" + ticket + "&app_id=" + appID}
}

// handleWebSocket serves the URL apps.connections.open hands out: one
// Socket Mode connection per request, for as long as the socket lives.
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := !s.closed && s.tickets[ticket]
	delete(s.tickets, ticket) // a ticket is good for one connection
	s.mu.Unlock()
	if !valid {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	// slack-go sends Origin: https://api.slack.com, which gorilla's
	// same-origin default would refuse.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has replied with an HTTP error
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.connSeq++
	c := &wsConn{id: s.connSeq, ws: ws, done: make(chan struct{})}
	if len(s.conns) >= maxSockets {
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()
		s.refuse(c)
		return
	}
	s.conns = append(s.conns, c)
	n := len(s.conns)
	// Two goroutines outlive nothing but the socket: this handler (the
	// http server stops tracking it once hijacked) and the ping loop.
	s.wg.Add(2)
	s.mu.Unlock()
	defer s.wg.Done()
	defer s.removeConn(c)

	hello, _ := json.Marshal(struct {
		Type           string    `json:"type"`
		NumConnections int       `json:"num_connections"`
		DebugInfo      debugInfo `json:"debug_info"`
		ConnectionInfo struct {
			AppID string `json:"app_id"`
		} `json:"connection_info"`
	}{
		Type:           "hello",
		NumConnections: n,
		DebugInfo: debugInfo{
			Host:                      c.host(),
			Started:                   s.started.UTC().Format("2006-01-02 15:04:05.000"),
			BuildNumber:               1,
			ApproximateConnectionTime: 18060,
		},
		ConnectionInfo: struct {
			AppID string `json:"app_id"`
		}{AppID: appID},
	})
	// Marking the socket ready while holding its write lock lets envelopes
	// be routed here at once yet still queue behind hello, and means that
	// whoever has read hello can count on Connections including it.
	c.wmu.Lock()
	s.mu.Lock()
	c.ready = true
	s.notifyLocked()
	s.mu.Unlock()
	err = c.writeLocked(hello)
	c.wmu.Unlock()
	if err != nil {
		s.wg.Done() // the ping loop never starts
		return
	}

	go s.pingLoop(c)
	s.readLoop(c)
}

// refuse tells an 11th socket too_many_websockets, as Slack does, and
// closes it once the client has read that (closing at once could reset the
// connection before the frame arrives).
func (s *Server) refuse(c *wsConn) {
	frame, _ := json.Marshal(disconnectFrame{Type: "disconnect", Reason: "too_many_websockets", DebugInfo: debugInfo{Host: c.host()}})
	if err := c.write(frame); err == nil {
		_ = c.ws.SetReadDeadline(time.Now().Add(time.Second))
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				break
			}
		}
	}
	_ = c.ws.Close()
}

// pingLoop sends a PING right away and then every ping interval, because
// slack-go reconnects when Slack's PINGs stop.
func (s *Server) pingLoop(c *wsConn) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.pingInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		if err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(n)), time.Now().Add(writeTimeout)); err != nil {
			return
		}
		select {
		case <-t.C:
		case <-c.done:
			return
		case <-s.done:
			return
		}
	}
}

// readLoop reads acks until the socket fails. Reading also answers the
// client's control frames (its PONGs and close).
func (s *Server) readLoop(c *wsConn) {
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if mt != websocket.TextMessage {
			continue
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue // Slack ignores frames that are not acks
		}
		s.handleAck(ack.EnvelopeID, ack.Payload)
	}
}

// removeConn forgets a socket and closes it. It is safe to call twice.
func (s *Server) removeConn(c *wsConn) {
	s.mu.Lock()
	if c.gone {
		s.mu.Unlock()
		return
	}
	c.gone = true
	if i := slices.Index(s.conns, c); i >= 0 {
		s.conns = slices.Delete(s.conns, i, i+1)
	}
	close(c.done)
	s.notifyLocked()
	s.mu.Unlock()
	_ = c.ws.Close()
}

func (s *Server) connectionsLocked() int {
	return len(s.liveConnsLocked())
}

// Connections returns the number of Socket Mode connections that have been
// sent hello and not yet told to disconnect: those envelopes can go to.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connectionsLocked()
}

// WaitConnected blocks until at least one Socket Mode connection has been
// sent hello (any envelope sent afterwards follows the hello), or ctx is
// done.
func (s *Server) WaitConnected(ctx context.Context) error {
	return s.waitFor(ctx, "no socket mode connection", func() bool { return s.Connections() > 0 })
}

// Disconnect sends a disconnect frame with the given reason ("warning",
// "refresh_requested", "link_disabled", …) on every connected socket, and
// stops routing envelopes to them. The sockets stay open until the client
// closes them, as slack-go does at once.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	var targets []*wsConn
	for _, c := range s.conns {
		if c.ready && !c.draining {
			c.draining = true
			targets = append(targets, c)
		}
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range targets {
		frame, _ := json.Marshal(disconnectFrame{Type: "disconnect", Reason: reason, DebugInfo: debugInfo{Host: c.host()}})
		_ = c.write(frame)
	}
}

// DropConnections closes every socket abruptly, without a close frame, as a
// network failure would.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		s.removeConn(c)
	}
}

// Sockets returns the ids of the Socket Mode connections envelopes can go
// to (those counted by [Server.Connections]: sent hello, not told to
// disconnect), in the order they connected, which is ascending. The ids are
// those of [Ack.Socket] and [AckRecord.Socket], and a socket's hello names
// it in debug_info.host as "applink-fake-<id>".
func (s *Server) Sockets() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := []int{}
	for _, c := range s.liveConnsLocked() {
		ids = append(ids, c.id)
	}
	return ids
}
