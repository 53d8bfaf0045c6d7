package bot

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// Notifier shows operation events in Slack: a thread reply under the confirmation message when the
// event deserves one, and the confirmation message itself edited into the live view. It also writes
// the audit log line of each step. It implements commands.Notifier.
type Notifier struct {
	api   *slack.Client
	log   zerolog.Logger
	audit *Auditor
	now   func() time.Time
}

// NewNotifier returns a Notifier posting with api and auditing to audit.
func NewNotifier(api *slack.Client, log zerolog.Logger, audit *Auditor) *Notifier {
	return &Notifier{api: api, log: log, audit: audit, now: time.Now}
}

// Permalink implements commands.Notifier with chat.getPermalink.
func (n *Notifier) Permalink(ctx context.Context, channelID, ts string) (string, error) {
	return n.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channelID, Ts: ts})
}

// Notify implements commands.Notifier.
func (n *Notifier) Notify(ctx context.Context, op commands.Operation, ev commands.Event) error {
	n.audit.operationEvent(op, ev)
	if op.MessageTS == "" {
		return nil // the confirmation was never posted: nothing to edit, no thread
	}
	log := n.log.With().Str("request_id", op.ID.String()).Str("cluster_id", op.ClusterID.String()).
		Str("org_id", op.OrganizationID.String()).Str("channel", op.ChannelID).Str("event", string(ev.Kind)).Logger()

	var errs []error
	if line := threadLine(op, ev); line != "" {
		if _, _, err := n.api.PostMessageContext(ctx, op.ChannelID,
			slack.MsgOptionTS(op.MessageTS),
			slack.MsgOptionText(slackToPlain(line), false),
			slack.MsgOptionBlocks(textBlocks(line)...)); err != nil {
			log.Error().Err(err).Msg("post thread reply")
			errs = append(errs, err)
		}
	}
	blocks, fallback := parentBlocks(op, n.now())
	if _, _, _, err := n.api.UpdateMessageContext(ctx, op.ChannelID, op.MessageTS,
		slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		var serr slack.SlackErrorResponse
		if errors.As(err, &serr) && (serr.Err == "message_not_found" || serr.Err == "cant_update_message") {
			// Someone deleted the message (or it is no longer ours): keep the thread current instead.
			log.Warn().Str("slack_error", serr.Err).Msg("parent message cannot be edited; posting the status in the thread")
			_, _, err = n.api.PostMessageContext(ctx, op.ChannelID, slack.MsgOptionTS(op.MessageTS),
				slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
		}
		if err != nil {
			log.Error().Err(err).Msg("update parent message")
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
