package console

import (
	"strings"
	"testing"
)

func TestReadLines(t *testing.T) {
	full := strings.Repeat("a", maxLine)
	for _, tc := range []struct {
		name string
		in   string
		want []inputLine
	}{
		{"plain", "one\ntwo\n", []inputLine{{text: "one"}, {text: "two"}}},
		{"no final newline", "one\r\ntwo", []inputLine{{text: "one"}, {text: "two"}}},
		{"at the limit", full + "\nnext\n", []inputLine{{text: full}, {text: "next"}}},
		{"over the limit", full + "b\nnext\n", []inputLine{{tooLong: true}, {text: "next"}}},
		{"over the limit at the end", "first\n" + strings.Repeat("c", 3*maxLine), []inputLine{{text: "first"}, {tooLong: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := make(chan inputLine)
			go readLines(t.Context(), strings.NewReader(tc.in), lines)
			var got []inputLine
			for l := range lines {
				got = append(got, l)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("readLines gave %d lines; want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("line %d = {%.20q, tooLong %v}; want {%.20q, tooLong %v}", i, got[i].text, got[i].tooLong, tc.want[i].text, tc.want[i].tooLong)
				}
			}
		})
	}
}
