package console

import "testing"

// The console is a Slack client of the simulated workspace: it shows the bot's real messages as
// Slack would, so it reads their mrkdwn the way Slack's clients do.
func TestReadable(t *testing.T) {
	c := &console{opts: Options{ChannelID: "C0OPS", ChannelName: "ops", Users: map[string]string{"U0ALICE": "alice"}}}
	for in, want := range map[string]string{
		"Requested by <@U0ALICE> · <@U0NOBODY>":                    "Requested by @alice · @U0NOBODY",
		"in <#C0OPS>, not <#C0OTHER|other>":                        "in #ops, not #C0OTHER",
		"<https://console.qovery.com/x|Open in Qovery>":            "Open in Qovery (https://console.qovery.com/x)",
		":gear: `STOPPING` · :white_check_mark: done · :x: failed": "⚙️ `STOPPING` · ✅ done · ❌ failed",
		"*&lt;!channel&gt; &amp; co* is `ˋstagingˋ`":               "*<!channel> & co* is `ˋstagingˋ`",
	} {
		if got := c.readable(in); got != want {
			t.Errorf("readable(%q) = %q; want %q", in, got, want)
		}
	}
}
