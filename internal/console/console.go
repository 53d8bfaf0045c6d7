// Package console is a terminal chat client for the fake Slack: you type slash commands and click
// buttons by number, and see every message, edit and thread reply the bot makes, as a Slack user
// would. It drives the real bot over Socket Mode; only Slack itself is simulated.
package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// Options says who the console user is and how long to wait for the bot.
type Options struct {
	UserID, UserName       string
	ChannelID, ChannelName string
	// Users maps Slack user ids to names, to show mentions readably. Each of them but the console
	// user can also type a line: `as @name <line>`.
	Users map[string]string
	// Echo repeats each input line in the transcript, with its author. A terminal already shows what
	// is typed; a script on a pipe does not.
	Echo bool
	// Handling reports whether the bot is still answering a command or click; after each input
	// the console waits until it is false, so that scripted input ("1" after a command) refers to
	// buttons that exist by then.
	Handling func() bool
	// Busy reports whether the bot still has work whose messages are to come (a stop being
	// watched). At the end of the input the console waits until it is false.
	Busy func() bool
	// Shutdown, when set, stops the bot and returns once it has stopped. Run calls it when the
	// session ends (quit, end of input, ctx done) and prints what the bot says while it shuts down.
	Shutdown func()
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

// Run reads lines from in until it ends, `quit` or `exit` is typed, or ctx is done, and writes the
// conversation to out. Lines are slash commands (`/qovery stop staging`), button numbers (`1`),
// the console's own lines (`help`, `as @name <line>`) or `#` comments. When the session ends it
// calls opts.Shutdown, if set.
func Run(ctx context.Context, s *slacksim.Server, in io.Reader, out io.Writer, opts Options) error {
	if opts.ReplyTimeout <= 0 {
		opts.ReplyTimeout = 15 * time.Second
	}
	c := &console{s: s, out: out, opts: opts, start: time.Now(), buttons: map[int]button{}, views: map[string]slacksim.View{},
		messages: map[string]int{}, printedCh: make(chan struct{})}
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

	err := c.converse(ctx, in)
	if opts.Shutdown != nil {
		if opts.Busy != nil && opts.Busy() {
			c.say("(leaving: the bot shuts down as it does on SIGTERM; operations under way go on in Qovery)")
		}
		opts.Shutdown()
		// What the bot said while shutting down is printed even after Ctrl-C.
		if serr := c.settle(context.WithoutCancel(ctx), nil); serr != nil {
			c.say("(%v)", serr)
		}
	}
	return err
}

// converse handles the input lines until the session ends.
func (c *console) converse(ctx context.Context, in io.Reader) error {
	c.say("You are @%s in #%s. Type `/qovery help` to start; type a button's number to click it.", c.opts.UserName, c.opts.ChannelName)
	c.say("%s", c.help())
	lines := make(chan inputLine)
	go readLines(ctx, in, lines)
	for {
		var l inputLine
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case l, ok = <-lines:
		}
		if !ok {
			break
		}
		if l.tooLong {
			c.say("That line is over %d KiB; it was ignored.", maxLine>>10)
			continue
		}
		line := strings.TrimSpace(l.text)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == "quit" || line == "exit" {
			return nil
		}
		if line == "help" {
			c.say("%s", c.help())
			continue
		}
		u, line, err := c.author(line)
		if err != nil {
			c.say("%v", err)
			continue
		}
		c.echo(u, line)
		if err := c.handle(ctx, u, line); err != nil {
			c.say("%v", err)
			continue
		}
		if err := c.settle(ctx, c.opts.Handling); err != nil {
			c.say("(%v)", err)
		}
	}
	if c.opts.Busy != nil && c.opts.Busy() {
		c.say("(end of input: waiting for the operations under way to finish; Ctrl-C to leave now)")
	}
	return c.settle(ctx, c.opts.Busy)
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

// user is someone typing in the console: its user, or another one with `as @name`.
type user struct{ id, name string }

type console struct {
	s     *slacksim.Server
	outMu sync.Mutex
	out   io.Writer
	opts  Options
	start time.Time

	mu      sync.Mutex
	next    int
	buttons map[int]button
	// views are the dialogs open, by user id: that user's next plain line answers it.
	views map[string]slacksim.View
	// guarding is the click held back until the guard's word is typed, and who clicked;
	// guardLifted is set once the word was typed right. Only the input loop reads and writes them.
	guarding    *heldClick
	guardLifted bool
	// messages numbers top-level messages by timestamp.
	messages map[string]int
	// printed is the Seq of the last event printed; printedCh is closed and replaced on each print.
	printed   uint64
	printedCh chan struct{}
}

// heldClick is a click the guard holds back.
type heldClick struct {
	b  button
	by user
}

// handle acts on one line typed by u.
func (c *console) handle(ctx context.Context, u user, line string) error {
	if c.guarding != nil {
		return c.answerGuard(ctx, line)
	}
	c.mu.Lock()
	view, open := c.views[u.id]
	c.mu.Unlock()
	if open && !strings.HasPrefix(line, "/") {
		return c.answerView(ctx, u, view, line)
	}
	if n, err := strconv.Atoi(line); err == nil {
		c.mu.Lock()
		b, ok := c.buttons[n]
		c.mu.Unlock()
		if !ok {
			return fmt.Errorf("there is no button [%d]", n)
		}
		if c.guarded(b.actionID) {
			c.guarding = &heldClick{b: b, by: u}
			c.say("%s", c.opts.Guard.Prompt)
			return nil
		}
		return c.click(ctx, u, b)
	}
	if !strings.HasPrefix(line, "/") {
		return errors.New("type a slash command such as `/qovery help`, a button number, or `help` for the console's own commands")
	}
	command, text, _ := strings.Cut(line, " ")
	_, err := c.s.SlashCommand(ctx, slacksim.SlashCommand{UserID: u.id, ChannelID: c.opts.ChannelID, Command: command, Text: strings.TrimSpace(text)})
	return err
}

// click clicks b as u.
func (c *console) click(ctx context.Context, u user, b button) error {
	_, err := c.s.ClickButton(ctx, slacksim.Click{UserID: u.id, ChannelID: b.channel, MessageTS: b.ts, ActionID: b.actionID})
	if errors.Is(err, slacksim.ErrNoSuchButton) {
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
	h := *c.guarding
	c.guarding = nil
	if strings.TrimSpace(line) != c.opts.Guard.Word {
		c.say("That is not %q: button [%d] was not clicked, nothing was sent. The next such click asks again.", c.opts.Guard.Word, h.b.number)
		return nil
	}
	c.guardLifted = true
	c.say("Confirmed for this session; clicking [%d] %s.", h.b.number, h.b.text)
	return c.click(ctx, h.by, h.b)
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

// answerView types line into u's open dialog and submits it, or closes the dialog on "back".
func (c *console) answerView(ctx context.Context, u user, v slacksim.View, line string) error {
	if line == "back" {
		_, err := c.s.CloseView(ctx, u.id, v.ID)
		return err
	}
	inputs := v.Inputs()
	if len(inputs) == 0 {
		return errors.New("this dialog has nothing to type in; type `back` to close it")
	}
	res, err := c.s.SubmitView(ctx, slacksim.ViewSubmission{UserID: u.id, ViewID: v.ID,
		Values: map[string]map[string]string{inputs[0].BlockID: {inputs[0].ActionID: line}}})
	if err != nil {
		return err
	}
	for _, msg := range res.Errors {
		c.say("Qovery (in the dialog%s): %s", c.forWhom(u.id), msg)
	}
	return nil
}
