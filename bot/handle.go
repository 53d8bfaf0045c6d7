package bot

import (
	"context"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// The envelopes, turned into the handler's values. Whatever the handler decides, it says through
// the Chat; these functions only log what it returns.

func (b *Bot) handleSlash(workCtx context.Context, envelopeID string, cmd slack.SlashCommand) {
	reqID := uuid.New()
	log := b.log.With().Str("request_id", reqID.String()).Str("envelope_id", envelopeID).
		Str("slack_user", cmd.UserID).Str("channel", cmd.ChannelID).Logger()
	ctx, cancel := b.workContext(workCtx)
	defer cancel()
	by := commands.Actor{UserID: cmd.UserID, ChannelID: cmd.ChannelID, ReplyTo: cmd.ResponseURL}
	if cmd.Command != commands.CommandName {
		log.Warn().Str("command", cmd.Command).Msg("unexpected slash command")
		_ = b.chat.Tell(ctx, by, commands.Say("This app only answers ", commands.Code(commands.CommandName), "."))
		return
	}
	log.Info().Int("text_len", len(cmd.Text)).Msg("slash command")
	if who := slashActor(cmd); !b.admit(who) {
		parsed, _ := commands.Parse(cmd.Text)
		b.refuseForeign(ctx, log, who, commands.Operation{ID: reqID, OrganizationID: b.cfg.OrganizationID, Verb: parsed.Verb}, by)
		return
	}
	logOutcome(log, b.h.Handle(ctx, commands.Request{ID: reqID, By: by, Text: cmd.Text}))
}

// handleInteraction hands each button of a block_actions payload to the handler.
func (b *Bot) handleInteraction(workCtx context.Context, envelopeID string, cb slack.InteractionCallback) {
	ctx, cancel := b.workContext(workCtx)
	defer cancel()
	if who := interactionActor(cb); !b.admit(who) {
		log := b.log.With().Str("envelope_id", envelopeID).Str("slack_user", cb.User.ID).Str("channel", cb.Channel.ID).Logger()
		var op commands.Operation
		for _, action := range cb.ActionCallback.BlockActions {
			if ref, err := commands.ParseActionRef(action.Value); err == nil {
				op.ID, op.ClusterID, op.OrganizationID = ref.OperationID, ref.ClusterID, b.cfg.OrganizationID
				break
			}
		}
		b.refuseForeign(ctx, log, who, op, commands.Actor{UserID: cb.User.ID, ChannelID: cb.Channel.ID, ReplyTo: cb.ResponseURL})
		return
	}
	for _, action := range cb.ActionCallback.BlockActions {
		log := b.log.With().Str("envelope_id", envelopeID).Str("slack_user", cb.User.ID).
			Str("channel", cb.Channel.ID).Str("action_id", action.ActionID).Logger()
		logOutcome(log, b.h.Click(ctx, commands.Click{
			Action: action.ActionID, Value: action.Value,
			By:        commands.Actor{UserID: cb.User.ID, ChannelID: cb.Channel.ID, ReplyTo: cb.ResponseURL},
			MessageTS: cb.Container.MessageTs, Trigger: cb.TriggerID,
		}))
	}
}

// handleViewSubmission answers the typed confirmation of a protected operation. The name is
// checked before the ack, because a wrong name is refused in the ack itself (response_action:
// errors); that check reads only the bot's store. The operation itself goes on after the ack.
func (b *Bot) handleViewSubmission(workCtx context.Context, evt socketmode.Event, cb slack.InteractionCallback) {
	log := b.log.With().Str("envelope_id", evt.Request.EnvelopeID).Str("slack_user", cb.User.ID).Logger()
	sub := commands.Submission{
		Value: cb.View.PrivateMetadata,
		By:    commands.Actor{UserID: cb.User.ID},
		Typed: cb.View.State.Values[typedNameBlock][typedNameAction].Value,
	}
	b.handling.Add(1)
	if who := interactionActor(cb); !b.admit(who) {
		defer b.handling.Add(-1)
		b.sendAck(evt, slack.NewErrorsViewSubmissionResponse(map[string]string{typedNameBlock: foreignText}))
		log.Warn().Str("actor_team_id", who.teamID).Str("actor_enterprise_id", who.enterpriseID).Msg("refused a member of another organization")
		var op commands.Operation
		if ref, err := commands.ParseActionRef(sub.Value); err == nil {
			op.ID, op.ClusterID, op.OrganizationID = ref.OperationID, ref.ClusterID, b.cfg.OrganizationID
		}
		b.audit.Denied(op, sub.By, foreignReason)
		return
	}
	if problem := b.h.CheckTypedName(workCtx, sub); problem != "" {
		defer b.handling.Add(-1)
		b.sendAck(evt, slack.NewErrorsViewSubmissionResponse(map[string]string{typedNameBlock: problem}))
		log.Info().Msg("typed name refused")
		return
	}
	b.sendAck(evt)
	b.goWork(func() {
		defer b.handling.Add(-1)
		if !b.firstSight(evt.Request.EnvelopeID) {
			return // a redelivery: the first delivery's answer stands
		}
		ctx, cancel := b.workContext(workCtx)
		defer cancel()
		logOutcome(log, b.h.SubmitTypedName(ctx, sub))
	})
}

// logOutcome logs what the handler returned: a refusal it explained, or a fault of the bot.
func logOutcome(log zerolog.Logger, err error) {
	switch {
	case err == nil:
	case commands.Expected(err):
		log.Info().Err(err).Msg("request refused")
	default:
		log.Error().Err(err).Msg("request failed")
	}
}
