package bot

import (
	"strings"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// The one place where what the handler says becomes Slack mrkdwn, for the notification text of a
// message (its blocks are rich text, richtext.go): every piece of text that reaches mrkdwn goes
// through escape.

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes s safe to place in Slack mrkdwn: only &, < and > are control characters there, so a
// cluster named `<!channel>` is shown, never acted on.
func escape(s string) string { return mrkdwnEscaper.Replace(s) }

// mention renders a Slack user id as a mention.
func mention(userID string) string { return "<@" + escape(userID) + ">" }

// codeSpan renders s as inline code that stays one span whatever s holds: a backtick in it would
// end the span early (Slack has no escape for it), so it is shown as a look-alike.
func codeSpan(s string) string {
	s = strings.ReplaceAll(s, "`", "ˋ")
	if strings.TrimSpace(s) == "" {
		s = " " + s + " "
	}
	return "`" + escape(s) + "`"
}

// mrkdwn renders what the handler says as Slack mrkdwn.
func mrkdwn(t commands.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case commands.SpanStrong:
			b.WriteString("*" + escape(s.Text) + "*")
		case commands.SpanCode:
			b.WriteString(codeSpan(s.Text))
		case commands.SpanUser:
			b.WriteString(mention(s.Ref))
		case commands.SpanChannel:
			b.WriteString("<#" + escape(s.Ref) + ">")
		case commands.SpanLink:
			b.WriteString("<" + escape(s.Ref) + "|" + escape(strings.ReplaceAll(s.Text, "|", "¦")) + ">")
		case commands.SpanIcon:
			b.WriteString(":" + escape(s.Text) + ":")
		default:
			b.WriteString(escape(s.Text))
		}
	}
	return b.String()
}

// slackToPlain drops mrkdwn emphasis, for a notification text.
func slackToPlain(s string) string {
	return strings.NewReplacer("*", "", "`", "").Replace(s)
}
