package commands

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text    string
		want    Command
		wantErr string // substring of the usage error, "" for success
	}{
		{text: "", want: Command{Verb: VerbHelp}},
		{text: "   ", want: Command{Verb: VerbHelp}},
		{text: "help", want: Command{Verb: VerbHelp}},
		{text: "HELP", want: Command{Verb: VerbHelp}},
		{text: "list", want: Command{Verb: VerbList}},
		{text: "list staging", wantErr: "takes no argument"},
		{text: "stop staging", want: Command{Verb: VerbStop, Cluster: "staging"}},
		{text: "  stop    staging  ", want: Command{Verb: VerbStop, Cluster: "staging"}},
		{text: "Stop Staging-EU", want: Command{Verb: VerbStop, Cluster: "Staging-EU"}},
		{text: "stop my cluster", want: Command{Verb: VerbStop, Cluster: "my cluster"}},
		{text: "stop 3f2a-not-a-uuid", want: Command{Verb: VerbStop, Cluster: "3f2a-not-a-uuid"}},
		{text: "stop", wantErr: "Which cluster?"},
		{text: "status", wantErr: "Which cluster?"},
		{text: "status prod", want: Command{Verb: VerbStatus, Cluster: "prod"}},
		{text: "reboot prod", wantErr: "Unknown command `reboot`"},
		{text: "<!channel>", wantErr: "Unknown command `<!channel>`"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got, err := Parse(tc.text)
			if tc.wantErr != "" {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("Parse(%q) error = %v; want a *UsageError", tc.text, err)
				}
				if !strings.Contains(ue.Msg.String(), tc.wantErr) {
					t.Errorf("Parse(%q) error = %q; want it to contain %q", tc.text, ue.Msg, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v; want nil", tc.text, err)
			}
			if got != tc.want {
				t.Errorf("Parse(%q) = %+v; want %+v", tc.text, got, tc.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"0s", "0s"}, {"41s", "41s"}, {"7m41s", "7m41s"}, {"3m2s", "3m02s"}, {"1h2m30s", "1h02m"}, {"-5s", "0s"},
	} {
		d, err := parseDuration(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatDuration(d); got != tc.want {
			t.Errorf("FormatDuration(%s) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func parseDuration(s string) (d time.Duration, err error) { return time.ParseDuration(s) }

// Verbs is the list the manifest's usage hint is checked against: each verb in it parses as itself,
// and help has a line for each, in the same order.
func TestVerbsMatchParseAndHelp(t *testing.T) {
	usage := Usage()
	last := -1
	for _, v := range Verbs() {
		cmd, err := Parse(string(v) + " x")
		if err != nil {
			cmd, err = Parse(string(v) + " x because")
		}
		if err != nil {
			cmd, err = Parse(string(v))
		}
		if err != nil {
			cmd, err = Parse(string(v) + " stop x at 19:00")
		}
		if err != nil || cmd.Verb != v {
			t.Errorf("Parse(%q) = %+v, %v; want verb %s", v, cmd, err, v)
		}
		i := strings.Index(usage.String(), "• `"+CommandName+" "+string(v))
		if i < 0 {
			t.Errorf("Usage() has no line for %s:\n%s", v, usage)
			continue
		}
		if i < last {
			t.Errorf("Usage() lists %s out of Verbs() order", v)
		}
		last = i
	}
	if got, want := strings.Count(usage.String(), "• `"+CommandName+" "), len(Verbs()); got != want {
		t.Errorf("Usage() has %d verb lines; want %d, one per Verbs()", got, want)
	}
}

func TestTyped(t *testing.T) {
	long := strings.Repeat("a", 5000)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "staging", "staging"},
		{"markup is the renderer's", "<!channel> & co", "<!channel> & co"},
		{"backticks are the renderer's", "`staging`", "`staging`"},
		{"triple backticks", "```x```", "```x```"},
		{"bidi override", "gnigats\u202e", "gnigats"},
		{"bidi isolates and marks", "\u2066a\u2069\u200fb\u061c", "ab"},
		{"NUL and controls", "st\x00ag\x07ing\x1b[31m", "staging[31m"},
		{"line breaks and tabs", "  my\n\n\tcluster \r\n", "my cluster"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"only controls", "\x00\u202e\n", "(nothing printable)"},
		{"exactly 80", strings.Repeat("é", 80), strings.Repeat("é", 80)},
		{"81 is cut", strings.Repeat("é", 81), strings.Repeat("é", 79) + "…"},
		{"5,000 characters", long, long[:79] + "…"},
		{"emoji and Cyrillic", "прод🚀", "прод🚀"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Typed(tc.in); got != Code(tc.want) {
				t.Errorf("Typed(%q) = %q; want %q", tc.in, got.Text, tc.want)
			}
		})
	}
}
