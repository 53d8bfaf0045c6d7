package console

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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

// Every emoji the bot writes, as a shortcode in bot/ or an Icon in commands/, shows as an emoji.
func TestEveryIconShows(t *testing.T) {
	c := &console{}
	shortcode := regexp.MustCompile(`":([a-z_]+):|Icon\("([a-z_]+)"\)`)
	seen := 0
	for _, dir := range []string{"../../bot", "../../commands"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range shortcode.FindAllStringSubmatch(string(src), -1) {
				name := m[1] + m[2]
				seen++
				if got := c.readable(":" + name + ":"); got == ":"+name+":" {
					t.Errorf("%s writes :%s:, which the console shows as is", f, name)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found %d emoji in the bot's code; the pattern no longer matches how it writes them", seen)
	}
}
