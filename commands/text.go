package commands

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Reply text is Slack mrkdwn, the language every surface of this bot (Slack and the local console) shows.
// These helpers keep user- and API-supplied strings from being read as markup: [Escape] for names and
// texts from Qovery and Slack, [Echo] for what a user typed.

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes s safe to place in Slack mrkdwn: only &, < and > are control characters there, so a
// cluster named `<!channel>` is shown, never acted on.
func Escape(s string) string { return mrkdwnEscaper.Replace(s) }

// maxEcho is how many characters of what a user typed a reply repeats.
const maxEcho = 80

// codeSpanBacktick stands for a backtick typed by the user: mrkdwn has no way to escape one inside a
// code span, and a real one would end the span early.
const codeSpanBacktick = 'ˋ' // U+02CB MODIFIER LETTER GRAVE ACCENT

// Echo renders text a user typed as an inline code span for a reply, so that the user sees what the
// bot read and the rest of the reply survives whatever was typed: control and bidirectional-override
// characters are dropped, runs of white space (line breaks included) become one space, backticks
// become ˋ, mrkdwn is escaped as [Escape] does, and anything longer than 80 characters is cut with an
// ellipsis. Every reply that repeats user input goes through Echo.
func Echo(typed string) string {
	var clean []rune
	space := false
	for _, r := range strings.ToValidUTF8(typed, string(utf8.RuneError)) {
		switch {
		case unicode.IsSpace(r):
			space = len(clean) > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			continue
		case r == '`':
			r = codeSpanBacktick
		}
		if space {
			clean = append(clean, ' ')
			space = false
		}
		clean = append(clean, r)
	}
	if len(clean) == 0 {
		return "`(nothing printable)`"
	}
	if len(clean) > maxEcho {
		clean = append(clean[:maxEcho-1], '…')
	}
	return "`" + Escape(string(clean)) + "`"
}

// Mention renders a Slack user id as a mention.
func Mention(userID string) string { return "<@" + Escape(userID) + ">" }

// FormatDuration renders an elapsed time the way people read it in a thread: 41s, 7m41s, 1h02m.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// FormatTime renders an instant for a message: UTC, to the minute, since users sit in many time zones.
func FormatTime(t time.Time) string { return t.UTC().Format("15:04 MST") }
