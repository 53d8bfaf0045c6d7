package bot

import (
	"testing"

	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// FuzzRichText: whatever a name, a command or words hold, its rich text is one text element that
// holds it whole: nothing in it becomes a mention, a link, a broadcast or an emoji.
func FuzzRichText(f *testing.F) {
	for _, seed := range []string{"staging", "<!channel>", "<@U123|bob>", "a`b", "&lt;", ":gear:", "<https://evil|x>", "\x00\u202e", "a\nb"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		for _, span := range []commands.Span{{Text: s}, commands.Strong(s), commands.Code(s)} {
			els := richText(commands.Text{span}).Elements[0].(*slack.RichTextSection).Elements
			if len(els) != 1 {
				t.Fatalf("%q (%s) gave %d elements", s, span.Kind, len(els))
			}
			el, ok := els[0].(*slack.RichTextSectionTextElement)
			if !ok {
				t.Fatalf("%q (%s) gave a %T", s, span.Kind, els[0])
			}
			if el.Text != s && !(span.Kind == commands.SpanCode && el.Text == " "+s+" ") {
				t.Fatalf("%q (%s) became %q", s, span.Kind, el.Text)
			}
		}
	})
}

func TestRichTextElements(t *testing.T) {
	said := commands.Say(commands.Icon("gear"), " ", commands.Strong("staging"), " by ", commands.User("U1"), " in ",
		commands.Channel("C1"), " · ", commands.Code("STOPPING"), " · ", commands.Link("https://x.test/?a=1&b=<2>", "see | here"))
	got := blocksJSON(t, []slack.Block{richText(said)})
	want := `[{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"emoji","name":"gear"},{"type":"text","text":" "},` +
		`{"type":"text","text":"staging","style":{"bold":true}},{"type":"text","text":" by "},{"type":"user","user_id":"U1"},{"type":"text","text":" in "},` +
		`{"type":"channel","channel_id":"C1"},{"type":"text","text":" · "},{"type":"text","text":"STOPPING","style":{"code":true}},{"type":"text","text":" · "},` +
		`{"type":"link","url":"https://x.test/?a=1&b=<2>","text":"see | here"}]}]}]` + "\n"
	if got != want {
		t.Errorf("rich text =\n%s\nwant\n%s", got, want)
	}
}

// Neighbouring text in one style is one element.
func TestRichTextJoinsText(t *testing.T) {
	said := commands.Say("a", "b", commands.Strong("c"), commands.Strong("d"), "\n", commands.Code(""), "e")
	got := blocksJSON(t, []slack.Block{richText(said)})
	want := `[{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"ab"},` +
		`{"type":"text","text":"cd","style":{"bold":true}},{"type":"text","text":"\n"},{"type":"text","text":"  ","style":{"code":true}},` +
		`{"type":"text","text":"e"}]}]}]` + "\n"
	if got != want {
		t.Errorf("rich text =\n%s\nwant\n%s", got, want)
	}
}
