package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

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
	if who := slashActor(cmd); !b.admit(who) {
		parsed, _ := commands.Parse(cmd.Text)
		b.refuseForeign(wctx, log, who, commands.Operation{ID: reqID, OrganizationID: b.cfg.OrganizationID, Verb: parsed.Verb}, cmd.ResponseURL, cmd.ChannelID)
		return
	}
	reply, err := b.h.Handle(wctx, commands.Request{ID: reqID, UserID: cmd.UserID, ChannelID: cmd.ChannelID, Text: cmd.Text})
	if err != nil {
		var denied *commands.DeniedError
		if errors.As(err, &denied) {
			parsed, _ := commands.Parse(cmd.Text) // a denial means the text parsed
			b.audit.denied(commands.Operation{ID: reqID, OrganizationID: b.cfg.OrganizationID, Verb: parsed.Verb}, cmd.UserID, cmd.ChannelID, denied.Reason)
		}
		b.respondError(wctx, log, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, err)
		return
	}
	if reply.Confirm != nil {
		b.postConfirmation(wctx, log, cmd.ResponseURL, *reply.Confirm)
		return
	}
	b.respond(wctx, log, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, reply.Text)
}

// postConfirmation posts the confirmation message of a new pending stop into the channel where it
// was requested. Where the bot may not post, the requester learns how to fix that, and the request
// is dropped so that it does not hold the cluster.
func (b *Bot) postConfirmation(ctx context.Context, log zerolog.Logger, responseURL string, op commands.Operation) {
	log = log.With().Str("cluster_id", op.ClusterID.String()).Str("org_id", op.OrganizationID.String()).Str("cluster", op.ClusterName).Logger()
	_, ts, err := b.api.PostMessageContext(ctx, op.ChannelID,
		slack.MsgOptionText(confirmationFallback(op), false),
		slack.MsgOptionBlocks(confirmationBlocks(op, b.cfg.ConfirmTTL)...))
	// What follows the post is bookkeeping that must happen whatever became of it: never on ctx,
	// which may be what cut the post short (a long Retry-After, shutdown).
	ctx, cancel := afterwards(ctx)
	defer cancel()
	if err != nil {
		b.cfg.AuthFailures.check(err)
		if derr := b.h.Discard(ctx, op.ID); derr != nil {
			log.Error().Err(derr).Msg("discard stop request")
		}
		var serr slack.SlackErrorResponse
		if errors.As(err, &serr) && (serr.Err == "not_in_channel" || serr.Err == "channel_not_found") {
			log.Warn().Str("slack_error", serr.Err).Msg("cannot post the confirmation in this channel")
			b.respond(ctx, log, responseURL, op.ChannelID, op.RequestedBy, cannotPostText(op.ChannelID))
			return
		}
		log.Error().Err(err).Msg("post confirmation")
		b.respond(ctx, log, responseURL, op.ChannelID, op.RequestedBy, "The bot could not post the confirmation message, so nothing will be stopped. Please try again.")
		return
	}
	if err := b.h.Attach(ctx, op.ID, op.ChannelID, ts); err != nil {
		log.Error().Err(err).Msg("record confirmation message")
		return
	}
	op.MessageTS = ts
	b.audit.event(auditRequested, op, op.RequestedBy).Str("message_ts", ts).Str("state", string(op.StatusAtRequest)).
		Bool("production", op.Production).Bool("protected", op.Protected).Msg("stop requested")
}

// bookkeepingTimeout bounds the store writes and the answer to the user that follow a Slack call.
const bookkeepingTimeout = 5 * time.Second

// afterwards returns a fresh, short context for the bookkeeping after a call made under ctx: it
// keeps ctx's values but not its deadline or cancellation.
func afterwards(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
}

func cannotPostText(channelID string) string {
	if len(channelID) > 0 && channelID[0] == 'D' {
		return "The bot cannot post in this direct message. Run `" + commands.CommandName + " stop` in a channel where the bot is a member, so the team can see the stop."
	}
	return "The bot is not a member of this channel, so it cannot post the confirmation. Invite it with `/invite @Qovery` (or the app's name in your workspace) and run the command again. Nothing was stopped."
}

// handleInteraction handles button clicks under workCtx; a watch it starts runs under ctx.
func (b *Bot) handleInteraction(ctx, workCtx context.Context, envelopeID string, cb slack.InteractionCallback) {
	wctx, cancel := b.workContext(workCtx)
	defer cancel()
	if who := interactionActor(cb); !b.admit(who) {
		log := b.log.With().Str("envelope_id", envelopeID).Str("slack_user", cb.User.ID).Str("channel", cb.Channel.ID).Logger()
		op := commands.Operation{}
		for _, action := range cb.ActionCallback.BlockActions {
			if ref, err := commands.ParseActionRef(action.Value); err == nil {
				op, _ = b.h.Operation(wctx, ref.OperationID)
				break
			}
		}
		b.refuseForeign(wctx, log, who, op, cb.ResponseURL, cb.Channel.ID)
		return
	}
	for _, action := range cb.ActionCallback.BlockActions {
		log := b.log.With().Str("envelope_id", envelopeID).Str("slack_user", cb.User.ID).
			Str("channel", cb.Channel.ID).Str("action_id", action.ActionID).Logger()
		switch action.ActionID {
		case commands.ActionConfirm, commands.ActionCancel, commands.ActionRetry, commands.ActionFollowUp:
		default:
			log.Debug().Msg("unknown action ignored")
			continue
		}
		ref, err := commands.ParseActionRef(action.Value)
		if err != nil {
			// Not a value this bot wrote: refuse it, and say so in the audit trail.
			b.audit.denied(commands.Operation{}, cb.User.ID, cb.Channel.ID, "malformed_button_value")
			b.respond(wctx, log, cb.ResponseURL, cb.Channel.ID, cb.User.ID, "This button was not made by this bot, so it was ignored.")
			continue
		}
		log = log.With().Str("request_id", ref.OperationID.String()).Str("cluster_id", ref.ClusterID.String()).Logger()
		click := commands.Click{Ref: ref, UserID: cb.User.ID, ChannelID: cb.Channel.ID, MessageTS: cb.Container.MessageTs}
		var reply commands.Reply
		switch action.ActionID {
		case commands.ActionConfirm:
			reply, err = b.h.Confirm(wctx, click)
		case commands.ActionCancel:
			reply, err = b.h.Cancel(wctx, click)
		case commands.ActionRetry:
			reply, err = b.h.Retry(wctx, click)
		case commands.ActionFollowUp:
			reply, err = b.h.FollowUp(wctx, click)
		}
		b.afterClick(ctx, wctx, log, click, cb.ResponseURL, cb.TriggerID, reply, err)
	}
}

// afterClick carries out what the handler answered to a click or a modal submission.
func (b *Bot) afterClick(ctx, wctx context.Context, log zerolog.Logger, click commands.Click, responseURL, triggerID string, reply commands.Reply, err error) {
	if err != nil {
		b.refuse(wctx, log, responseURL, click.ChannelID, click.UserID, click.Ref, err)
		return
	}
	if reply.Confirm != nil {
		b.postConfirmation(wctx, log, responseURL, *reply.Confirm)
		return
	}
	if reply.TypeName != nil {
		if _, err := b.api.OpenViewContext(wctx, triggerID, typedConfirmationView(*reply.TypeName)); err != nil {
			log.Error().Err(err).Msg("open the typed confirmation")
			b.respond(wctx, log, responseURL, click.ChannelID, click.UserID, "The bot could not open the confirmation dialog (Slack allows 3 seconds for it). Click Stop cluster again.")
		}
		return
	}
	if reply.Text != "" {
		log.Info().Msg("click answered without action")
		b.respond(wctx, log, responseURL, click.ChannelID, click.UserID, reply.Text)
	}
	if reply.Watch != nil {
		b.startWatch(ctx, reply.Watch)
	}
}

// refuse shows the clicker why nothing happened, auditing denials.
func (b *Bot) refuse(ctx context.Context, log zerolog.Logger, responseURL, channelID, userID string, ref commands.ActionRef, err error) {
	var denied *commands.DeniedError
	if errors.As(err, &denied) {
		op, _ := b.h.Operation(ctx, ref.OperationID)
		b.audit.denied(op, userID, channelID, denied.Reason)
	}
	b.respondError(ctx, log, responseURL, channelID, userID, err)
}

// handleViewSubmission answers the typed confirmation of a protected stop. The name is checked
// before the ack, because a wrong name is refused in the ack itself (response_action: errors); that
// check reads only the bot's store. The stop itself runs after the ack.
func (b *Bot) handleViewSubmission(ctx, workCtx context.Context, evt socketmode.Event, cb slack.InteractionCallback) {
	log := b.log.With().Str("envelope_id", evt.Request.EnvelopeID).Str("slack_user", cb.User.ID).Logger()
	ref, refErr := commands.ParseActionRef(cb.View.PrivateMetadata)
	typed := cb.View.State.Values[typedNameBlock][typedNameAction].Value
	var problem string
	who := interactionActor(cb)
	foreign := !b.admit(who)
	switch {
	case foreign:
		problem = foreignText
	case refErr != nil:
		problem = "This dialog was not made by this bot. Close it and run the command again."
	default:
		lookupCtx, cancel := context.WithTimeout(workCtx, time.Second)
		p, err := b.h.TypedNameProblem(lookupCtx, ref, typed)
		cancel()
		switch {
		case err != nil:
			log.Error().Err(err).Msg("check typed cluster name")
			problem = "The bot could not check the name. Try again."
		default:
			problem = p
		}
	}
	if problem != "" {
		b.handling.Add(1)
		defer b.handling.Add(-1)
		b.sendAck(evt, slack.NewErrorsViewSubmissionResponse(map[string]string{typedNameBlock: problem}))
		op := commands.Operation{}
		if refErr == nil {
			op, _ = b.h.Operation(workCtx, ref.OperationID)
		}
		reason := "typed_name_mismatch"
		if foreign {
			reason = foreignReason
			log.Warn().Str("actor_team_id", who.teamID).Str("actor_enterprise_id", who.enterpriseID).Msg("refused a member of another organization")
		}
		b.audit.denied(op, cb.User.ID, op.ChannelID, reason)
		return
	}
	b.handling.Add(1)
	b.sendAck(evt)
	b.goWork(func() {
		defer b.handling.Add(-1)
		if !b.firstSight(evt.Request.EnvelopeID) {
			return // a redelivery: the first delivery's answer stands
		}
		wctx, cancel := b.workContext(workCtx)
		defer cancel()
		op, err := b.h.Operation(wctx, ref.OperationID)
		if err != nil {
			log.Error().Err(err).Msg("load operation")
			return
		}
		click := commands.Click{Ref: ref, UserID: cb.User.ID, ChannelID: op.ChannelID, MessageTS: op.MessageTS, Typed: true, TypedName: typed}
		reply, err := b.h.Confirm(wctx, click)
		log = log.With().Str("request_id", ref.OperationID.String()).Str("cluster_id", ref.ClusterID.String()).Logger()
		b.afterClick(ctx, wctx, log, click, "", "", reply, err)
	})
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
		log.Warn().Err(withoutResponseURL(err, responseURL)).Msg("reply through response_url failed; trying chat.postEphemeral")
	}
	if _, err := b.api.PostEphemeralContext(ctx, channelID, userID, opts...); err != nil {
		b.cfg.AuthFailures.check(err)
		log.Error().Err(err).Msg("reply to user failed")
	}
}

func (b *Bot) opLog(op commands.Operation) zerolog.Logger {
	return b.log.With().Str("request_id", op.ID.String()).Str("cluster_id", op.ClusterID.String()).
		Str("org_id", op.OrganizationID.String()).Str("channel", op.ChannelID).Logger()
}
