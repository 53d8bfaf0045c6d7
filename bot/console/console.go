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
	"slices"
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
	// Handling reports whether the bot is still answering a command or click; after each input
	// the console waits until it is false, so that scripted input ("1" after a command) refers to
	// buttons that exist by then.
	Handling func() bool
	// Busy reports whether the bot still has work whose messages are to come (a stop being
	// watched). At the end of the input the console waits until it is false.
	Busy func() bool
	// ReplyTimeout bounds the wait for the bot's answer to a command or click. Default 15s.
	ReplyTimeout time.Duration
	// Guard, when set, holds back clicks that act on the world until a word is typed.
	Guard *Guard
}

// Guard makes the console ask for Word before the first click on a button whose action id is one
// of Actions. The line typed after the prompt answers it: Word (spaces around it aside) sends the
// click and lifts the guard for the rest of the session; anything else drops the click, and the
// next such click asks again.
type Guard struct {
	Actions []string
	Word    string
	// Prompt asks for Word and says why.
	Prompt string
}

// Run reads commands from in until it ends or ctx is done, and writes the conversation to out.
// Input lines are slash commands (`/qovery stop staging`), button numbers (`1`), or `quit`.
func Run(ctx context.Context, s *fakeslack.Server, in io.Reader, out io.Writer, opts Options) error {
	if opts.ReplyTimeout <= 0 {
		opts.ReplyTimeout = 15 * time.Second
	}
	c := &console{s: s, out: out, opts: opts, start: time.Now(), buttons: map[int]button{}, messages: map[string]int{}, printedCh: make(chan struct{})}
	events, unsubscribe := s.Subscribe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range events {
			c.print(ev)
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
		if c.guarding != nil {
			if err := c.answerGuard(ctx, line); err != nil {
				c.say("%v", err)
			} else if err := c.settle(ctx, opts.Handling); err != nil {
				c.say("(%v)", err)
			}
			continue
		}
		if err := c.act(ctx, line); err != nil {
			c.say("%v", err)
			continue
		}
		if err := c.settle(ctx, opts.Handling); err != nil {
			c.say("(%v)", err)
		}
	}
	if opts.Busy != nil && opts.Busy() {
		c.say("(end of input: waiting for the operations under way to finish; Ctrl-C to leave now)")
	}
	return c.settle(ctx, opts.Busy)
}

// settle waits until busy reports false and everything the fake Slack showed by then is printed.
// The bot is another goroutine with no "done" signal, so polling is the honest way here; this is
// the interactive console, not a test.
func (c *console) settle(parent context.Context, busy func() bool) error {
	ctx, cancel := context.WithTimeout(parent, c.opts.ReplyTimeout)
	defer cancel()
	timedOut := func() error {
		if parent.Err() != nil {
			return nil // leaving
		}
		return fmt.Errorf("no complete answer from the bot after %s", c.opts.ReplyTimeout)
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for busy != nil && busy() {
		select {
		case <-ctx.Done():
			return timedOut()
		case <-t.C:
		}
	}
	want := c.s.LastEventSeq()
	for {
		c.mu.Lock()
		printed, ch := c.printed, c.printedCh
		c.mu.Unlock()
		if printed >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return timedOut()
		case <-ch:
		}
	}
}

type button struct {
	number                      int
	channel, ts, actionID, text string
}

type console struct {
	s     *fakeslack.Server
	outMu sync.Mutex
	out   io.Writer
	opts  Options
	start time.Time

	mu      sync.Mutex
	next    int
	buttons map[int]button
	// view is the dialog open for the user, if any: the next plain line answers it.
	view *fakeslack.View
	// guarding is the click held back until the guard's word is typed; guardLifted is set once it
	// was typed right. Only the input loop reads and writes them.
	guarding    *button
	guardLifted bool
	// messages numbers top-level messages by timestamp.
	messages map[string]int
	// printed is the Seq of the last event printed; printedCh is closed and replaced on each print.
	printed   uint64
	printedCh chan struct{}
}

func (c *console) act(ctx context.Context, line string) error {
	c.mu.Lock()
	view := c.view
	c.mu.Unlock()
	if view != nil && !strings.HasPrefix(line, "/") {
		return c.answerView(ctx, *view, line)
	}
	if n, err := strconv.Atoi(line); err == nil {
		c.mu.Lock()
		b, ok := c.buttons[n]
		c.mu.Unlock()
		if !ok {
			return fmt.Errorf("there is no button [%d]", n)
		}
		if c.guarded(b.actionID) {
			c.guarding = &b
			c.say("%s", c.opts.Guard.Prompt)
			return nil
		}
		return c.click(ctx, b)
	}
	if !strings.HasPrefix(line, "/") {
		return errors.New("type a slash command such as `/qovery help`, or a button number")
	}
	command, text, _ := strings.Cut(line, " ")
	_, err := c.s.SlashCommand(ctx, fakeslack.SlashCommand{UserID: c.opts.UserID, ChannelID: c.opts.ChannelID, Command: command, Text: strings.TrimSpace(text)})
	return err
}

// click clicks b as the console user.
func (c *console) click(ctx context.Context, b button) error {
	_, err := c.s.ClickButton(ctx, fakeslack.Click{UserID: c.opts.UserID, ChannelID: b.channel, MessageTS: b.ts, ActionID: b.actionID})
	if errors.Is(err, fakeslack.ErrNoSuchButton) {
		return fmt.Errorf("button [%d] is no longer on its message", b.number)
	}
	return err
}

// guarded reports whether a click on a button with this action id waits for the guard's word.
func (c *console) guarded(actionID string) bool {
	return c.opts.Guard != nil && !c.guardLifted && slices.Contains(c.opts.Guard.Actions, actionID)
}

// answerGuard takes line as the answer to the guard's prompt: the held click is sent if it is the
// word, and dropped otherwise.
func (c *console) answerGuard(ctx context.Context, line string) error {
	b := *c.guarding
	c.guarding = nil
	if strings.TrimSpace(line) != c.opts.Guard.Word {
		c.say("That is not %q: button [%d] was not clicked, nothing was sent. The next such click asks again.", c.opts.Guard.Word, b.number)
		return nil
	}
	c.guardLifted = true
	c.say("Confirmed for this session; clicking [%d] %s.", b.number, b.text)
	return c.click(ctx, b)
}

// messageNumber names a top-level message by its order of appearance, so that thread replies and
// edits can say which message they belong to.
func (c *console) messageNumber(ts string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.messages[ts]; ok {
		return n
	}
	c.messages[ts] = len(c.messages) + 1
	return c.messages[ts]
}

// answerView types line into the open dialog's input and submits it, or closes the dialog on
// "back".
func (c *console) answerView(ctx context.Context, v fakeslack.View, line string) error {
	if line == "back" {
		_, err := c.s.CloseView(ctx, c.opts.UserID, v.ID)
		return err
	}
	inputs := v.Inputs()
	if len(inputs) == 0 {
		return errors.New("this dialog has nothing to type in; type `back` to close it")
	}
	res, err := c.s.SubmitView(ctx, fakeslack.ViewSubmission{UserID: c.opts.UserID, ViewID: v.ID,
		Values: map[string]map[string]string{inputs[0].BlockID: {inputs[0].ActionID: line}}})
	if err != nil {
		return err
	}
	for _, msg := range res.Errors {
		c.say("Qovery (in the dialog): %s", c.readable(msg))
	}
	return nil
}

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

func (c *console) echo(line string) {
	c.write(fmt.Sprintf("%s @%s: %s\n", c.stamp(), c.opts.UserName, line))
}

func (c *console) say(format string, args ...any) {
	c.write(fmt.Sprintf("%s %s\n", c.stamp(), fmt.Sprintf(format, args...)))
}

func (c *console) print(ev fakeslack.Event) {
	defer func() {
		c.mu.Lock()
		c.printed = ev.Seq
		close(c.printedCh)
		c.printedCh = make(chan struct{})
		c.mu.Unlock()
	}()
	var head, body string
	var buttons []fakeslack.Button
	var msg fakeslack.Message
	switch ev.Kind {
	case fakeslack.EventViewOpened, fakeslack.EventViewUpdated:
		if ev.View.UserID != c.opts.UserID {
			return
		}
		v := ev.View
		c.mu.Lock()
		c.view = &v
		c.mu.Unlock()
		head, body = "Qovery opened a dialog:", v.PlainText()+"\n(type your answer, or `back` to close the dialog)"
	case fakeslack.EventViewClosed:
		if ev.View.UserID != c.opts.UserID {
			return
		}
		c.mu.Lock()
		c.view = nil
		c.mu.Unlock()
		return
	case fakeslack.EventEphemeral:
		if ev.Ephemeral.User != c.opts.UserID {
			return
		}
		head, body = "Qovery (only visible to you):", ev.Ephemeral.PlainText()
	case fakeslack.EventPosted:
		msg = ev.Message
		if msg.ThreadTS != "" && msg.ThreadTS != msg.TS {
			head = fmt.Sprintf("  ↳ Qovery in the thread of message %d:", c.messageNumber(msg.ThreadTS))
		} else {
			head = fmt.Sprintf("Qovery in #%s (message %d):", c.opts.ChannelName, c.messageNumber(msg.TS))
		}
		body, buttons = msg.PlainText(), msg.Buttons()
	case fakeslack.EventUpdated:
		if ev.Message.TS == "" {
			return // an edited ephemeral; the bot does not edit those
		}
		msg = ev.Message
		head = fmt.Sprintf("Qovery edited message %d:", c.messageNumber(msg.TS))
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
			c.buttons[c.next] = button{number: c.next, channel: msg.Channel, ts: msg.TS, actionID: b.ActionID, text: b.Text}
			labels = append(labels, fmt.Sprintf("[%d] %s", c.next, b.Text))
		}
		c.mu.Unlock()
		fmt.Fprintf(&sb, "    %s\n", strings.Join(labels, "   "))
	}
	c.write(sb.String())
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
