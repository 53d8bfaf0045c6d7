package bot

import (
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// What the handler says reaches Slack as rich_text blocks: each span becomes the element that says
// what it is (styled text, a user, a channel, a link, an emoji), so nothing in a name or in typed
// text can turn into markup, and a client (the console) renders the structure without parsing
// mrkdwn. The notification text beside the blocks is mrkdwn (mrkdwn.go), the only field that has no
// structured form.

// maxBlockText is how many characters of text one block carries at most: Slack's limit for a
// section's text, kept for rich text so that a long list is spread over several blocks.
const maxBlockText = 3000

// richText renders t as one rich_text block.
func richText(t commands.Text) *slack.RichTextBlock {
	var els []slack.RichTextSectionElement
	for _, s := range t {
		switch s.Kind {
		case commands.SpanStrong:
			els = appendText(els, s.Text, &slack.RichTextSectionTextStyle{Bold: true})
		case commands.SpanCode:
			code := s.Text
			if strings.TrimSpace(code) == "" {
				code = " " + code + " " // an empty code span would vanish
			}
			els = appendText(els, code, &slack.RichTextSectionTextStyle{Code: true})
		case commands.SpanUser:
			els = append(els, slack.NewRichTextSectionUserElement(s.Ref, nil))
		case commands.SpanChannel:
			els = append(els, slack.NewRichTextSectionChannelElement(s.Ref, nil))
		case commands.SpanLink:
			els = append(els, &slack.RichTextSectionLinkElement{Type: slack.RTSELink, URL: s.Ref, Text: s.Text})
		case commands.SpanIcon:
			els = append(els, slack.NewRichTextSectionEmojiElement(s.Text, 0, nil))
		default:
			els = appendText(els, s.Text, nil)
		}
	}
	return slack.NewRichTextBlock("", slack.NewRichTextSection(els...))
}

// appendText adds a text element, unless it is empty (Slack refuses those); text in the style of
// the element before it joins that element, which keeps messages (and the click payloads that
// carry them) small.
func appendText(els []slack.RichTextSectionElement, text string, style *slack.RichTextSectionTextStyle) []slack.RichTextSectionElement {
	if text == "" {
		return els
	}
	if n := len(els); n > 0 {
		if prev, ok := els[n-1].(*slack.RichTextSectionTextElement); ok && sameStyle(prev.Style, style) {
			prev.Text += text
			return els
		}
	}
	return append(els, slack.NewRichTextSectionTextElement(text, style))
}

func sameStyle(a, b *slack.RichTextSectionTextStyle) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// textBlocks renders t as rich_text blocks of at most maxBlockText characters each, split on line
// boundaries; a single longer line is cut with an ellipsis.
func textBlocks(t commands.Text) []slack.Block {
	var blocks []slack.Block
	var chunk commands.Text
	size := 0
	flush := func() {
		if len(chunk) > 0 {
			blocks = append(blocks, richText(chunk))
			chunk, size = nil, 0
		}
	}
	for _, line := range lines(t) {
		line, n := cut(line, maxBlockText)
		if size > 0 && size+1+n > maxBlockText {
			flush()
		}
		if size > 0 {
			chunk = append(chunk, commands.Span{Text: "\n"})
			size++
		}
		chunk = append(chunk, line...)
		size += n
	}
	flush()
	return blocks
}

// lines splits t at its line breaks.
func lines(t commands.Text) []commands.Text {
	out := []commands.Text{nil}
	for _, s := range t {
		parts := strings.Split(s.Text, "\n")
		for i, p := range parts {
			if i > 0 {
				out = append(out, nil)
			}
			if p != "" || len(parts) == 1 {
				ps := s
				ps.Text = p
				out[len(out)-1] = append(out[len(out)-1], ps)
			}
		}
	}
	return out
}

// cut shortens line to at most limit characters of text, ending it with an ellipsis, and returns
// it with its length. A mention, a channel or an icon counts as its reference's length.
func cut(line commands.Text, limit int) (commands.Text, int) {
	n := 0
	for i, s := range line {
		l := utf8.RuneCountInString(s.Text) + utf8.RuneCountInString(s.Ref)
		if n+l > limit {
			end := commands.Span{Text: "…"} // a cut mention, link or icon is no longer one
			if s.Ref == "" && s.Kind != commands.SpanIcon {
				end = commands.Span{Kind: s.Kind, Text: string([]rune(s.Text)[:max(0, limit-n-1)]) + "…"}
			}
			return append(line[:i:i], end), limit
		}
		n += l
	}
	return line, n
}

// contextLine is a small grey line of plain words under a message.
func contextLine(text string) *slack.ContextBlock {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.PlainTextType, text, false, false))
}

// fallback is the notification text of a message saying t: its words, without emphasis.
func fallback(t commands.Text) string { return slackToPlain(mrkdwn(t)) }
