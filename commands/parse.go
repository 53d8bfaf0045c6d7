package commands

import (
	"strconv"
	"strings"
)

// CommandName is the slash command the bot answers. manifest.yaml declares the same name; a test keeps
// the two in step.
const CommandName = "/qovery"

// Verb is the first word after the slash command.
type Verb string

// The verbs the bot understands.
const (
	VerbHelp   Verb = "help"
	VerbList   Verb = "list"
	VerbStatus Verb = "status"
	VerbStop   Verb = "stop"
	VerbStart  Verb = "start"
	VerbLock   Verb = "lock"
	VerbUnlock Verb = "unlock"
	// VerbSchedule makes a schedule, VerbSchedules lists them, VerbUnschedule removes one.
	VerbSchedule   Verb = "schedule"
	VerbSchedules  Verb = "schedules"
	VerbUnschedule Verb = "unschedule"
)

// Verbs returns every verb [Parse] accepts, in the order help and manifest.yaml's usage hint list
// them. A test keeps the three in step.
func Verbs() []Verb {
	return []Verb{VerbStop, VerbStart, VerbLock, VerbUnlock, VerbSchedule, VerbSchedules, VerbUnschedule, VerbStatus, VerbList, VerbHelp}
}

// Command is a parsed `/qovery <verb> <cluster>` invocation.
type Command struct {
	Verb Verb
	// Reason and LockDays are what `lock` says: why, and for how many days (0: until unlocked).
	Reason   string
	LockDays int
	// Cluster is the cluster name or id as typed, trimmed. Empty for verbs without an argument.
	Cluster string
	// Schedule is what `schedule` asks for; its Zone is nil when no tz was given.
	Schedule Schedule
	// ScheduleID is the schedule `unschedule` removes.
	ScheduleID string
}

// UsageError reports input the bot cannot act on; Msg says what to type instead.
type UsageError struct {
	Verb Verb
	Msg  Text
}

func (e *UsageError) Error() string { return e.Msg.String() }

// Parse reads the text that followed the slash command. Empty text means help, so that a bare
// `/qovery` teaches the user what to type.
func Parse(text string) (Command, error) {
	verbWord, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	verb := Verb(strings.ToLower(verbWord))
	// Cluster names are a single word in practice, but nothing forbids spaces: keep the rest whole.
	arg := strings.TrimSpace(rest)

	switch verb {
	case "", VerbHelp:
		return Command{Verb: VerbHelp}, nil
	case VerbList:
		if arg != "" {
			return Command{}, &UsageError{Verb: verb, Msg: Say(Code(CommandName+" list"), " takes no argument. To see one cluster, use ", Code(CommandName+" status <cluster>"), ".")}
		}
		return Command{Verb: VerbList}, nil
	case VerbLock:
		return parseLock(arg)
	case VerbSchedule:
		sched, err := parseSchedule(arg)
		if err != nil {
			return Command{}, err
		}
		return Command{Verb: VerbSchedule, Cluster: sched.Cluster, Schedule: sched}, nil
	case VerbSchedules:
		if arg != "" {
			return Command{}, &UsageError{Verb: verb, Msg: Say(Code(CommandName+" schedules"), " takes no argument: it lists every schedule.")}
		}
		return Command{Verb: VerbSchedules}, nil
	case VerbUnschedule:
		if arg == "" || strings.ContainsAny(arg, " \t") {
			return Command{}, &UsageError{Verb: verb, Msg: Say("Which schedule? Usage: ", Code(CommandName+" unschedule <id>"), "; ", Code(CommandName+" schedules"), " shows the ids.")}
		}
		return Command{Verb: VerbUnschedule, ScheduleID: strings.ToLower(arg)}, nil
	case VerbStatus, VerbStop, VerbStart, VerbUnlock:
		if arg == "" {
			return Command{}, &UsageError{Verb: verb, Msg: Say("Which cluster? Usage: ", Code(CommandName+" "+string(verb)+" <cluster name or id>"), ". ", Code(CommandName+" list"), " shows the clusters.")}
		}
		return Command{Verb: verb, Cluster: arg}, nil
	default:
		return Command{}, &UsageError{Verb: verb, Msg: Lines(Say("Unknown command ", Typed(verbWord), "."), Usage())}
	}
}

// Usage is the help text, with examples.
func Usage() Text {
	return Lines(
		Say(Strong("Usage:"), " ", Code(CommandName+" <command> [cluster]")),
		Say("• ", Code(CommandName+" stop <cluster>"), ": stop a cluster (asks you to confirm first), e.g. ", Code(CommandName+" stop staging")),
		Say("• ", Code(CommandName+" start <cluster>"), ": start a stopped cluster again (asks you to confirm first)"),
		Say("• ", Code(CommandName+" lock <cluster> [<N>d] <reason>"), ": freeze a cluster in Qovery (for N days, or until unlocked), e.g. ", Code(CommandName+" lock staging 3d release freeze")),
		Say("• ", Code(CommandName+" unlock <cluster>"), ": remove a cluster's lock (asks you to confirm first)"),
		Say("• ", Code(CommandName+" schedule stop|start <cluster> at <HH:MM> [on <days>] [tz <zone>]"), ": stop or start a cluster every day, weekday or listed day, e.g. ",
			Code(CommandName+" schedule stop staging at 19:00 on weekdays tz Europe/Paris")),
		Say("• ", Code(CommandName+" schedules"), ": every schedule with its id, next run, creator and channel"),
		Say("• ", Code(CommandName+" unschedule <id>"), ": remove a schedule"),
		Say("• ", Code(CommandName+" status <cluster>"), ": status, lock and last deployment of one cluster"),
		Say("• ", Code(CommandName+" list"), ": every cluster of the organization with its status"),
		Say("• ", Code(CommandName+" help"), ": this message"),
		Say("A cluster is named by its Qovery name (case-insensitive) or its id."),
	)
}

// maxLockDays bounds a lock's duration: a longer freeze is one without an end.
const maxLockDays = 365

// parseLock reads `lock <cluster> [<N>d] <reason>`: the cluster is one word, the reason the rest.
func parseLock(arg string) (Command, error) {
	usage := Say("Usage: ", Code(CommandName+" lock <cluster> [<N>d] <reason>"), ", e.g. ", Code(CommandName+" lock staging 3d release freeze"),
		" (N days, 1 to 365; without it the lock lasts until ", Code(CommandName+" unlock"), ").")
	fields := strings.Fields(arg)
	if len(fields) == 0 {
		return Command{}, &UsageError{Verb: VerbLock, Msg: Say("Which cluster, and why? ", usage)}
	}
	cmd := Command{Verb: VerbLock, Cluster: fields[0]}
	rest := fields[1:]
	if len(rest) > 0 && strings.HasSuffix(rest[0], "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest[0], "d")); err == nil {
			if n < 1 || n > maxLockDays {
				return Command{}, &UsageError{Verb: VerbLock, Msg: Say("A lock lasts 1 to 365 days. ", usage)}
			}
			cmd.LockDays, rest = n, rest[1:]
		}
	}
	cmd.Reason = strings.Join(rest, " ")
	if cmd.Reason == "" {
		return Command{}, &UsageError{Verb: VerbLock, Msg: Say("Say why the cluster is locked: people who find it locked read it. ", usage)}
	}
	return cmd, nil
}
