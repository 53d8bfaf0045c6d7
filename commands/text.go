package commands

import (
	"fmt"
	"strings"
	"time"
)

// Reply text is Slack mrkdwn, the language every surface of this bot (Slack and the local console) shows.
// These helpers keep user- and API-supplied strings from being read as markup.

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes s safe to place in Slack mrkdwn: only &, < and > are control characters there, so a
// cluster named `<!channel>` is shown, never acted on.
func Escape(s string) string { return mrkdwnEscaper.Replace(s) }

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
