package commands

import (
	"fmt"
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
)

// Verbs returns every verb [Parse] accepts, in the order help and manifest.yaml's usage hint list
// them. A test keeps the three in step.
func Verbs() []Verb { return []Verb{VerbStop, VerbStart, VerbStatus, VerbList, VerbHelp} }

// Command is a parsed `/qovery <verb> <cluster>` invocation.
type Command struct {
	Verb Verb
	// Cluster is the cluster name or id as typed, trimmed. Empty for verbs without an argument.
	Cluster string
}

// UsageError reports input the bot cannot act on. Its text is safe to show to the user as is: any
// user-supplied part of it goes through [Echo].
type UsageError struct {
	Verb Verb
	Msg  string
}

func (e *UsageError) Error() string { return e.Msg }

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
			return Command{}, &UsageError{Verb: verb, Msg: fmt.Sprintf("`%s list` takes no argument. To see one cluster, use `%s status &lt;cluster&gt;`.", CommandName, CommandName)}
		}
		return Command{Verb: VerbList}, nil
	case VerbStatus, VerbStop, VerbStart:
		if arg == "" {
			return Command{}, &UsageError{Verb: verb, Msg: fmt.Sprintf("Which cluster? Usage: `%s %s &lt;cluster name or id&gt;`. `%s list` shows the clusters.", CommandName, verb, CommandName)}
		}
		return Command{Verb: verb, Cluster: arg}, nil
	default:
		return Command{}, &UsageError{Verb: verb, Msg: fmt.Sprintf("Unknown command %s.\n%s", Echo(verbWord), Usage())}
	}
}

// Usage is the help text, with examples. Angle brackets are escaped: in mrkdwn, even inside code,
// `<…>` is markup.
func Usage() string {
	return strings.Join([]string{
		"*Usage:* `" + CommandName + " &lt;command&gt; [cluster]`",
		"• `" + CommandName + " stop &lt;cluster&gt;`: stop a cluster (asks you to confirm first), e.g. `" + CommandName + " stop staging`",
		"• `" + CommandName + " start &lt;cluster&gt;`: start a stopped cluster again (asks you to confirm first)",
		"• `" + CommandName + " status &lt;cluster&gt;`: status, lock and last deployment of one cluster",
		"• `" + CommandName + " list`: every cluster of the organization with its status",
		"• `" + CommandName + " help`: this message",
		"A cluster is named by its Qovery name (case-insensitive) or its id.",
	}, "\n")
}
