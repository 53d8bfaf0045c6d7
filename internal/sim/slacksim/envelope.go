package slacksim

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// envelope is one Socket Mode request, kept so that it can be redelivered.
type envelope struct {
	id           string
	typ          string
	payload      json.RawMessage
	retryAttempt int
	retryReason  string

	// For the side effects of a slash command's ack payload.
	user, channel, command string
	// submits is the view a view_submission envelope submits, whose ack
	// payload decides what happens to it.
	submits string
	// socket is the id of the socket of the latest delivery, for late acks.
	socket int
}

// frameLocked encodes the envelope as Slack sends it. retry_attempt and
// retry_reason only appear on redeliveries.
func (e *envelope) frameLocked() []byte {
	type wire struct {
		EnvelopeID             string          `json:"envelope_id"`
		Payload                json.RawMessage `json:"payload"`
		Type                   string          `json:"type"`
		AcceptsResponsePayload bool            `json:"accepts_response_payload"`
		RetryAttempt           int             `json:"retry_attempt,omitempty"`
		RetryReason            string          `json:"retry_reason,omitempty"`
	}
	b, _ := json.Marshal(wire{e.id, e.payload, e.typ, true, e.retryAttempt, e.retryReason})
	return b
}

type delivery struct {
	env    *envelope
	retry  int
	socket int // the id of the socket the envelope was sent on
	sent   time.Time
	done   chan Ack // buffered: the ack is handed over under the lock
	// view is what a view_submission's ack did, set before the ack is
	// handed over on done.
	view *ViewResult
}

func (s *Server) newEnvelopeLocked(typ string) *envelope {
	s.envSeq++
	n := s.envSeq
	env := &envelope{id: fmt.Sprintf("%08x-fa4e-4a5e-8000-%012x", n, n), typ: typ}
	s.envelopes[env.id] = env
	return env
}

// liveConnsLocked returns the sockets envelopes can go to, in the order they
// connected.
func (s *Server) liveConnsLocked() []*wsConn {
	var live []*wsConn
	for _, c := range s.conns {
		if c.ready && !c.draining {
			live = append(live, c)
		}
	}
	return live
}

// pickConnLocked chooses the live socket for the next envelope, or nil when
// there is none. Slack hands each envelope to a random one of an app's
// connections and promises no pattern. By default the fake goes round robin
// over the live sockets in the order they connected, which keeps
// multi-replica tests deterministic; with [WithRandomRouting] it picks a
// uniformly random live socket from the server's seeded generator, which
// s.mu guards like the rest of the state.
func (s *Server) pickConnLocked() *wsConn {
	live := s.liveConnsLocked()
	if len(live) == 0 {
		return nil
	}
	if s.rng != nil {
		return live[s.rng.IntN(len(live))]
	}
	c := live[s.rr%len(live)]
	s.rr++
	return c
}

// deliver sends an envelope and waits for its ack.
func (s *Server) deliver(ctx context.Context, env *envelope) (Ack, error) {
	a, _, err := s.deliverTracked(ctx, env)
	return a, err
}

// deliverTracked is deliver that also returns the delivery the ack
// answered, for what handling the ack recorded on it; the delivery is nil
// when there was no ack.
func (s *Server) deliverTracked(ctx context.Context, env *envelope) (Ack, *delivery, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Ack{}, nil, ErrClosed
	}
	if _, busy := s.pending[env.id]; busy {
		s.mu.Unlock()
		return Ack{}, nil, fmt.Errorf("slacksim: envelope %s is still awaiting its ack", env.id)
	}
	c := s.pickConnLocked()
	if c == nil {
		s.mu.Unlock()
		return Ack{}, nil, ErrNotConnected
	}
	frame := env.frameLocked()
	env.socket = c.id
	d := &delivery{env: env, retry: env.retryAttempt, socket: c.id, sent: time.Now(), done: make(chan Ack, 1)}
	s.pending[env.id] = d
	s.mu.Unlock()

	if err := c.write(frame); err != nil {
		s.forget(d)
		s.removeConn(c)
		return Ack{}, nil, fmt.Errorf("%w: send envelope %s: %v", ErrNotConnected, env.id, err)
	}
	timer := time.NewTimer(s.cfg.ackTimeout)
	defer timer.Stop()
	select {
	case a := <-d.done:
		return a, d, nil
	case <-timer.C:
		a, acked, err := s.expire(d)
		if !acked {
			return a, nil, err
		}
		return a, d, nil
	case <-ctx.Done():
		if a, ok := s.forget(d); ok {
			return a, d, nil
		}
		return Ack{}, nil, ctx.Err()
	case <-s.done:
		return Ack{}, nil, ErrClosed
	}
}

// forget stops waiting for d. If the ack won the race, it returns it.
func (s *Server) forget(d *delivery) (Ack, bool) {
	s.mu.Lock()
	if s.pending[d.env.id] == d {
		delete(s.pending, d.env.id)
		s.mu.Unlock()
		return Ack{}, false
	}
	s.mu.Unlock()
	return <-d.done, true
}

// expire records a missed ack deadline. For a slash command Slack shows the
// user an operation_timeout error, so the fake records that as an
// ephemeral message from Slack. acked reports that the ack won the race
// after all.
func (s *Server) expire(d *delivery) (a Ack, acked bool, err error) {
	s.mu.Lock()
	if s.pending[d.env.id] != d {
		s.mu.Unlock()
		return <-d.done, true, nil
	}
	delete(s.pending, d.env.id)
	env := d.env
	s.acks = append(s.acks, AckRecord{
		EnvelopeID: env.id, Type: env.typ, RetryAttempt: d.retry, Socket: d.socket,
		Latency: time.Since(d.sent), At: s.now(), TimedOut: true,
	})
	if env.typ == envelopeSlash {
		s.addEphemeralLocked(&Ephemeral{
			Channel: env.channel, User: env.user, Source: "slack",
			Text: fmt.Sprintf("%s failed with the error \"operation_timeout\"", env.command),
		})
	}
	s.notifyLocked()
	s.mu.Unlock()
	return Ack{}, false, fmt.Errorf("%w (envelope %s, %s, after %v)", ErrAckTimeout, env.id, env.typ, s.cfg.ackTimeout)
}

// handleAck matches an ack to the delivery waiting for it. Acks are matched
// by envelope_id alone, whatever socket they arrive on, because slack-go
// sends an ack queued during a reconnect on the next socket; the ack's
// Socket is therefore the socket the envelope was sent on.
func (s *Server) handleAck(id string, payload json.RawMessage) {
	if string(payload) == "null" {
		payload = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := AckRecord{EnvelopeID: id, Payload: payload, At: s.now()}
	d := s.pending[id]
	if d == nil {
		rec.Late = true
		if env := s.envelopes[id]; env != nil {
			rec.Type, rec.RetryAttempt, rec.Socket = env.typ, env.retryAttempt, env.socket
		}
		s.acks = append(s.acks, rec)
		s.notifyLocked()
		return
	}
	delete(s.pending, id)
	rec.Type, rec.RetryAttempt, rec.Socket, rec.Latency = d.env.typ, d.retry, d.socket, time.Since(d.sent)
	if d.env.typ == envelopeSlash && payload != nil {
		rec.Error = s.applySlashAckLocked(d.env, payload)
	}
	if d.env.submits != "" {
		res := s.applyViewAckLocked(d.env.submits, payload)
		d.view = &res
		rec.Error = res.Error
	}
	s.acks = append(s.acks, rec)
	s.notifyLocked()
	d.done <- Ack{EnvelopeID: id, Socket: d.socket, Payload: payload, Latency: rec.Latency}
}

// applySlashAckLocked shows a slash command's ack payload the way Slack
// does: ephemeral to the user by default, in the channel for
// response_type "in_channel". It returns the error Slack would report, if
// any.
func (s *Server) applySlashAckLocked(env *envelope, payload json.RawMessage) string {
	var p struct {
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
		ResponseType string          `json:"response_type"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return "invalid_payload"
	}
	blocks, err := s.normalizeBlocksLocked(string(p.Blocks))
	if err != nil {
		return err.(*blockError).code
	}
	if p.Text == "" && emptyBlocks(blocks) {
		return "" // a bare ack with, say, only response_action
	}
	if p.ResponseType == "in_channel" {
		s.postLocked(&Message{
			Channel: env.channel, User: s.cfg.botUserID, BotID: s.cfg.botID,
			Text: p.Text, Blocks: nonEmpty(blocks),
		})
		return ""
	}
	s.addEphemeralLocked(&Ephemeral{
		Channel: env.channel, User: env.user, Text: p.Text, Blocks: nonEmpty(blocks), Source: "ack",
	})
	return ""
}

// SlashCommand sends a slash_commands envelope as Slack builds it when
// cmd.UserID types the command in cmd.ChannelID, and waits for the ack.
// It fails with [ErrNotConnected] when no socket is connected and with
// [ErrAckTimeout] when no ack arrives within the ack timeout. An ack
// payload with text or blocks is shown to the user as Slack would show it
// (see [Ephemeral.Source]).
func (s *Server) SlashCommand(ctx context.Context, cmd SlashCommand) (Ack, error) {
	if cmd.Command == "" {
		cmd.Command = "/qovery"
	}
	s.mu.Lock()
	u, ok := s.users[cmd.UserID]
	if !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("slacksim: slash command: unknown user %q", cmd.UserID)
	}
	ch, ok := s.channels[cmd.ChannelID]
	if !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("slacksim: slash command: unknown channel %q", cmd.ChannelID)
	}
	env := s.newEnvelopeLocked(envelopeSlash)
	env.user, env.channel, env.command = u.id, ch.id, cmd.Command
	respURL := s.newResponseURLLocked(&responseURL{kind: envelopeSlash, user: u.id, channel: ch.id})
	// Field order and the string "false" follow what Slack sends; the
	// variant can change the type of is_enterprise_install or drop it.
	entID, entName := cmd.Variant.enterprise()
	teamID, teamDomain := s.cfg.teamID, s.teamDomain()
	if cmd.TeamID != "" {
		teamID, teamDomain = cmd.TeamID, externalDomain
	}
	env.payload, _ = json.Marshal(struct {
		Token               string `json:"token"`
		TeamID              string `json:"team_id"`
		TeamDomain          string `json:"team_domain"`
		EnterpriseID        string `json:"enterprise_id,omitempty"`
		EnterpriseName      string `json:"enterprise_name,omitempty"`
		ChannelID           string `json:"channel_id"`
		ChannelName         string `json:"channel_name"`
		UserID              string `json:"user_id"`
		UserName            string `json:"user_name"`
		Command             string `json:"command"`
		Text                string `json:"text"`
		APIAppID            string `json:"api_app_id"`
		IsEnterpriseInstall any    `json:"is_enterprise_install,omitempty"`
		ResponseURL         string `json:"response_url"`
		TriggerID           string `json:"trigger_id"`
	}{
		Token: verificationToken, TeamID: teamID, TeamDomain: teamDomain,
		EnterpriseID: entID, EnterpriseName: entName,
		ChannelID: ch.id, ChannelName: ch.name, UserID: u.id, UserName: u.name,
		Command: cmd.Command, Text: cmd.Text, APIAppID: appID,
		IsEnterpriseInstall: cmd.Variant.slashEnterpriseInstall(),
		ResponseURL:         respURL, TriggerID: s.triggerIDLocked(u.id),
	})
	s.mu.Unlock()
	return s.deliver(ctx, env)
}

// triggerIDLocked issues a trigger_id to user and records it, so that
// views.open can tell it was issued, by when it must be used, and whether
// it already was.
func (s *Server) triggerIDLocked(user string) string {
	n := s.nextIDLocked()
	id := fmt.Sprintf("%d.%d.fake%08x", 13345224609+n, 738474920, n)
	s.triggers[id] = &trigger{user: user, issued: s.now()}
	return id
}

type blockActionsPayload struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		TeamID   string `json:"team_id"`
	} `json:"user"`
	APIAppID  string `json:"api_app_id"`
	Token     string `json:"token"`
	Container struct {
		Type        string `json:"type"`
		MessageTS   string `json:"message_ts"`
		ChannelID   string `json:"channel_id"`
		IsEphemeral bool   `json:"is_ephemeral"`
		ThreadTS    string `json:"thread_ts,omitempty"`
	} `json:"container"`
	TriggerID           string          `json:"trigger_id"`
	Team                wireTeam        `json:"team"`
	Enterprise          *wireEnterprise `json:"enterprise"`
	IsEnterpriseInstall any             `json:"is_enterprise_install,omitempty"`
	Channel             struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	// Message is absent for ephemeral messages, which Slack does not keep.
	Message *wireMessage `json:"message,omitempty"`
	State   struct {
		Values map[string]any `json:"values"`
	} `json:"state"`
	ResponseURL string         `json:"response_url"`
	Actions     []buttonAction `json:"actions"`
}

type buttonAction struct {
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id"`
	Text     struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		Emoji bool   `json:"emoji"`
	} `json:"text"`
	Value    string `json:"value,omitempty"`
	Style    string `json:"style,omitempty"`
	Type     string `json:"type"`
	ActionTS string `json:"action_ts"`
}

// ClickButton sends an interactive envelope with the block_actions payload
// Slack sends when click.UserID presses the button with click.ActionID in
// the message click.MessageTS, and waits for the ack. The payload's
// response_url is bound to that message, so replace_original and
// delete_original act on it. It fails with [ErrNoSuchMessage] or
// [ErrNoSuchButton] when there is nothing to press, and otherwise like
// [Server.SlashCommand].
func (s *Server) ClickButton(ctx context.Context, click Click) (Ack, error) {
	s.mu.Lock()
	env, err := s.clickEnvelopeLocked(click)
	s.mu.Unlock()
	if err != nil {
		return Ack{}, err
	}
	return s.deliver(ctx, env)
}

// ClickButtons delivers several clicks made at the same moment: each is built from the messages
// as they are before any of them is handled (as when two people click the same message), then all
// are delivered concurrently. It returns each click's ack and error, in order.
func (s *Server) ClickButtons(ctx context.Context, clicks ...Click) ([]Ack, []error) {
	acks := make([]Ack, len(clicks))
	errs := make([]error, len(clicks))
	envs := make([]*envelope, len(clicks))
	s.mu.Lock()
	for i, c := range clicks {
		envs[i], errs[i] = s.clickEnvelopeLocked(c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for i, env := range envs {
		if errs[i] != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			acks[i], errs[i] = s.deliver(ctx, env)
		}()
	}
	wg.Wait()
	return acks, errs
}

func (s *Server) clickEnvelopeLocked(click Click) (*envelope, error) {
	u, ok := s.users[click.UserID]
	if !ok {
		return nil, fmt.Errorf("slacksim: click: unknown user %q", click.UserID)
	}
	ch, ok := s.channels[click.ChannelID]
	if !ok {
		return nil, fmt.Errorf("slacksim: click: unknown channel %q: %w", click.ChannelID, ErrNoSuchMessage)
	}
	var (
		msg    *Message
		eph    *Ephemeral
		blocks json.RawMessage
	)
	if m, ok := s.msgIndex[ch.id+"/"+click.MessageTS]; ok && !m.Deleted {
		msg, blocks = m, m.Blocks
	} else if e := s.ephemeralLocked(u.id, ch.id, click.MessageTS); e != nil && !e.Deleted {
		eph, blocks = e, e.Blocks
	} else {
		return nil, fmt.Errorf("slacksim: click: message %s in %s: %w", click.MessageTS, ch.id, ErrNoSuchMessage)
	}
	var btn *buttonRef
	for _, b := range findButtons(blocks) {
		if b.ActionID == click.ActionID {
			btn = &b
			break
		}
	}
	if btn == nil {
		return nil, fmt.Errorf("slacksim: click: action_id %q in message %s: %w", click.ActionID, click.MessageTS, ErrNoSuchButton)
	}

	bound := &responseURL{kind: envelopeInteractive, user: u.id, channel: ch.id}
	var p blockActionsPayload
	p.Type = "block_actions"
	p.User.ID, p.User.Username, p.User.Name, p.User.TeamID = u.id, u.name, u.name, s.cfg.teamID
	if click.TeamID != "" {
		p.User.TeamID = click.TeamID
	}
	p.APIAppID, p.Token = appID, verificationToken
	p.Container.Type, p.Container.MessageTS, p.Container.ChannelID = "message", click.MessageTS, ch.id
	if msg != nil {
		bound.messageTS = msg.TS
		p.Container.ThreadTS = msg.ThreadTS
		wm := s.wireMessageLocked(msg)
		p.Message = &wm
	} else {
		bound.ephemeralTS = eph.TS
		p.Container.IsEphemeral = true
		p.Container.ThreadTS = eph.ThreadTS
	}
	p.TriggerID = s.triggerIDLocked(u.id)
	p.Team = s.wireTeamLocked(click.Variant)
	if click.TeamID != "" {
		p.Team = wireTeam{ID: click.TeamID, Domain: externalDomain}
	}
	p.Enterprise = click.Variant.wireEnterprise()
	p.IsEnterpriseInstall = click.Variant.interactionEnterpriseInstall()
	p.Channel.ID, p.Channel.Name = ch.id, ch.name
	p.State.Values = map[string]any{}
	p.ResponseURL = s.newResponseURLLocked(bound)
	value := btn.Value
	if click.ForgedValue != "" {
		value = click.ForgedValue
	}
	a := buttonAction{ActionID: btn.ActionID, BlockID: btn.BlockID, Value: value, Style: btn.Style, Type: "button", ActionTS: s.nextTSLocked()}
	a.Text.Type, a.Text.Text, a.Text.Emoji = "plain_text", btn.Text, btn.emoji
	p.Actions = []buttonAction{a}

	env := s.newEnvelopeLocked(envelopeInteractive)
	env.user, env.channel = u.id, ch.id
	env.payload, _ = json.Marshal(p)
	return env, nil
}

// Redeliver sends an envelope that was already delivered again, with the
// same envelope_id and retry_attempt incremented, as Slack does when it
// believes an ack was lost, and waits for the ack. Apps should recognise
// the duplicate.
func (s *Server) Redeliver(ctx context.Context, envelopeID string) (Ack, error) {
	s.mu.Lock()
	env, ok := s.envelopes[envelopeID]
	if !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("slacksim: redeliver: unknown envelope %q", envelopeID)
	}
	env.retryAttempt++
	env.retryReason = "timeout"
	s.mu.Unlock()
	return s.deliver(ctx, env)
}
