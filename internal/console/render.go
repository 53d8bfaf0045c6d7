package console

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

func (c *console) stamp() string {
	d := time.Since(c.start).Round(time.Second)
	return fmt.Sprintf("[%02d:%02d]", int(d.Minutes()), int(d.Seconds())%60)
}

// write prints s whole: the input loop and the event printer both write, and their lines must not
// interleave.
func (c *console) write(s string) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	_, _ = io.WriteString(c.out, s)
}

// echo repeats a line typed by u, unless the terminal already shows it.
func (c *console) echo(u user, line string) {
	if c.opts.Echo {
		c.write(fmt.Sprintf("%s @%s: %s\n", c.stamp(), u.name, line))
	}
}

// forWhom names who a dialog is for when it is not the console user: " for @bob".
func (c *console) forWhom(userID string) string {
	if userID == c.opts.UserID {
		return ""
	}
	return " for @" + c.opts.Users[userID]
}

// typist reports whether userID is someone typing in the console.
func (c *console) typist(userID string) bool {
	_, ok := c.opts.Users[userID]
	return ok || userID == c.opts.UserID
}

func (c *console) say(format string, args ...any) {
	c.write(fmt.Sprintf("%s %s\n", c.stamp(), fmt.Sprintf(format, args...)))
}

func (c *console) print(ev slacksim.Event) {
	defer func() {
		c.mu.Lock()
		c.printed = ev.Seq
		close(c.printedCh)
		c.printedCh = make(chan struct{})
		c.mu.Unlock()
	}()
	var head, body string
	var buttons []slacksim.Button
	var msg slacksim.Message
	switch ev.Kind {
	case slacksim.EventViewOpened, slacksim.EventViewUpdated:
		v := ev.View
		if !c.typist(v.UserID) {
			return
		}
		c.mu.Lock()
		c.views[v.UserID] = v
		c.mu.Unlock()
		answer := "(type your answer, or `back` to close the dialog)"
		if v.UserID != c.opts.UserID {
			answer = fmt.Sprintf("(type `as @%s <answer>`, or `as @%s back` to close the dialog)", c.opts.Users[v.UserID], c.opts.Users[v.UserID])
		}
		head, body = fmt.Sprintf("Qovery opened a dialog%s:", c.forWhom(v.UserID)), v.Title+"\n"+c.show(v.Blocks, "")+"\n"+answer
	case slacksim.EventViewClosed:
		c.mu.Lock()
		delete(c.views, ev.View.UserID)
		c.mu.Unlock()
		return
	case slacksim.EventEphemeral:
		u := ev.Ephemeral.User
		if !c.typist(u) {
			return
		}
		head = "Qovery (only visible to you):"
		if u != c.opts.UserID {
			head = fmt.Sprintf("Qovery (only visible to @%s):", c.opts.Users[u])
		}
		body = c.show(ev.Ephemeral.Blocks, ev.Ephemeral.Text)
	case slacksim.EventPosted:
		msg = ev.Message
		if msg.ThreadTS != "" && msg.ThreadTS != msg.TS {
			head = fmt.Sprintf("  ↳ Qovery in the thread of message %d:", c.messageNumber(msg.ThreadTS))
		} else {
			head = fmt.Sprintf("Qovery in #%s (message %d):", c.opts.ChannelName, c.messageNumber(msg.TS))
		}
		body, buttons = c.show(msg.Blocks, msg.Text), msg.Buttons()
	case slacksim.EventUpdated:
		if ev.Message.TS == "" {
			return // an edited ephemeral; the bot does not edit those
		}
		msg = ev.Message
		head = fmt.Sprintf("Qovery edited message %d:", c.messageNumber(msg.TS))
		body, buttons = c.show(msg.Blocks, msg.Text), msg.Buttons()
	default:
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s\n", c.stamp(), head)
	for _, l := range strings.Split(body, "\n") {
		fmt.Fprintf(&sb, "    %s\n", l)
	}
	if len(buttons) > 0 {
		var labels []string
		c.mu.Lock()
		for _, b := range buttons {
			c.next++
			c.buttons[c.next] = button{number: c.next, channel: msg.Channel, ts: msg.TS, actionID: b.ActionID, text: b.Text}
			labels = append(labels, fmt.Sprintf("[%d] %s", c.next, b.Text))
		}
		c.mu.Unlock()
		fmt.Fprintf(&sb, "    %s\n", strings.Join(labels, "   "))
	}
	c.write(sb.String())
}
