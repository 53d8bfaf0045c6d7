package slacksim

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

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
