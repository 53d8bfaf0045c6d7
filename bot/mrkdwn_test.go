package bot

import (
	"strings"
	"testing"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

func TestMrkdwn(t *testing.T) {
	for _, tc := range []struct {
		in   commands.Text
		want string
	}{
		{commands.Say("staging"), "staging"},
		{commands.Say("<!channel>"), "&lt;!channel&gt;"},
		{commands.Say("a & <b>"), "a &amp; &lt;b&gt;"},
		{commands.Say(commands.Strong("<@U123|alice>")), "*&lt;@U123|alice&gt;*"},
		{commands.Say(commands.Code("`staging`")), "`ˋstagingˋ`"},
		{commands.Say(commands.Code("")), "`  `"},
		{commands.Say("by ", commands.User("U1"), " in ", commands.Channel("C1")), "by <@U1> in <#C1>"},
		{commands.Say(commands.Link("https://x.test/?a=1&b=<2>", "see | here")), "<https://x.test/?a=1&amp;b=&lt;2&gt;|see ¦ here>"},
		{commands.Say(commands.Icon("gear"), " ", commands.Code("STOPPING")), ":gear: `STOPPING`"},
	} {
		if got := mrkdwn(tc.in); got != tc.want {
			t.Errorf("mrkdwn(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzMrkdwn: whatever a name, a command or words hold, the rendering is the markup the handler
// meant and nothing more: no mention, link or broadcast comes out of text, and a code span stays
// one span.
func FuzzMrkdwn(f *testing.F) {
	for _, seed := range []string{"staging", "<!channel>", "<@U123|bob>", "a`b", "&lt;", "```", "<https://evil|x>", "\x00\u202e"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, said := range []commands.Text{commands.Say(s), commands.Say(commands.Strong(s)), commands.Say(commands.Code(s))} {
			if out := mrkdwn(said); strings.ContainsAny(out, "<>") {
				t.Fatalf("mrkdwn(%q) = %q: markup came out of text", said, out)
			}
		}
		if out := mrkdwn(commands.Say(commands.Code(s))); strings.Count(out, "`") != 2 {
			t.Fatalf("mrkdwn(code %q) = %q: the code span does not hold", s, out)
		}
	})
}
