package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (go doc test2json).
type event struct {
	Action  string
	Package string
	// ImportPath is set on build events instead of Package.
	ImportPath string
	Test       string
	Output     string
}

// summary is what a test run reports at its end.
type summary struct {
	// skips counts skipped tests by skip message.
	skips    map[string]int
	failed   bool
	packages int
}

// summarize copies to out the text `go test` prints without -json (package result lines, build
// errors, and the output of failed tests only, subtests indented under their parent) and gathers the
// skips.
func summarize(in io.Reader, out io.Writer) (*summary, error) {
	s := &summary{skips: map[string]int{}}
	// pending holds each running test's output until it ends: shown if it fails, dropped otherwise,
	// as go test does without -v. failed holds the reports of a running test's failed subtests.
	pending := map[string][]string{}
	failed := map[string][]string{}
	running := map[string]bool{}
	end := func(key string) (report []string) {
		var header, rest []string
		for _, l := range pending[key] {
			if strings.HasPrefix(l, "--- ") && header == nil {
				header = []string{l}
				continue
			}
			rest = append(rest, l)
		}
		report = append(append(header, rest...), failed[key]...)
		delete(pending, key)
		delete(failed, key)
		delete(running, key)
		return report
	}
	write := func(lines []string) {
		for _, l := range lines {
			io.WriteString(out, l)
		}
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(out, sc.Text()) // not an event: go test's own text, shown as is
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch {
		case e.Action == "build-output":
			io.WriteString(out, e.Output)
		case e.Action == "build-fail":
			s.failed = true
		case e.Test == "" && e.Action == "output":
			// -json runs the test binary verbose, which adds a PASS line go test hides.
			if e.Output != "PASS\n" {
				io.WriteString(out, e.Output)
			}
		case e.Test == "" && (e.Action == "pass" || e.Action == "skip"):
			s.packages++
		case e.Test == "" && e.Action == "fail":
			s.packages++
			s.failed = true
			// A test cut short (a panic, a timeout) never ends: show what it printed.
			var cut []string
			for k := range running {
				if strings.HasPrefix(k, e.Package+"\x00") {
					cut = append(cut, k)
				}
			}
			sort.Strings(cut)
			for _, k := range cut {
				write(end(k))
			}
		case e.Action == "run":
			running[key] = true
		case e.Action == "output":
			if !isProgress(e.Output) {
				pending[key] = append(pending[key], e.Output)
			}
		case e.Action == "fail":
			s.failed = true
			report := end(key)
			if parent, ok := parentOf(running, e.Package, e.Test); ok {
				for _, l := range report {
					failed[parent] = append(failed[parent], "    "+l)
				}
			} else {
				write(report)
			}
		case e.Action == "skip":
			s.skips[skipReason(pending[key])]++
			end(key)
		case e.Action == "pass":
			end(key)
		}
	}
	return s, sc.Err()
}

// parentOf returns the key of the running test that test is a subtest of. A subtest's own name may
// hold a slash, so the nearest running ancestor is the parent.
func parentOf(running map[string]bool, pkg, test string) (string, bool) {
	for i := strings.LastIndex(test, "/"); i > 0; i = strings.LastIndex(test[:i], "/") {
		if k := pkg + "\x00" + test[:i]; running[k] {
			return k, true
		}
	}
	return "", false
}

// isProgress reports whether a line is one go test prints only with -v.
func isProgress(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// logPrefix is the file:line go test puts before a t.Log or t.Skip message.
var logPrefix = regexp.MustCompile(`^\s+\S+\.go:\d+: `)

// skipReason returns the message a skipped test gave: its last logged line.
func skipReason(output []string) string {
	for i := len(output) - 1; i >= 0; i-- {
		l := output[i]
		if logPrefix.MatchString(l) {
			return strings.TrimSpace(logPrefix.ReplaceAllString(l, ""))
		}
	}
	return "no reason given"
}

// line is the closing line: what was skipped, why, and so how to run it.
func (s *summary) line() string {
	if len(s.skips) == 0 {
		return "skipped: none"
	}
	reasons := make([]string, 0, len(s.skips))
	total := 0
	for r, n := range s.skips {
		reasons = append(reasons, r)
		total += n
	}
	// Most skipped first, then by message, so that the line reads the same on every run.
	sort.Slice(reasons, func(i, j int) bool {
		if s.skips[reasons[i]] != s.skips[reasons[j]] {
			return s.skips[reasons[i]] > s.skips[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d × %s", s.skips[r], r)
	}
	noun := "tests"
	if total == 1 {
		noun = "test"
	}
	return fmt.Sprintf("skipped: %d %s: %s", total, noun, strings.Join(parts, "; "))
}
