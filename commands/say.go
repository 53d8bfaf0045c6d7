package commands

import (
	"encoding/json"
	"strings"
)

// Text is what the bot says to people: spans, each saying what it is (a name, a command, a person,
// a link), with no markup of any chat in it. The chat renders it: the bot as Slack rich text, span
// by span, and as escaped mrkdwn for a notification's text. Its String form is a readable rendering
// for logs and tests.
type Text []Span

// Span is one piece of a [Text].
type Span struct {
	Kind SpanKind `json:"k,omitempty"`
	Text string   `json:"t,omitempty"`
	// Ref is what a mention or a link points to: a user or channel id, a URL.
	Ref string `json:"r,omitempty"`
}

// SpanKind says what a [Span] is. The values are stored (operation notes), so they are strings.
type SpanKind string

// The kinds of [Span].
const (
	// SpanPlain is words.
	SpanPlain SpanKind = ""
	// SpanStrong is a name that stands out: a cluster, an organization.
	SpanStrong SpanKind = "strong"
	// SpanCode is something to type or typed: a command, a variable, a state, an id.
	SpanCode SpanKind = "code"
	// SpanUser mentions the person whose id is Ref.
	SpanUser SpanKind = "user"
	// SpanChannel links the channel whose id is Ref.
	SpanChannel SpanKind = "channel"
	// SpanLink links Ref, shown as Text.
	SpanLink SpanKind = "link"
	// SpanIcon is an icon by its name (gear, white_check_mark), Slack's emoji names.
	SpanIcon SpanKind = "icon"
)

// Say builds a [Text] from its parts: a string is words, a [Span] is itself, a [Text] is its spans.
func Say(parts ...any) Text {
	var t Text
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			if p != "" {
				t = append(t, Span{Text: p})
			}
		case Span:
			t = append(t, p)
		case Text:
			t = append(t, p...)
		default:
			panic("commands.Say: a part is a string, a Span or a Text")
		}
	}
	return t
}

// Strong is a name that stands out.
func Strong(s string) Span { return Span{Kind: SpanStrong, Text: s} }

// Code is something to type or typed.
func Code(s string) Span { return Span{Kind: SpanCode, Text: s} }

// User mentions a person by user id.
func User(id string) Span { return Span{Kind: SpanUser, Ref: id} }

// Channel links a channel by id.
func Channel(id string) Span { return Span{Kind: SpanChannel, Ref: id} }

// Link links url, shown as label.
func Link(url, label string) Span { return Span{Kind: SpanLink, Ref: url, Text: label} }

// Icon is an icon by name.
func Icon(name string) Span { return Span{Kind: SpanIcon, Text: name} }

// Lines joins texts, one a line.
func Lines(texts ...Text) Text {
	var t Text
	for i, l := range texts {
		if i > 0 {
			t = append(t, Span{Text: "\n"})
		}
		t = append(t, l...)
	}
	return t
}

// Join joins texts with sep between them.
func Join(texts []Text, sep string) Text {
	var t Text
	for i, l := range texts {
		if i > 0 {
			t = append(t, Span{Text: sep})
		}
		t = append(t, l...)
	}
	return t
}

// IsZero reports whether t says nothing.
func (t Text) IsZero() bool { return len(t) == 0 }

// String renders t for logs and tests: names *strong*, code in backticks, people <@U…>, channels
// <#C…>, links <url|label>, icons :name:. Nothing is escaped: it is not for a chat.
func (t Text) String() string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case SpanStrong:
			b.WriteString("*" + s.Text + "*")
		case SpanCode:
			b.WriteString("`" + s.Text + "`")
		case SpanUser:
			b.WriteString("<@" + s.Ref + ">")
		case SpanChannel:
			b.WriteString("<#" + s.Ref + ">")
		case SpanLink:
			b.WriteString("<" + s.Ref + "|" + s.Text + ">")
		case SpanIcon:
			b.WriteString(":" + s.Text + ":")
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// UnmarshalJSON reads a Text, or a string as words: notes stored before Text existed were strings.
func (t *Text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = Say(s)
		return nil
	}
	var spans []Span
	if err := json.Unmarshal(b, &spans); err != nil {
		return err
	}
	*t = spans
	return nil
}
