package commands

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FuzzParse checks that the parser never panics, that what it accepts is a known verb with a
// trimmed argument, and that what it refuses is explained without any markup from the input.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "help", "list", "stop staging", "  STOP   Staging  ", "status <!channel>",
		"stop 3f2a9c1e-0000-4000-8000-000000000001", "stArt 0", "start", "reboot x", "stop\tx", "stop <@U123|bob>", "list extra", "\x00stop", "`stop`", "re\u202eboot"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := Parse(text)
		if err != nil {
			ue, ok := err.(*UsageError)
			if !ok {
				t.Fatalf("Parse(%q) error %T; want *UsageError", text, err)
			}
			// What was typed is only ever shown as typed text: a usage message mentions and
			// links nobody, whatever the input.
			for _, s := range ue.Msg {
				switch s.Kind {
				case SpanPlain, SpanStrong, SpanCode:
				default:
					t.Fatalf("Parse(%q) usage message has a %s span: %q", text, s.Kind, ue.Msg.String())
				}
			}
			if strings.ContainsFunc(ue.Msg.String(), func(r rune) bool {
				return (unicode.IsControl(r) && r != '\n') || unicode.Is(unicode.Bidi_Control, r)
			}) {
				t.Fatalf("Parse(%q) usage message has a control character: %q", text, ue.Msg)
			}
			return
		}
		switch cmd.Verb {
		case VerbHelp, VerbList:
			if cmd.Cluster != "" {
				t.Fatalf("Parse(%q) = %+v; %s takes no argument", text, cmd, cmd.Verb)
			}
		case VerbStop, VerbStart, VerbStatus:
			if cmd.Cluster == "" || strings.TrimSpace(cmd.Cluster) != cmd.Cluster {
				t.Fatalf("Parse(%q) cluster %q is empty or untrimmed", text, cmd.Cluster)
			}
		default:
			t.Fatalf("Parse(%q) accepted unknown verb %q", text, cmd.Verb)
		}
		if utf8.ValidString(text) && !utf8.ValidString(cmd.Cluster) {
			t.Fatalf("Parse(%q) made invalid UTF-8 %q", text, cmd.Cluster)
		}
	})
}

// FuzzParseActionRef checks the decoder of button values and modal metadata: it never panics, and
// anything it accepts is exactly what the bot itself would have written.
func FuzzParseActionRef(f *testing.F) {
	good := ActionRef{OperationID: uuid.MustParse("3f2a9c1e-0000-4000-8000-000000000001"), ClusterID: uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60002")}
	for _, seed := range []string{good.String(), good.String()[:50], good.OperationID.String(), ":", "",
		strings.ToUpper(good.String()), "urn:uuid:" + good.String(), good.String() + ":extra"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseActionRef(s)
		if err != nil {
			return
		}
		if ref.String() != s {
			t.Fatalf("ParseActionRef(%q) accepted a non-canonical value (canonical %q)", s, ref.String())
		}
		if ref.OperationID == uuid.Nil || ref.ClusterID == uuid.Nil {
			t.Fatalf("ParseActionRef(%q) accepted a nil id", s)
		}
	})
}
