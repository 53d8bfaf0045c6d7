package slacksim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// A Message is a channel message as the fake stores it.
type Message struct {
	Channel string
	TS      string
	// ThreadTS is the parent's ts for a thread reply, and empty for a
	// top-level message. (Slack also sets it on a parent once it has
	// replies; the fake does not, so that it tells replies apart.)
	ThreadTS string
	User     string
	BotID    string
	Text     string
	// Blocks is the stored Block Kit JSON array, with the block_id and
	// action_id values Slack would generate filled in, or nil.
	Blocks json.RawMessage
	// Metadata is the message metadata JSON object, or nil.
	Metadata json.RawMessage
	// Edits counts chat.update calls and replace_original responses.
	Edits          int
	ReplyBroadcast bool
	// Deleted is set by a delete_original response. Deleted messages stay
	// in listings so that tests can see what was removed.
	Deleted bool
}

// Buttons returns the buttons in the message's actions blocks and section
// accessories, in order.
func (m Message) Buttons() []Button { return parseButtons(m.Blocks) }

// PlainText renders the message's blocks as readable text: header, section
// and context text and fields one per line, buttons as "[Text]". Without
// blocks it returns Text.
func (m Message) PlainText() string { return plainText(m.Blocks, m.Text) }

func (m *Message) clone() Message {
	c := *m
	c.Blocks = bytes.Clone(m.Blocks)
	c.Metadata = bytes.Clone(m.Metadata)
	return c
}

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	Channel string
	User    string
	// TS identifies the ephemeral message. It is what chat.postEphemeral
	// returns as message_ts and what a [Click] names to press one of its
	// buttons.
	TS       string
	Text     string
	ThreadTS string
	Blocks   json.RawMessage
	// Source says how the ephemeral message came to be:
	// "chat.postEphemeral", "response_url", "ack" (the payload of a slash
	// command ack), or "slack" (an error Slack itself shows, such as
	// operation_timeout).
	Source string
	// Edits counts replace_original responses to a click on it.
	Edits int
	// Deleted is set by a delete_original response to a click on it.
	Deleted bool
}

// Buttons returns the buttons in the ephemeral message's blocks.
func (e Ephemeral) Buttons() []Button { return parseButtons(e.Blocks) }

// PlainText renders the ephemeral message like [Message.PlainText].
func (e Ephemeral) PlainText() string { return plainText(e.Blocks, e.Text) }

func (e *Ephemeral) clone() Ephemeral {
	c := *e
	c.Blocks = bytes.Clone(e.Blocks)
	return c
}

// A Button is a button element found in a message's blocks.
type Button struct {
	ActionID string
	BlockID  string
	Text     string
	Value    string
	Style    string
}

// A Call is one request to a Web API method, apps.connections.open or a
// response_url (Method "response_url", with the JSON body's top-level fields
// as Form).
type Call struct {
	Method string
	// Form holds the request's arguments; a token is replaced by "REDACTED".
	Form url.Values
	At   time.Time
}

// An AckRecord is one ack received, or one that never came.
type AckRecord struct {
	EnvelopeID string
	// Type is the envelope type: "slash_commands" or "interactive".
	Type         string
	RetryAttempt int
	// Socket is the id of the Socket Mode connection the envelope was sent
	// on; each client connection has its own. For a late ack it is the
	// socket of the envelope's latest delivery, and 0 for an envelope the
	// server never sent.
	Socket  int
	Payload json.RawMessage
	// Latency is the time from sending the envelope to receiving the ack.
	Latency time.Duration
	At      time.Time
	// TimedOut records that no ack arrived within the ack timeout.
	TimedOut bool
	// Late marks an ack that nothing was waiting for: it came after the
	// timeout, or it acked the same delivery twice. Slack ignores those.
	Late bool
	// Error is what Slack would report for an unusable ack payload, such
	// as invalid_blocks; the payload was then not shown.
	Error string
}

// EventKind says what changed in an [Event].
type EventKind int

// Event kinds.
const (
	// EventPosted is a new channel message.
	EventPosted EventKind = iota + 1
	// EventUpdated is an edited message, or an edited ephemeral message
	// when Event.Ephemeral is set.
	EventUpdated
	// EventDeleted is a deleted message, or a deleted ephemeral message
	// when Event.Ephemeral is set.
	EventDeleted
	// EventEphemeral is a new ephemeral message.
	EventEphemeral
	// EventViewOpened is a modal opened by views.open or pushed by a
	// view_submission's response_action "push".
	EventViewOpened
	// EventViewUpdated is a modal whose content views.update or a
	// response_action "update" replaced.
	EventViewUpdated
	// EventViewErrors is a modal that stays open showing the errors of a
	// response_action "errors" (see [View.Errors]).
	EventViewErrors
	// EventViewClosed is a modal closed by a submission's ack, a
	// response_action "clear", or [Server.CloseView].
	EventViewClosed
)

// String returns the kind's name, such as "posted".
func (k EventKind) String() string {
	switch k {
	case EventPosted:
		return "posted"
	case EventUpdated:
		return "updated"
	case EventDeleted:
		return "deleted"
	case EventEphemeral:
		return "ephemeral"
	case EventViewOpened:
		return "view-opened"
	case EventViewUpdated:
		return "view-updated"
	case EventViewErrors:
		return "view-errors"
	case EventViewClosed:
		return "view-closed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// An Event is one visible change in the workspace. Exactly one of Message,
// Ephemeral and View is set: View for the EventView kinds, Ephemeral for
// EventEphemeral, and for EventUpdated and EventDeleted when the target was
// an ephemeral message.
type Event struct {
	// Seq numbers events from 1 in the order they happened; see [Server.LastEventSeq].
	Seq       uint64
	Kind      EventKind
	Message   Message
	Ephemeral Ephemeral
	// View is the modal as it is after the change.
	View View
}

// Messages returns the channel's messages, top-level and replies, deleted
// ones included, in ts order.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs[channel] {
		out = append(out, m.clone())
	}
	return out
}

// Message returns the message with the given ts in the channel.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgIndex[channel+"/"+ts]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// Replies returns the replies in the thread under threadTS, in order,
// without the parent.
func (s *Server) Replies(channel, threadTS string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs[channel] {
		if m.ThreadTS == threadTS {
			out = append(out, m.clone())
		}
	}
	return out
}

// Ephemerals returns the ephemeral messages shown to user, in order.
func (s *Server) Ephemerals(user string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ephemeral
	for _, e := range s.ephemerals {
		if e.User == user {
			out = append(out, e.clone())
		}
	}
	return out
}

// Calls returns the requests made to a method, in order, or every request
// when method is "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			c.Form = cloneValues(c.Form)
			out = append(out, c)
		}
	}
	return out
}

// Acks returns every ack received and every ack timeout, in order.
func (s *Server) Acks() []AckRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AckRecord, len(s.acks))
	for i, a := range s.acks {
		a.Payload = bytes.Clone(a.Payload)
		out[i] = a
	}
	return out
}

// WaitFor blocks until cond returns true or ctx is done. It evaluates cond
// once at the start and again after every state change (messages,
// ephemerals, calls, acks, connections), never by polling. cond runs without
// the server's lock held, so it may call the observation methods.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	return s.waitFor(ctx, "condition still false", cond)
}

// waitFor is WaitFor with a description of what was awaited, for the error.
func (s *Server) waitFor(ctx context.Context, what string, cond func() bool) error {
	start := time.Now()
	for {
		s.mu.Lock()
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		// Taking changed before evaluating cond means a change that lands
		// between the two still wakes us.
		if cond() {
			return nil
		}
		if closed {
			return fmt.Errorf("%w: %s", ErrClosed, what)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("slacksim: %s after %v (%s): %w",
				what, time.Since(start).Round(time.Millisecond), s.summary(), context.Cause(ctx))
		}
	}
}

// summary describes the state for timeout errors, so a failing test says
// what it was looking at.
func (s *Server) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ms := range s.msgs {
		n += len(ms)
	}
	sum := fmt.Sprintf("%d messages, %d ephemerals, %d acks, %d calls, %d connections",
		n, len(s.ephemerals), len(s.acks), len(s.calls), s.connectionsLocked())
	if len(s.views) > 0 {
		open := 0
		for _, v := range s.views {
			if v.open {
				open++
			}
		}
		sum += fmt.Sprintf(", %d views (%d open)", len(s.views), open)
	}
	return sum
}

// LastEventSeq is the Seq of the latest event published so far (0 before any): a subscriber that
// has received it has seen everything up to now.
func (s *Server) LastEventSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eventSeq
}

// Subscribe returns a feed of every visible change, in the order it
// happened, and a function that ends the subscription and closes the
// channel. Each subscriber has its own unbounded queue, so a slow reader
// never blocks the server and never loses events; the channel is also
// closed when the server is closed.
func (s *Server) Subscribe() (<-chan Event, func()) {
	sub := &subscriber{
		wake: make(chan struct{}, 1),
		out:  make(chan Event),
		stop: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		close(sub.out)
		return sub.out, func() {}
	}
	s.subs[sub] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		sub.run()
	}()
	return sub.out, func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
		sub.cancel()
	}
}

// publishLocked records a change for subscribers and wakes waiters.
func (s *Server) publishLocked(ev Event) {
	s.eventSeq++
	ev.Seq = s.eventSeq
	for sub := range s.subs {
		sub.push(ev)
	}
	s.notifyLocked()
}

// subscriber pumps its queue into out in its own goroutine, so that the
// server only ever appends to a slice while holding its lock.
type subscriber struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
	out   chan Event
	stop  chan struct{}
	once  sync.Once
}

func (sub *subscriber) push(ev Event) {
	sub.mu.Lock()
	sub.queue = append(sub.queue, ev)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) cancel() { sub.once.Do(func() { close(sub.stop) }) }

func (sub *subscriber) run() {
	defer close(sub.out)
	for {
		sub.mu.Lock()
		if len(sub.queue) == 0 {
			sub.mu.Unlock()
			select {
			case <-sub.wake:
				continue
			case <-sub.stop:
				return
			}
		}
		ev := sub.queue[0]
		sub.queue[0] = Event{}
		sub.queue = sub.queue[1:]
		sub.mu.Unlock()
		select {
		case sub.out <- ev:
		case <-sub.stop:
			return
		}
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
