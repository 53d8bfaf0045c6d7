package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Slack refuses a section text over 3,000 characters.
const maxSectionText = 3000

// textBlocks renders mrkdwn as section blocks, splitting long text on line boundaries.
func textBlocks(text string) []slack.Block {
	var blocks []slack.Block
	var chunk strings.Builder
	flush := func() {
		if chunk.Len() > 0 {
			blocks = append(blocks, section(chunk.String()))
			chunk.Reset()
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if len(line) > maxSectionText {
			line = line[:maxSectionText-1] + "…"
		}
		if chunk.Len()+len(line)+1 > maxSectionText {
			flush()
		}
		if chunk.Len() > 0 {
			chunk.WriteByte('\n')
		}
		chunk.WriteString(line)
	}
	flush()
	return blocks
}

func section(mrkdwn string) *slack.SectionBlock {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, mrkdwn, false, false), nil, nil)
}

func contextLine(mrkdwn string) *slack.ContextBlock {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, mrkdwn, false, false))
}

func clusterRef(op commands.Operation) string { return "*" + escape(op.ClusterName) + "*" }

func stateCode(s fmt.Stringer) string {
	if s.String() == "" {
		return "`UNKNOWN`"
	}
	return codeSpan(s.String())
}

// wording is how messages name an operation's verb.
type wording struct {
	title, gerund, noun, past string // "Stop cluster", "Stopping", "stop", "stopped"
	style                     slack.Style
	effect                    string // what confirming does, in one sentence
	followUp                  string // the button on a successful final message
}

func wordsOf(op commands.Operation) wording {
	if op.Action() == commands.VerbUnlock {
		return wording{title: "Unlock cluster", gerund: "Unlocking", noun: "unlock", past: "unlocked", style: slack.StylePrimary,
			effect: "Unlocking lets stops, starts and deployments of this cluster go ahead again."}
	}
	if op.Action() == commands.VerbStart {
		return wording{title: "Start cluster", gerund: "Starting", noun: "start", past: "started", style: slack.StylePrimary,
			effect:   "Starting deploys the cluster again; it takes several minutes before environments can run on it.",
			followUp: "Stop"}
	}
	return wording{title: "Stop cluster", gerund: "Stopping", noun: "stop", past: "stopped", style: slack.StyleDanger,
		effect:   "Stopping shuts down every environment running on this cluster until it is started again.",
		followUp: "Start again"}
}

// confirmationBlocks is the message that asks the requester to confirm a stop or a start.
func confirmationBlocks(op commands.Operation, ttl time.Duration) []slack.Block {
	w := wordsOf(op)
	confirm := slack.NewButtonBlockElement(commands.ActionConfirm, op.Ref().String(),
		slack.NewTextBlockObject(slack.PlainTextType, w.title, false, false)).WithStyle(w.style)
	cancel := slack.NewButtonBlockElement(commands.ActionCancel, op.Ref().String(),
		slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
	details := fmt.Sprintf("Requested by %s · %s %s · currently %s · production: %s",
		mention(op.RequestedBy), escape(op.CloudProvider), escape(op.Region),
		stateCode(op.StatusAtRequest), yesNo(op.Production))
	body := details + "\n" + w.effect
	if op.Protected {
		body += "\n:lock: Protected cluster: confirming asks for its name."
		if op.NeedsSecondPerson {
			body += " A second person must confirm: not " + mention(op.RequestedBy) + "."
		}
	}
	what := mrkdwn(commands.ImpactText(op.Impact, op.Action()))
	if op.Action() == commands.VerbUnlock {
		what = lockLine(op.Lock)
	}
	return []slack.Block{
		section(":warning: " + w.title + " " + clusterRef(op) + "?"),
		section(body),
		section(what),
		slack.NewActionBlock("confirm_actions", confirm, cancel),
		contextLine(fmt.Sprintf("Expires in %s · request %s", humanTTL(ttl), op.ID.String()[:8])),
	}
}

// lockLine describes the lock an unlock removes.
func lockLine(l *qovery.ClusterLock) string {
	if l == nil {
		return ":lock: The cluster was locked when this was asked."
	}
	return mrkdwn(commands.LockText(l))
}

func confirmationFallback(op commands.Operation) string {
	return fmt.Sprintf("%s asks to %s cluster %s (currently %s). Confirm or cancel in Slack.",
		mention(op.RequestedBy), wordsOf(op).noun, escape(op.ClusterName), escape(string(op.StatusAtRequest)))
}

func humanTTL(d time.Duration) string {
	if d%time.Minute == 0 && d >= time.Minute {
		n := int(d / time.Minute)
		if n == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", n)
	}
	return d.String()
}

func yesNo(b bool) string {
	if b {
		return "*yes*"
	}
	return "no"
}

// parentBlocks is the live view of an operation that replaces the confirmation message.
func parentBlocks(op commands.Operation, now time.Time) ([]slack.Block, string) {
	name := clusterRef(op)
	w := wordsOf(op)
	var headline string
	switch op.Phase {
	case commands.PhaseConfirmed:
		headline = fmt.Sprintf(":hourglass_flowing_sand: %s %s · checking the cluster and asking Qovery", w.gerund, name)
	case commands.PhaseWatching:
		headline = fmt.Sprintf("%s %s %s · %s · %s", stateIcon(op.State), w.gerund, name, stateCode(op.State), commands.FormatDuration(op.Elapsed(now)))
	case commands.PhaseSucceeded:
		if op.Action() == commands.VerbUnlock {
			headline = fmt.Sprintf(":unlock: %s is unlocked", name)
			break
		}
		headline = fmt.Sprintf(":white_check_mark: %s is %s · took %s", name, stateCode(op.State), commands.FormatDuration(op.Elapsed(now)))
	case commands.PhaseFailed:
		headline = fmt.Sprintf(":x: %s %s failed · %s · <%s|See logs in Qovery>", name, w.noun, stateCode(op.State), op.ConsoleURL)
	case commands.PhaseNotStarted:
		headline = fmt.Sprintf(":hourglass_flowing_sand: %s %s did not take effect · %s", name, w.noun, stateCode(op.State))
	case commands.PhaseTimedOut:
		headline = fmt.Sprintf(":hourglass_flowing_sand: %s still %s after %s · stopped watching", name, stateCode(op.State), commands.FormatDuration(op.Elapsed(now)))
	case commands.PhaseAborted:
		headline = fmt.Sprintf(":warning: %s %s · last seen %s · the bot stopped watching", w.gerund, name, stateCode(op.State))
	case commands.PhaseVoid:
		headline = fmt.Sprintf(":no_entry_sign: %s was not %s", name, w.past)
	case commands.PhaseRejected:
		headline = fmt.Sprintf(":x: %s was not %s: the %s call failed", name, w.past, w.noun)
	case commands.PhaseCancelled:
		headline = fmt.Sprintf(":no_entry_sign: %s of %s cancelled by %s", capitalize(w.noun), name, mention(op.FinishedBy))
	case commands.PhaseExpired:
		headline = fmt.Sprintf(":no_entry_sign: %s of %s expired: nobody confirmed within %s. Run %s again if it is still needed.",
			capitalize(w.noun), name, humanTTL(op.ExpiresAt.Sub(op.RequestedAt)), codeSpan(commands.CommandName+" "+string(op.Action())+" "+op.ClusterName))
	default:
		headline = fmt.Sprintf("%s of %s · %s", capitalize(w.noun), name, op.Phase)
	}
	who := "Requested by " + mention(op.RequestedBy)
	if r := op.Schedule; r != nil {
		who = fmt.Sprintf("Scheduled by %s · schedule %s, %s", mention(op.RequestedBy), codeSpan(r.ID), escape(r.When))
		if r.Late > 0 {
			who += fmt.Sprintf(" · ran %s late: the bot was not running at %s", commands.FormatDuration(r.Late), r.LocalAt())
		}
	} else if op.ConfirmedBy != "" {
		who += fmt.Sprintf(" · confirmed by %s at %s", mention(op.ConfirmedBy), commands.FormatTime(op.ConfirmedAt))
	}
	if op.ConsoleURL != "" {
		who += " · <" + op.ConsoleURL + "|Open in Qovery>"
	}
	blocks := []slack.Block{section(headline)}
	if !op.Note.IsZero() {
		blocks = append(blocks, section(mrkdwn(op.Note)))
	}
	blocks = append(blocks, contextLine(who))
	return blocks, slackToPlain(headline)
}

// threadLine is the thread reply for an event, or "" when the event only changes the parent.
func threadLine(op commands.Operation, ev commands.Event) string {
	people := mention(op.RequestedBy)
	if op.ConfirmedBy != "" && op.ConfirmedBy != op.RequestedBy {
		people += " " + mention(op.ConfirmedBy)
	}
	elapsed := commands.FormatDuration(op.Elapsed(ev.At))
	switch ev.Kind {
	case commands.EventAccepted:
		return fmt.Sprintf(":inbox_tray: Qovery accepted the %s · %s", wordsOf(op).noun, stateCode(ev.State))
	case commands.EventState:
		return fmt.Sprintf("%s %s · %s", stateIcon(ev.State), stateCode(ev.State), elapsed)
	case commands.EventSucceeded:
		if op.Action() == commands.VerbUnlock {
			return ":unlock: Unlocked · " + people
		}
		return fmt.Sprintf(":white_check_mark: %s after %s · %s", stateCode(ev.State), elapsed, people)
	case commands.EventFailed:
		lines := []string{
			fmt.Sprintf(":x: %s after %s · %s", stateCode(ev.State), elapsed, people),
			mrkdwn(op.Note),
		}
		if op.Failure != nil {
			lines = append(lines, mrkdwn(commands.FailureText(*op.Failure)))
		}
		if op.LastExecutionID != "" {
			lines = append(lines, "Execution id: "+codeSpan(op.LastExecutionID))
		}
		lines = append(lines, "<"+op.ConsoleURL+"|See the cluster and its logs in Qovery>")
		return strings.Join(lines, "\n")
	case commands.EventNotStarted, commands.EventTimedOut, commands.EventAborted:
		return fmt.Sprintf(":hourglass_flowing_sand: %s %s", mrkdwn(op.Note), people)
	case commands.EventVoided:
		return fmt.Sprintf(":no_entry_sign: %s %s", mrkdwn(op.Note), people)
	case commands.EventRejected:
		return fmt.Sprintf(":x: %s %s", mrkdwn(op.Note), people)
	case commands.EventQoveryUnreachable:
		return fmt.Sprintf(":hourglass_flowing_sand: The Qovery API has not answered for %s; still watching. Last state seen: %s.",
			commands.FormatDuration(ev.At.Sub(op.OutageSince)), stateCode(op.State))
	case commands.EventQoveryBack:
		return fmt.Sprintf(":arrows_counterclockwise: The Qovery API answers again, after %s; still watching.", commands.FormatDuration(ev.At.Sub(ev.Since)))
	}
	return ""
}

// slackToPlain drops mrkdwn emphasis from a headline for the notification fallback text.
func slackToPlain(s string) string {
	return strings.NewReplacer("*", "", "`", "").Replace(s)
}

// The typed confirmation modal of a protected cluster.
const (
	typedConfirmationCallback = "qovery_typed_confirmation"
	typedNameBlock            = "cluster_name"
	typedNameAction           = "typed_name"
)

// typedConfirmationView asks for the cluster's name before a protected cluster is stopped or started. Its
// private_metadata is the operation's reference, checked again on submission.
func typedConfirmationView(ask commands.NameAsk) slack.ModalViewRequest {
	op := commands.Operation{Verb: ask.Verb, ClusterName: ask.ClusterName}
	input := slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, op.ClusterName, false, false), typedNameAction)
	why := "it is marked production in Qovery"
	if !ask.Production {
		why = "its name is in QOVERY_BOT_PROTECTED_CLUSTERS"
	}
	title, effect := wordsOf(op).title, wordsOf(op).effect
	if ask.Schedule {
		title, effect = "Create schedule", "The schedule will "+wordsOf(op).noun+" it at the set times until removed."
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      typedConfirmationCallback,
		PrivateMetadata: ask.Value,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Back", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(fmt.Sprintf(":warning: %s is protected: %s. %s", clusterRef(op), why, effect)),
			slack.NewInputBlock(typedNameBlock,
				slack.NewTextBlockObject(slack.PlainTextType, "Type the cluster name to confirm", false, false),
				slack.NewTextBlockObject(slack.PlainTextType, "Exactly as Qovery names it: "+op.ClusterName, false, false),
				input),
		}},
	}
}

// threadBlocks renders a thread reply; the final reply of a stop call Qovery did not take offers to
// try again.
func threadBlocks(op commands.Operation, ev commands.Event, line string) []slack.Block {
	blocks := textBlocks(line)
	switch {
	case (ev.Kind == commands.EventRejected || ev.Kind == commands.EventFailed) && op.Retryable:
		retry := slack.NewButtonBlockElement(commands.ActionRetry, op.Ref().String(),
			slack.NewTextBlockObject(slack.PlainTextType, "Try again", false, false))
		blocks = append(blocks, slack.NewActionBlock("retry_actions", retry))
	case ev.Kind == commands.EventSucceeded && wordsOf(op).followUp != "":
		next := slack.NewButtonBlockElement(commands.ActionFollowUp, op.Ref().String(),
			slack.NewTextBlockObject(slack.PlainTextType, wordsOf(op).followUp, false, false))
		blocks = append(blocks, slack.NewActionBlock("follow_up_actions", next))
	}
	return blocks
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
