package commands

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxTyped is how many characters of what a user typed an answer repeats.
const maxTyped = 80

// Typed is text a user typed, repeated in an answer so that they see what the bot read, while the
// rest of the answer survives whatever was typed: control and bidirectional-override characters are
// dropped, runs of white space (line breaks included) become one space, and anything longer than 80
// characters is cut with an ellipsis. It is shown as code; every answer that repeats user input
// goes through Typed.
func Typed(typed string) Span {
	var clean []rune
	space := false
	for _, r := range strings.ToValidUTF8(typed, string(utf8.RuneError)) {
		switch {
		case unicode.IsSpace(r):
			space = len(clean) > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		if space {
			clean = append(clean, ' ')
			space = false
		}
		clean = append(clean, r)
	}
	if len(clean) == 0 {
		return Code("(nothing printable)")
	}
	if len(clean) > maxTyped {
		clean = append(clean[:maxTyped-1], '…')
	}
	return Code(string(clean))
}

// Times and durations, as messages show them.

// FormatDuration renders an elapsed time the way people read it in a thread: 41s, 7m41s, 1h02m.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// FormatTime renders an instant for a message: UTC, to the minute, since users sit in many time zones.
func FormatTime(t time.Time) string { return t.UTC().Format("15:04 MST") }
