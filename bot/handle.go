package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

func (b *Bot) handleSlash(workCtx context.Context, envelopeID string, cmd slack.SlashCommand) {
	reqID := uuid.New()
	log := b.log.With().Str("request_id", reqID.String()).Str("envelope_id", envelopeID).
		Str("slack_user", cmd.UserID).Str("channel", cmd.ChannelID).Logger()
	wctx, cancel := b.workContext(workCtx)
	defer cancel()

	if cmd.Command != commands.CommandName {
		log.Warn().Str("command", cmd.Command).Msg("unexpected slash command")
		b.respond(wctx, log, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, fmt.Sprintf("This app only answers `%s`.", commands.CommandName))
		return
	}
	log.Info().Int("text_len", len(cmd.Text)).Msg("slash command")
	reply, err := b.h.Handle(wctx, commands.Request{ID: reqID, UserID: cmd.UserID, ChannelID: cmd.ChannelID, Text: cmd.Text})
	if err != nil {
		b.respondError(wctx, log, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err)
		return
	}
	if reply.Confirm != nil {
		b.postConfirmation(wctx, log, cmd, *reply.Confirm)
		return
	}
	b.respond(wctx, log, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, reply.Text)
}

// postConfirmation posts the confirmation message of a new pending stop into the channel where it
// was requested. Where the bot may not post, the requester learns how to fix that, and the request
// is dropped so that it does not hold the cluster.
func (b *Bot) postConfirmation(ctx context.Context, log zerolog.Logger, cmd slack.SlashCommand, op commands.Operation) {
	log = log.With().Str("cluster_id", op.ClusterID.String()).Str("org_id", op.OrganizationID.String()).Str("cluster", op.ClusterName).Logger()
	_, ts, err := b.api.PostMessageContext(ctx, op.ChannelID,
		slack.MsgOptionText(confirmationFallback(op), false),
		slack.MsgOptionBlocks(confirmationBlocks(op, b.cfg.ConfirmTTL)...))
	if err != nil {
		if derr := b.h.Discard(ctx, op.ID); derr != nil {
			log.Error().Err(derr).Msg("discard stop request")
		}
		var serr slack.SlackErrorResponse
		if errors.As(err, &serr) && (serr.Err == "not_in_channel" || serr.Err == "channel_not_found") {
			log.Warn().Str("slack_error", serr.Err).Msg("cannot post the confirmation in this channel")
			b.respond(ctx, log, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, cannotPostText(cmd.ChannelID))
			return
		}
		log.Error().Err(err).Msg("post confirmation")
		b.respond(ctx, log, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, "The bot could not post the confirmation message, so nothing will be stopped. Please try again.")
		return
	}
	if err := b.h.Attach(ctx, op.ID, op.ChannelID, ts); err != nil {
		log.Error().Err(err).Msg("record confirmation message")
		return
	}
	log.Info().Str("audit", "stop_requested").Str("request_id", op.ID.String()).Str("message_ts", ts).
		Str("status", string(op.StatusAtRequest)).Bool("production", op.Production).Msg("stop requested")
}

func cannotPostText(channelID string) string {
	if len(channelID) > 0 && channelID[0] == 'D' {
		return "The bot cannot post in this direct message. Run `" + commands.CommandName + " stop` in a channel where the bot is a member, so the team can see the stop."
	}
	return "The bot is not a member of this channel, so it cannot post the confirmation. Invite it with `/invite @Qovery` (or the app's name in your workspace) and run the command again. Nothing was stopped."
}

// handleInteraction handles button clicks under workCtx; a watch it starts runs under ctx.
func (b *Bot) handleInteraction(ctx, workCtx context.Context, envelopeID string, cb slack.InteractionCallback) {
	if cb.Type != slack.InteractionTypeBlockActions {
		b.log.Debug().Str("type", string(cb.Type)).Msg("interaction ignored")
		return
	}
	wctx, cancel := b.workContext(workCtx)
	defer cancel()
	for _, action := range cb.ActionCallback.BlockActions {
		log := b.log.With().Str("envelope_id", envelopeID).Str("slack_user", cb.User.ID).
			Str("channel", cb.Channel.ID).Str("action_id", action.ActionID).Str("request_id", action.Value).Logger()
		id, err := uuid.Parse(action.Value)
		if err != nil {
			log.Warn().Msg("button value is not an operation id")
			continue
		}
		click := commands.Click{OperationID: id, UserID: cb.User.ID, ChannelID: cb.Channel.ID, MessageTS: cb.Container.MessageTs}
		var reply commands.Reply
		switch action.ActionID {
		case commands.ActionConfirmStop:
			reply, err = b.h.Confirm(wctx, click)
		case commands.ActionCancelStop:
			reply, err = b.h.Cancel(wctx, click)
		default:
			log.Debug().Msg("unknown action ignored")
			continue
		}
		if err != nil {
			b.respondError(wctx, log, cb.ResponseURL, cb.Channel.ID, cb.User.ID, err)
			continue
		}
		if reply.Text != "" {
			log.Info().Str("audit", "click_refused").Msg("click refused")
			b.respond(wctx, log, cb.ResponseURL, cb.Channel.ID, cb.User.ID, reply.Text)
		}
		if reply.Watch != nil {
			b.startWatch(ctx, reply.Watch)
		}
	}
}

func (b *Bot) respondError(ctx context.Context, log zerolog.Logger, responseURL, channelID, userID string, err error) {
	msg, expected := commands.UserMessage(err)
	if expected {
		log.Info().Err(err).Msg("request refused")
	} else {
		log.Error().Err(err).Msg("request failed")
	}
	b.respond(ctx, log, responseURL, channelID, userID, msg)
}

// respond shows text to one user only. The interaction's response_url works in every channel and DM
// without membership; chat.postEphemeral is the fallback.
func (b *Bot) respond(ctx context.Context, log zerolog.Logger, responseURL, channelID, userID, text string) {
	if text == "" {
		return
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(textBlocks(text)...),
	}
	if responseURL != "" {
		_, _, err := b.api.PostMessageContext(ctx, channelID, append(opts, slack.MsgOptionResponseURL(responseURL, slack.ResponseTypeEphemeral))...)
		if err == nil {
			return
		}
		log.Warn().Err(err).Msg("reply through response_url failed; trying chat.postEphemeral")
	}
	if _, err := b.api.PostEphemeralContext(ctx, channelID, userID, opts...); err != nil {
		log.Error().Err(err).Msg("reply to user failed")
	}
}

func (b *Bot) opLog(op commands.Operation) zerolog.Logger {
	return b.log.With().Str("request_id", op.ID.String()).Str("cluster_id", op.ClusterID.String()).
		Str("org_id", op.OrganizationID.String()).Str("channel", op.ChannelID).Logger()
}
