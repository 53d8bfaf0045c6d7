// Package console is a terminal chat client for the fake Slack: you type slash commands and click
// buttons by number, and see every message, edit and thread reply the bot makes, as a Slack user
// would. It drives the real bot over Socket Mode; only Slack itself is simulated.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/bot/fakeslack"
)

// Options says who the console user is and how long to wait for the bot.
type Options struct {
	UserID, UserName       string
	ChannelID, ChannelName string
	// Users maps Slack user ids to names, to show mentions readably.
	Users map[string]string
	// Busy reports whether the bot still has work whose messages are to come (a stop being
	// watched). At the end of the input the console polls it until it is false.
	Busy func() bool
	// ReplyTimeout bounds the wait for the bot's first reply to a command or click. Default 15s.
	ReplyTimeout time.Duration
}

// Run reads commands from in until it ends or ctx is done, and writes the conversation to out.
// Input lines are slash commands (`/qovery stop staging`), button numbers (`1`), or `quit`.
func Run(ctx context.Context, s *fakeslack.Server, in io.Reader, out io.Writer, opts Options) error {
	if opts.ReplyTimeout <= 0 {
		opts.ReplyTimeout = 15 * time.Second
	}
	c := &console{s: s, out: out, opts: opts, start: time.Now(), buttons: map[int]button{}}
	events, unsubscribe := s.Subscribe()
	defer unsubscribe()
	printed := make(chan struct{}, 1024)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range events {
			c.print(ev)
			select {
			case printed <- struct{}{}:
			default:
			}
		}
	}()
	defer wg.Wait()
	defer unsubscribe()

	c.say("You are @%s in #%s. Type `/qovery help` to start; type a button's number to click it; `quit` or end of input to leave.", opts.UserName, opts.ChannelName)
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			break
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == "quit" || line == "exit" {
			return nil
		}
		c.echo(line)
		drain(printed)
		if err := c.act(ctx, line); err != nil {
			c.say("%v", err)
			continue
		}
		// Wait for the bot's first visible answer, so that scripted input ("1" after a command)
		// refers to buttons that exist by then.
		select {
		case <-printed:
		case <-time.After(opts.ReplyTimeout):
			c.say("(no answer from the bot after %s)", opts.ReplyTimeout)
		case <-ctx.Done():
			return nil
		}
	}
	if opts.Busy != nil && opts.Busy() {
		c.say("(end of input: waiting for the stops under way to finish; Ctrl-C to leave now)")
		// Polling is fine here: this is the interactive console, not a test.
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for opts.Busy() {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
	return nil
}

func drain(ch chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

type button struct {
	channel, ts, actionID, text string
}

type console struct {
	s     *fakeslack.Server
	out   io.Writer
	opts  Options
	start time.Time

	mu      sync.Mutex
	next    int
	buttons map[int]button
}

func (c *console) act(ctx context.Context, line string) error {
	if n, err := strconv.Atoi(line); err == nil {
		c.mu.Lock()
		b, ok := c.buttons[n]
		c.mu.Unlock()
		if !ok {
			return fmt.Errorf("there is no button [%d]", n)
		}
		_, err := c.s.ClickButton(ctx, fakeslack.Click{UserID: c.opts.UserID, ChannelID: b.channel, MessageTS: b.ts, ActionID: b.actionID})
		if errors.Is(err, fakeslack.ErrNoSuchButton) {
			return fmt.Errorf("button [%d] is no longer on its message", n)
		}
		return err
	}
	if !strings.HasPrefix(line, "/") {
		return errors.New("type a slash command such as `/qovery help`, or a button number")
	}
	command, text, _ := strings.Cut(line, " ")
	_, err := c.s.SlashCommand(ctx, fakeslack.SlashCommand{UserID: c.opts.UserID, ChannelID: c.opts.ChannelID, Command: command, Text: strings.TrimSpace(text)})
	return err
}

func (c *console) stamp() string {
	d := time.Since(c.start).Round(time.Second)
	return fmt.Sprintf("[%02d:%02d]", int(d.Minutes()), int(d.Seconds())%60)
}

func (c *console) echo(line string) {
	fmt.Fprintf(c.out, "%s @%s: %s\n", c.stamp(), c.opts.UserName, line)
}

func (c *console) say(format string, args ...any) {
	fmt.Fprintf(c.out, "%s %s\n", c.stamp(), fmt.Sprintf(format, args...))
}

func (c *console) print(ev fakeslack.Event) {
	var head, body string
	var buttons []fakeslack.Button
	var msg fakeslack.Message
	switch ev.Kind {
	case fakeslack.EventEphemeral:
		if ev.Ephemeral.User != c.opts.UserID {
			return
		}
		head, body = "Qovery (only visible to you):", ev.Ephemeral.PlainText()
	case fakeslack.EventPosted:
		msg = ev.Message
		head = "Qovery in #" + c.opts.ChannelName + ":"
		if msg.ThreadTS != "" && msg.ThreadTS != msg.TS {
			head = "  ↳ Qovery in thread:"
		}
		body, buttons = msg.PlainText(), msg.Buttons()
	case fakeslack.EventUpdated:
		msg = ev.Message
		head = "Qovery edited its message:"
		body, buttons = msg.PlainText(), msg.Buttons()
	default:
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s\n", c.stamp(), head)
	for _, l := range strings.Split(c.readable(body), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "[") && len(buttons) > 0 {
			continue // the fake's own button rendering; numbered below
		}
		fmt.Fprintf(&sb, "    %s\n", l)
	}
	if len(buttons) > 0 {
		var labels []string
		c.mu.Lock()
		for _, b := range buttons {
			c.next++
			c.buttons[c.next] = button{channel: msg.Channel, ts: msg.TS, actionID: b.ActionID, text: b.Text}
			labels = append(labels, fmt.Sprintf("[%d] %s", c.next, b.Text))
		}
		c.mu.Unlock()
		fmt.Fprintf(&sb, "    %s\n", strings.Join(labels, "   "))
	}
	io.WriteString(c.out, sb.String())
}

var (
	mentionRE = regexp.MustCompile(`<@([A-Z0-9]+)>`)
	linkRE    = regexp.MustCompile(`<(https?://[^|>]+)\|([^>]+)>`)
	channelRE = regexp.MustCompile(`<#([A-Z0-9]+)(\|[^>]*)?>`)
	emojiText = strings.NewReplacer(
		":warning:", "⚠️", ":white_check_mark:", "✅", ":x:", "❌", ":gear:", "⚙️",
		":inbox_tray:", "📥", ":hourglass_flowing_sand:", "⏳", ":lock:", "🔒",
		":no_entry_sign:", "🚫", ":grey_question:", "❔", ":white_circle:", "⚪", ":large_green_circle:", "🟢",
	)
	unescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// readable turns mrkdwn into what a person would see in Slack: names for mentions, link text with
// its address, emoji for shortcodes.
func (c *console) readable(s string) string {
	s = mentionRE.ReplaceAllStringFunc(s, func(m string) string {
		id := mentionRE.FindStringSubmatch(m)[1]
		if name, ok := c.opts.Users[id]; ok {
			return "@" + name
		}
		return "@" + id
	})
	s = linkRE.ReplaceAllString(s, "$2 ($1)")
	s = channelRE.ReplaceAllStringFunc(s, func(m string) string {
		if m := channelRE.FindStringSubmatch(m); m[1] == c.opts.ChannelID {
			return "#" + c.opts.ChannelName
		}
		return "#" + channelRE.FindStringSubmatch(m)[1]
	})
	return unescape.Replace(emojiText.Replace(s))
}
