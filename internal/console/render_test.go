package console

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The console is a Slack client of the simulated workspace: it shows the bot's real messages from
// their Block Kit structure, as Slack's clients lay them out.
func TestShow(t *testing.T) {
	c := &console{opts: Options{ChannelID: "C0OPS", ChannelName: "ops", Users: map[string]string{"U0ALICE": "alice"}}}
	blocks := `[
	 {"type":"rich_text","elements":[{"type":"rich_text_section","elements":[
	   {"type":"emoji","name":"gear"},{"type":"text","text":" "},{"type":"text","text":"<!channel> & co","style":{"bold":true}},
	   {"type":"text","text":" · "},{"type":"text","text":"STOPPING","style":{"code":true}},{"type":"text","text":" · "},
	   {"type":"emoji","name":"some_new_one"},{"type":"text","text":"\nRequested by "},{"type":"user","user_id":"U0ALICE"},
	   {"type":"text","text":" · "},{"type":"user","user_id":"U0NOBODY"},{"type":"text","text":" in "},{"type":"channel","channel_id":"C0OPS"},
	   {"type":"text","text":", not "},{"type":"channel","channel_id":"C0OTHER"},{"type":"text","text":" · "},
	   {"type":"link","url":"https://console.qovery.com/x","text":"Open in Qovery"}]}]},
	 {"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Stop cluster"},"action_id":"a"}]},
	 {"type":"context","elements":[{"type":"plain_text","text":"Expires in 10 minutes · request 3f2a9c1e"}]}
	]`
	want := "⚙️ *<!channel> & co* · `STOPPING` · :some_new_one:\n" +
		"Requested by @alice · @U0NOBODY in #ops, not #C0OTHER · Open in Qovery (https://console.qovery.com/x)\n" +
		"Expires in 10 minutes · request 3f2a9c1e"
	if got := c.show([]byte(blocks), "fallback"); got != want {
		t.Errorf("show =\n%s\nwant\n%s", got, want)
	}
	dialog := `[{"type":"input","label":{"type":"plain_text","text":"Type the cluster name to confirm"},` +
		`"hint":{"type":"plain_text","text":"Exactly as Qovery names it: prod"},"element":{"type":"plain_text_input"}}]`
	if got, want := c.show([]byte(dialog), ""), "Type the cluster name to confirm: [________] (Exactly as Qovery names it: prod)"; got != want {
		t.Errorf("show(dialog) = %q; want %q", got, want)
	}
	if got := c.show(nil, "just text"); got != "just text" {
		t.Errorf("show without blocks = %q; want the message's text", got)
	}
}

// Every emoji the bot writes (an Icon in commands/, an icon in bot/) shows as an emoji.
func TestEveryIconShows(t *testing.T) {
	shortcode := regexp.MustCompile(`":([a-z_]+):|[Ii]con\("([a-z_]+)"\)`)
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
				if _, ok := emoji[name]; !ok {
					t.Errorf("%s writes :%s:, which the console shows as is", f, name)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found %d emoji in the bot's code; the pattern no longer matches how it writes them", seen)
	}
}
