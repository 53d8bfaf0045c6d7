package main

import (
	"bufio"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestDocLinks checks that every relative link in the Markdown files (the README, BENCHMARKS.md,
// docs/) points to a file of the repository and, when it names a heading (#anchor) of a Markdown
// file, to a heading that exists, so that moving a section cannot leave a link dangling.
func TestDocLinks(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*.md", "docs/*.md"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no Markdown files found")
	}
	anchors := map[string]map[string]bool{} // by cleaned path
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		a, err := docHeadingAnchors(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		anchors[path] = a
		return a
	}
	for _, file := range files {
		links, err := docLinksOf(file)
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		for _, l := range links {
			u, err := url.Parse(l.target)
			if err != nil {
				t.Errorf("%s:%d: link %q does not parse: %v", file, l.line, l.target, err)
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue // an absolute URL: not checked here
			}
			target := filepath.Clean(filepath.Join(filepath.Dir(file), u.Path))
			if u.Path == "" {
				target = file
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s:%d: link %q: %s does not exist", file, l.line, l.target, target)
				continue
			}
			if u.Fragment != "" && strings.HasSuffix(target, ".md") && !anchorsOf(target)[u.Fragment] {
				t.Errorf("%s:%d: link %q: %s has no heading #%s", file, l.line, l.target, target, u.Fragment)
			}
		}
	}
}

// docLink is one inline link of a Markdown file.
type docLink struct {
	line   int
	target string
}

var (
	// docInlineLink matches [text](target) and [text](target "title"); the text holds no brackets.
	docInlineLink = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// docCodeSpan matches inline code, whose brackets and parentheses are not links.
	docCodeSpan = regexp.MustCompile("`[^`]*`")
)

// docLinksOf returns the inline links of a Markdown file, outside fenced code blocks and code
// spans.
func docLinksOf(path string) ([]docLink, error) {
	var links []docLink
	err := docProseLines(path, func(n int, line string) {
		for _, m := range docInlineLink.FindAllStringSubmatch(docCodeSpan.ReplaceAllString(line, ""), -1) {
			links = append(links, docLink{line: n, target: strings.Trim(m[1], "<>")})
		}
	})
	return links, err
}

// docHeadingAnchors returns the anchors GitHub gives the headings of a Markdown file.
func docHeadingAnchors(path string) (map[string]bool, error) {
	anchors := map[string]bool{}
	seen := map[string]int{}
	err := docProseLines(path, func(_ int, line string) {
		if !strings.HasPrefix(line, "#") {
			return
		}
		text := strings.TrimLeft(line, "#")
		if !strings.HasPrefix(text, " ") {
			return
		}
		slug := docHeadingSlug(text)
		if k := seen[slug]; k > 0 {
			anchors[slug+"-"+strconv.Itoa(k)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	})
	return anchors, err
}

// docHeadingSlug is GitHub's anchor for a heading: lower case, punctuation dropped except hyphens and
// underscores, spaces made hyphens.
func docHeadingSlug(heading string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			sb.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// docProseLines calls fn with each line of a Markdown file that is outside a fenced code block.
func docProseLines(path string, fn func(n int, line string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	fence := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		fn(n, line)
	}
	return sc.Err()
}
