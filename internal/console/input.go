package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// maxLine is the longest input line the console takes; a longer one is reported and skipped.
const maxLine = 64 << 10

// inputLine is one line of input, or the news that a line was too long to take.
type inputLine struct {
	text    string
	tooLong bool
}

// readLines sends the lines of in until it ends or ctx is done, then closes lines. Unlike a
// bufio.Scanner, which stops at a line over its limit, it reads past a long line and goes on.
func readLines(ctx context.Context, in io.Reader, lines chan<- inputLine) {
	defer close(lines)
	r := bufio.NewReader(in)
	for {
		var l inputLine
		started, end := false, false
		for {
			// ReadLine returns an error only with no data left; a last line without a newline
			// comes whole first, unless it ended exactly at the end of a buffer-full fragment.
			frag, isPrefix, err := r.ReadLine()
			if err != nil {
				end = true
				break
			}
			started = true
			if !l.tooLong && len(l.text)+len(frag) > maxLine {
				l.tooLong, l.text = true, ""
			}
			if !l.tooLong {
				l.text += string(frag)
			}
			if !isPrefix {
				break
			}
		}
		if started {
			select {
			case lines <- l:
			case <-ctx.Done():
				return
			}
		}
		if end {
			return
		}
	}
}

// others are the people other than the console user who can type a line, sorted by name.
func (c *console) others() []user {
	var us []user
	for id, name := range c.opts.Users {
		if id != c.opts.UserID {
			us = append(us, user{id, name})
		}
	}
	slices.SortFunc(us, func(a, b user) int { return strings.Compare(a.name, b.name) })
	return us
}

// help lists the console's own commands.
func (c *console) help() string {
	var sb strings.Builder
	sb.WriteString("Console lines: `/…` a slash command · a number clicks that button · `help` this list · `# …` a comment (ignored)")
	if us := c.others(); len(us) > 0 {
		fmt.Fprintf(&sb, " · `as @%s <line>` types that one line as @%s (someone else: a second person to confirm, e.g. with QOVERY_BOT_FOUR_EYES)", us[0].name, us[0].name)
	}
	sb.WriteString(" · `quit`, `exit` or the end of input leaves (the bot shuts down as it does on SIGTERM).")
	return sb.String()
}

// author splits `as @name <line>` into its user and line; any other line is the console user's.
func (c *console) author(line string) (user, string, error) {
	me := user{c.opts.UserID, c.opts.UserName}
	rest, ok := strings.CutPrefix(line, "as @")
	if !ok {
		return me, line, nil
	}
	name, typed, _ := strings.Cut(rest, " ")
	typed = strings.TrimSpace(typed)
	var names []string
	for _, u := range append([]user{me}, c.others()...) {
		if u.name == name {
			if typed == "" {
				return user{}, "", fmt.Errorf("`as @%s` needs a line to type, e.g. `as @%s 1`", name, name)
			}
			return u, typed, nil
		}
		names = append(names, "@"+u.name)
	}
	return user{}, "", fmt.Errorf("there is no @%s here; `as` takes one of %s", name, strings.Join(names, ", "))
}
