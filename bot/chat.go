package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// Chat speaks to people in Slack for the handler: it posts confirmations, shows operation events
// (a thread reply under the confirmation message when the event deserves one, and the message
// itself edited into the live view), answers one person at a time, and opens the typed-name
// dialog. It implements commands.Chat; everything it shows is rendered here, from the handler's
// values.
type Chat struct {
	api  *slack.Client
	log  zerolog.Logger
	pace *pacer
	auth *AuthFailures
	now  func() time.Time
	// confirmTTL is shown on confirmation messages ("expires in 10 minutes").
	confirmTTL time.Duration
}

var _ commands.Chat = (*Chat)(nil)

// NewChat returns a Chat posting with api, with at least pacing between two posts to one channel
// (0 for none), showing confirmTTL on confirmations, and telling auth when Slack rejects the token.
func NewChat(api *slack.Client, log zerolog.Logger, pacing, confirmTTL time.Duration, auth *AuthFailures) *Chat {
	if confirmTTL <= 0 {
		confirmTTL = commands.DefaultConfirmTTL
	}
	return &Chat{api: api, log: log, pace: newPacer(pacing), auth: auth, now: time.Now, confirmTTL: confirmTTL}
}

// Permalink implements commands.Chat with chat.getPermalink.
func (n *Chat) Permalink(ctx context.Context, channelID, ts string) (string, error) {
	return n.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channelID, Ts: ts})
}

// PostConfirmation implements commands.Chat with chat.postMessage in the operation's channel: the
// confirmation of a pending operation, or the live view of one that needs none (a scheduled run).
func (n *Chat) PostConfirmation(ctx context.Context, op commands.Operation) (string, error) {
	blocks, fallback := confirmationBlocks(op, n.confirmTTL), confirmationFallback(op)
	if op.Phase != commands.PhasePending {
		blocks, fallback = parentBlocks(op, n.now())
	}
	_, ts, err := n.api.PostMessageContext(ctx, op.ChannelID,
		slack.MsgOptionText(fallback, false),
		slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return "", n.postFailed("post the confirmation", err)
	}
	return ts, nil
}

// postFailed is the error of a chat.postMessage in a channel: [commands.ErrCannotPost] when the
// channel does not take the bot's messages. A revoked token is noted on the way.
func (n *Chat) postFailed(doing string, err error) error {
	n.auth.check(err)
	var serr slack.SlackErrorResponse
	if errors.As(err, &serr) && (serr.Err == "not_in_channel" || serr.Err == "channel_not_found") {
		return fmt.Errorf("%w (%s)", commands.ErrCannotPost, serr.Err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// Announce implements commands.Chat with chat.postMessage.
func (n *Chat) Announce(ctx context.Context, channelID string, said commands.Text) error {
	if err := n.pace.wait(ctx, channelID); err != nil {
		return err
	}
	_, _, err := n.api.PostMessageContext(ctx, channelID, slack.MsgOptionText(fallback(said), false), slack.MsgOptionBlocks(textBlocks(said)...))
	if err != nil {
		return n.postFailed("post in "+channelID, err)
	}
	return nil
}

// AskTypedName implements commands.Chat with views.open.
func (n *Chat) AskTypedName(ctx context.Context, trigger string, ask commands.NameAsk) error {
	_, err := n.api.OpenViewContext(ctx, trigger, typedConfirmationView(ask))
	return err
}

// Tell implements commands.Chat. The interaction's response_url works in every channel and DM
// without membership; chat.postEphemeral is the fallback.
func (n *Chat) Tell(ctx context.Context, to commands.Actor, said commands.Text) error {
	log := n.log.With().Str("slack_user", to.UserID).Str("channel", to.ChannelID).Logger()
	opts := []slack.MsgOption{
		slack.MsgOptionText(mrkdwn(said), false),
		slack.MsgOptionBlocks(textBlocks(said)...),
	}
	if to.ReplyTo != "" {
		_, _, err := n.api.PostMessageContext(ctx, to.ChannelID, append(opts, slack.MsgOptionResponseURL(to.ReplyTo, slack.ResponseTypeEphemeral))...)
		if err == nil {
			return nil
		}
		log.Warn().Err(withoutResponseURL(err, to.ReplyTo)).Msg("reply through response_url failed; trying chat.postEphemeral")
	}
	if _, err := n.api.PostEphemeralContext(ctx, to.ChannelID, to.UserID, opts...); err != nil {
		n.auth.check(err)
		log.Error().Err(err).Msg("reply to user failed")
		return err
	}
	return nil
}

// noticeEventType marks the bot's thread replies (message metadata), so that after a crash the bot
// can tell which of its notices reached the thread.
const noticeEventType = "qovery_bot_notice"

// Notify implements commands.Chat.
func (n *Chat) Notify(ctx context.Context, op commands.Operation, notice commands.Notice) error {
	ev := notice.Event
	if op.MessageTS == "" {
		return nil // the confirmation was never posted: nothing to edit, no thread
	}
	log := n.log.With().Str("request_id", op.ID.String()).Str("cluster_id", op.ClusterID.String()).
		Str("org_id", op.OrganizationID.String()).Str("channel", op.ChannelID).Str("event", string(ev.Kind)).Logger()

	// Only the thread reply decides success: it is the part that must appear exactly once. The parent
	// is re-rendered from the operation on every notice, so a failed edit heals with the next one.
	if line := threadLine(op, ev); !line.IsZero() {
		if err := n.pace.wait(ctx, op.ChannelID); err != nil {
			return err
		}
		if _, _, err := n.api.PostMessageContext(ctx, op.ChannelID,
			slack.MsgOptionTS(op.MessageTS),
			slack.MsgOptionText(fallback(line), false),
			slack.MsgOptionBlocks(threadBlocks(op, ev, line)...),
			slack.MsgOptionMetadata(slack.SlackMetadata{EventType: noticeEventType, EventPayload: map[string]any{
				"request_id": op.ID.String(), "seq": notice.Seq,
			}})); err != nil {
			n.auth.check(err)
			log.Error().Err(err).Msg("post thread reply")
			return err
		}
	}
	if laterPending(op, notice) {
		// More notices are queued behind this one: each gets its thread line, but the parent is
		// edited once, by the last, with the latest state (chat.update has its own rate limit).
		return nil
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
		}
	}
	return nil
}

// Delivered implements commands.Chat: it looks for the notice's thread reply, by its metadata.
// A notice without a thread reply only edits the parent, which is safe to repeat.
func (n *Chat) Delivered(ctx context.Context, op commands.Operation, notice commands.Notice) (bool, error) {
	if op.MessageTS == "" || threadLine(op, notice.Event).IsZero() {
		return false, nil
	}
	msgs, _, _, err := n.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: op.ChannelID, Timestamp: op.MessageTS, IncludeAllMetadata: true, Limit: 200,
	})
	if err != nil {
		return false, fmt.Errorf("read the thread of %s: %w", op.ID, err)
	}
	for _, m := range msgs {
		if m.Metadata.EventType != noticeEventType {
			continue
		}
		if m.Metadata.EventPayload["request_id"] == op.ID.String() && fmt.Sprint(m.Metadata.EventPayload["seq"]) == fmt.Sprint(notice.Seq) {
			return true, nil
		}
	}
	return false, nil
}

// laterPending reports whether op has notices queued after n.
func laterPending(op commands.Operation, n commands.Notice) bool {
	for _, later := range op.Notices {
		if later.Seq > n.Seq && later.State == commands.NoticePending {
			return true
		}
	}
	return false
}
