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
	what := commands.ScheduleText(r, m.At)
	id := commands.Code(r.ID)
	unschedule := commands.Code(commands.CommandName + " unschedule " + r.ID)
	at := commands.FormatRun(m.At, r)
	var headline commands.Text
	var more []slack.Block
	switch m.Kind {
	case commands.ScheduleAsk:
		create := slack.NewButtonBlockElement(commands.ActionScheduleCreate, m.Value,
			slack.NewTextBlockObject(slack.PlainTextType, "Create schedule", false, false)).WithStyle(slack.StylePrimary)
		cancel := slack.NewButtonBlockElement(commands.ActionScheduleCancel, m.Value,
			slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
		headline = say(icon("calendar"), " Create this schedule? ", what)
		body := say("Each run is a "+string(r.Verb)+" like one confirmed by hand, posted here as scheduled by ", commands.User(r.CreatedBy),
			", with a heads-up before it that lets anyone allowed skip that run.")
		if r.Protected {
			body = say(body, "\n", icon("lock"), " Protected cluster: creating the schedule asks for its name.")
		}
		more = []slack.Block{
			richText(body),
			slack.NewActionBlock("schedule_actions", create, cancel),
			richText(say("Requested by ", commands.User(r.CreatedBy), " · expires in "+humanTTL(ttl)+" · schedule ", id)),
		}
	case commands.ScheduleCreated:
		headline = say(icon("calendar"), " Schedule ", id, " created. ", what)
		more = []slack.Block{richText(say("Requested by ", commands.User(r.CreatedBy), " · created by ", commands.User(r.ConfirmedBy), " · ",
			unschedule, " removes it"))}
	case commands.ScheduleAskCancelled:
		headline = say(icon("no_entry_sign"), " Schedule request cancelled by ", commands.User(m.By), "; nothing was scheduled.")
	case commands.ScheduleAskExpired:
		headline = say(icon("no_entry_sign"), " Schedule request expired: nobody created it within "+humanTTL(ttl)+". Nothing was scheduled.")
	case commands.ScheduleHeadsUp:
		skip := slack.NewButtonBlockElement(commands.ActionScheduleSkip, m.Value,
			slack.NewTextBlockObject(slack.PlainTextType, "Skip this time", false, false))
		headline = say(icon("alarm_clock"), " Heads-up: ", commands.Strong(r.ClusterName), " will be "+pastOf(r.Verb)+" at "+at+" (schedule ", id,
			" by ", commands.User(r.CreatedBy), ").")
		more = []slack.Block{
			slack.NewActionBlock("heads_up_actions", skip),
			richText(say("Skip this time skips only this run; the schedule stays. ", unschedule, " removes it.")),
		}
	case commands.ScheduleHeadsUpDone:
		headline = say(icon("alarm_clock"), " Heads-up: ", commands.Strong(r.ClusterName), " was due to be "+pastOf(r.Verb)+" at "+at+" (schedule ", id,
			" by ", commands.User(r.CreatedBy), "); what came of it is below.")
	case commands.ScheduleSkipped:
		headline = say(icon("fast_forward"), " Skipped by ", commands.User(m.By), ": ", commands.Strong(r.ClusterName), " will not be "+pastOf(r.Verb)+
			" at "+at+" (schedule ", id, ").")
	default:
		headline = say("Schedule ", id, ": ", what)
	}
	// The notification shows the first line.
	return append([]slack.Block{richText(headline)}, more...), fallback(headline)
}

// pastOf is what a scheduled verb does to a cluster: "stopped", "started".
func pastOf(v commands.Verb) string {
	return wordsOf(commands.Operation{Verb: v}).past
}
