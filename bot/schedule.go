package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// Messages about schedules: the confirmation of a new one, what replaces it once answered, and the
// heads-up before a run.

// PostSchedule implements commands.Chat with chat.postMessage in the schedule's channel.
func (n *Chat) PostSchedule(ctx context.Context, m commands.ScheduleMessage) (string, error) {
	blocks, fallback := scheduleBlocks(m, n.confirmTTL)
	if err := n.pace.wait(ctx, m.Schedule.ChannelID); err != nil {
		return "", err
	}
	_, ts, err := n.api.PostMessageContext(ctx, m.Schedule.ChannelID, slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return "", n.postFailed("post a schedule message", err)
	}
	return ts, nil
}

// EditSchedule implements commands.Chat with chat.update.
func (n *Chat) EditSchedule(ctx context.Context, ts string, m commands.ScheduleMessage) error {
	blocks, fallback := scheduleBlocks(m, n.confirmTTL)
	_, _, _, err := n.api.UpdateMessageContext(ctx, m.Schedule.ChannelID, ts, slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		n.auth.check(err)
		return fmt.Errorf("edit a schedule message: %w", err)
	}
	return nil
}

// scheduleBlocks renders a message about a schedule, and its notification text.
func scheduleBlocks(m commands.ScheduleMessage, ttl time.Duration) ([]slack.Block, string) {
	r := m.Schedule
	what := mrkdwn(commands.ScheduleText(r, m.At))
	id := codeSpan(r.ID)
	var blocks []slack.Block
	switch m.Kind {
	case commands.ScheduleAsk:
		create := slack.NewButtonBlockElement(commands.ActionScheduleCreate, m.Value,
			slack.NewTextBlockObject(slack.PlainTextType, "Create schedule", false, false)).WithStyle(slack.StylePrimary)
		cancel := slack.NewButtonBlockElement(commands.ActionScheduleCancel, m.Value,
			slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
		body := fmt.Sprintf("Each run is a %s like one confirmed by hand, posted here as scheduled by %s, with a heads-up before it that lets anyone allowed skip that run.",
			string(r.Verb), mention(r.CreatedBy))
		if r.Protected {
			body += "\n:lock: Protected cluster: creating the schedule asks for its name."
		}
		blocks = []slack.Block{
			section(":calendar: Create this schedule? " + what),
			section(body),
			slack.NewActionBlock("schedule_actions", create, cancel),
			contextLine(fmt.Sprintf("Requested by %s · expires in %s · schedule %s", mention(r.CreatedBy), humanTTL(ttl), id)),
		}
	case commands.ScheduleCreated:
		blocks = []slack.Block{
			section(":calendar: Schedule " + id + " created. " + what),
			contextLine(fmt.Sprintf("Requested by %s · created by %s · %s removes it", mention(r.CreatedBy), mention(r.ConfirmedBy),
				codeSpan(commands.CommandName+" unschedule "+r.ID))),
		}
	case commands.ScheduleAskCancelled:
		blocks = []slack.Block{section(fmt.Sprintf(":no_entry_sign: Schedule request cancelled by %s; nothing was scheduled.", mention(m.By)))}
	case commands.ScheduleAskExpired:
		blocks = []slack.Block{section(fmt.Sprintf(":no_entry_sign: Schedule request expired: nobody created it within %s. Nothing was scheduled.", humanTTL(ttl)))}
	case commands.ScheduleHeadsUp:
		skip := slack.NewButtonBlockElement(commands.ActionScheduleSkip, m.Value,
			slack.NewTextBlockObject(slack.PlainTextType, "Skip this time", false, false))
		blocks = []slack.Block{
			section(fmt.Sprintf(":alarm_clock: Heads-up: *%s* will be %s at %s (schedule %s by %s).", escape(r.ClusterName), pastOf(r.Verb),
				escape(commands.FormatRun(m.At, r)), id, mention(r.CreatedBy))),
			slack.NewActionBlock("heads_up_actions", skip),
			contextLine("Skip this time skips only this run; the schedule stays. " + codeSpan(commands.CommandName+" unschedule "+r.ID) + " removes it."),
		}
	case commands.ScheduleHeadsUpDone:
		blocks = []slack.Block{section(fmt.Sprintf(":alarm_clock: Heads-up: *%s* was due to be %s at %s (schedule %s by %s); what came of it is below.",
			escape(r.ClusterName), pastOf(r.Verb), escape(commands.FormatRun(m.At, r)), id, mention(r.CreatedBy)))}
	case commands.ScheduleSkipped:
		blocks = []slack.Block{section(fmt.Sprintf(":fast_forward: Skipped by %s: *%s* will not be %s at %s (schedule %s).", mention(m.By), escape(r.ClusterName),
			pastOf(r.Verb), escape(commands.FormatRun(m.At, r)), id))}
	}
	// The notification shows the first line.
	fallback := "Schedule " + r.ID + ": " + slackToPlain(what)
	if sec, ok := blocks[0].(*slack.SectionBlock); ok {
		fallback = slackToPlain(sec.Text.Text)
	}
	return blocks, fallback
}

// pastOf is what a scheduled verb does to a cluster: "stopped", "started".
func pastOf(v commands.Verb) string {
	return wordsOf(commands.Operation{Verb: v}).past
}
