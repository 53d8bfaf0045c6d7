package slacksim

import (
	"context"
	"encoding/json"
	"fmt"
)

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
