package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// say is commands.Say, the one way this package builds what a message says.
func say(parts ...any) commands.Text { return commands.Say(parts...) }

func clusterRef(op commands.Operation) commands.Span { return commands.Strong(op.ClusterName) }

func stateCode(s fmt.Stringer) commands.Span {
	if s.String() == "" {
		return commands.Code("UNKNOWN")
	}
	return commands.Code(s.String())
}

func icon(name string) commands.Span { return commands.Icon(name) }

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
	body := say("Requested by ", commands.User(op.RequestedBy), " · "+op.CloudProvider+" "+op.Region+" · currently ",
		stateCode(op.StatusAtRequest), " · production: ", yesNo(op.Production), "\n"+w.effect)
	if op.Protected {
		body = say(body, "\n", icon("lock"), " Protected cluster: confirming asks for its name.")
		if op.NeedsSecondPerson {
			body = say(body, " A second person must confirm: not ", commands.User(op.RequestedBy), ".")
		}
	}
	what := commands.ImpactText(op.Impact, op.Action())
	if op.Action() == commands.VerbUnlock {
		what = lockLine(op.Lock)
	}
	return []slack.Block{
		richText(say(icon("warning"), " "+w.title+" ", clusterRef(op), "?")),
		richText(body),
		richText(what),
		slack.NewActionBlock("confirm_actions", confirm, cancel),
		contextLine(fmt.Sprintf("Expires in %s · request %s", humanTTL(ttl), op.ID.String()[:8])),
	}
}

// lockLine describes the lock an unlock removes.
func lockLine(l *qovery.ClusterLock) commands.Text {
	if l == nil {
		return say(icon("lock"), " The cluster was locked when this was asked.")
	}
	return commands.LockText(l)
}

func confirmationFallback(op commands.Operation) string {
	return fallback(say(commands.User(op.RequestedBy), " asks to "+wordsOf(op).noun+" cluster "+op.ClusterName+
		" (currently "+string(op.StatusAtRequest)+"). Confirm or cancel in Slack."))
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

func yesNo(b bool) commands.Span {
	if b {
		return commands.Strong("yes")
	}
	return commands.Span{Text: "no"}
}

// parentBlocks is the live view of an operation that replaces the confirmation message, and its
// notification text.
func parentBlocks(op commands.Operation, now time.Time) ([]slack.Block, string) {
	name := clusterRef(op)
	w := wordsOf(op)
	took := commands.FormatDuration(op.Elapsed(now))
	var headline commands.Text
	switch op.Phase {
	case commands.PhaseConfirmed:
		headline = say(icon("hourglass_flowing_sand"), " "+w.gerund+" ", name, " · checking the cluster and asking Qovery")
	case commands.PhaseWatching:
		headline = say(commands.StateIcon(op.State), " "+w.gerund+" ", name, " · ", stateCode(op.State), " · "+took)
	case commands.PhaseSucceeded:
		if op.Action() == commands.VerbUnlock {
			headline = say(icon("unlock"), " ", name, " is unlocked")
			break
		}
		headline = say(icon("white_check_mark"), " ", name, " is ", stateCode(op.State), " · took "+took)
	case commands.PhaseFailed:
		headline = say(icon("x"), " ", name, " "+w.noun+" failed · ", stateCode(op.State), " · ", commands.Link(op.ConsoleURL, "See logs in Qovery"))
	case commands.PhaseNotStarted:
		headline = say(icon("hourglass_flowing_sand"), " ", name, " "+w.noun+" did not take effect · ", stateCode(op.State))
	case commands.PhaseTimedOut:
		headline = say(icon("hourglass_flowing_sand"), " ", name, " still ", stateCode(op.State), " after "+took+" · stopped watching")
	case commands.PhaseAborted:
		headline = say(icon("warning"), " "+w.gerund+" ", name, " · last seen ", stateCode(op.State), " · the bot stopped watching")
	case commands.PhaseVoid:
		headline = say(icon("no_entry_sign"), " ", name, " was not "+w.past)
	case commands.PhaseRejected:
		headline = say(icon("x"), " ", name, " was not "+w.past+": the "+w.noun+" call failed")
	case commands.PhaseCancelled:
		headline = say(icon("no_entry_sign"), " "+capitalize(w.noun)+" of ", name, " cancelled by ", commands.User(op.FinishedBy))
	case commands.PhaseExpired:
		headline = say(icon("no_entry_sign"), " "+capitalize(w.noun)+" of ", name, " expired: nobody confirmed within "+
			humanTTL(op.ExpiresAt.Sub(op.RequestedAt))+". Run ", commands.Code(commands.CommandName+" "+string(op.Action())+" "+op.ClusterName),
			" again if it is still needed.")
	default:
		headline = say(capitalize(w.noun)+" of ", name, " · "+string(op.Phase))
	}
	who := say("Requested by ", commands.User(op.RequestedBy))
	if r := op.Schedule; r != nil {
		who = say("Scheduled by ", commands.User(op.RequestedBy), " · schedule ", commands.Code(r.ID), ", "+r.When)
		if r.Late > 0 {
			who = say(who, " · ran "+commands.FormatDuration(r.Late)+" late: the bot was not running at "+r.LocalAt())
		}
	} else if op.ConfirmedBy != "" {
		who = say(who, " · confirmed by ", commands.User(op.ConfirmedBy), " at "+commands.FormatTime(op.ConfirmedAt))
	}
	if op.ConsoleURL != "" {
		who = say(who, " · ", commands.Link(op.ConsoleURL, "Open in Qovery"))
	}
	blocks := []slack.Block{richText(headline)}
	if !op.Note.IsZero() {
		blocks = append(blocks, richText(op.Note))
	}
	// Who asked, who confirmed: under the headline, as ux.md draws it. (A context block would show
	// it smaller, but holds no rich text, and mentions and links need it.)
	blocks = append(blocks, richText(who))
	return blocks, fallback(headline)
}

// threadLine is the thread reply for an event, or nothing when the event only changes the parent.
func threadLine(op commands.Operation, ev commands.Event) commands.Text {
	people := say(commands.User(op.RequestedBy))
	if op.ConfirmedBy != "" && op.ConfirmedBy != op.RequestedBy {
		people = say(people, " ", commands.User(op.ConfirmedBy))
	}
	elapsed := commands.FormatDuration(op.Elapsed(ev.At))
	switch ev.Kind {
	case commands.EventAccepted:
		return say(icon("inbox_tray"), " Qovery accepted the "+wordsOf(op).noun+" · ", stateCode(ev.State))
	case commands.EventState:
		return say(commands.StateIcon(ev.State), " ", stateCode(ev.State), " · "+elapsed)
	case commands.EventSucceeded:
		if op.Action() == commands.VerbUnlock {
			return say(icon("unlock"), " Unlocked · ", people)
		}
		return say(icon("white_check_mark"), " ", stateCode(ev.State), " after "+elapsed+" · ", people)
	case commands.EventFailed:
		t := say(icon("x"), " ", stateCode(ev.State), " after "+elapsed+" · ", people, "\n", op.Note)
		if op.Failure != nil {
			t = say(t, "\n", commands.FailureText(*op.Failure))
		}
		if op.LastExecutionID != "" {
			t = say(t, "\nExecution id: ", commands.Code(op.LastExecutionID))
		}
		return say(t, "\n", commands.Link(op.ConsoleURL, "See the cluster and its logs in Qovery"))
	case commands.EventNotStarted, commands.EventTimedOut, commands.EventAborted:
		return say(icon("hourglass_flowing_sand"), " ", op.Note, " ", people)
	case commands.EventVoided:
		return say(icon("no_entry_sign"), " ", op.Note, " ", people)
	case commands.EventRejected:
		return say(icon("x"), " ", op.Note, " ", people)
	case commands.EventQoveryUnreachable:
		return say(icon("hourglass_flowing_sand"), " The Qovery API has not answered for "+commands.FormatDuration(ev.At.Sub(op.OutageSince))+
			"; still watching. Last state seen: ", stateCode(op.State), ".")
	case commands.EventQoveryBack:
		return say(icon("arrows_counterclockwise"), " The Qovery API answers again, after "+commands.FormatDuration(ev.At.Sub(ev.Since))+"; still watching.")
	}
	return nil
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
			richText(say(icon("warning"), " ", clusterRef(op), " is protected: "+why+". "+effect)),
			slack.NewInputBlock(typedNameBlock,
				slack.NewTextBlockObject(slack.PlainTextType, "Type the cluster name to confirm", false, false),
				slack.NewTextBlockObject(slack.PlainTextType, "Exactly as Qovery names it: "+op.ClusterName, false, false),
				input),
		}},
	}
}

// threadBlocks renders a thread reply; the final reply of a stop call Qovery did not take offers to
// try again.
func threadBlocks(op commands.Operation, ev commands.Event, line commands.Text) []slack.Block {
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
