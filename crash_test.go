package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// Crash tests: the program is cut off from the world at one exact step of a stop, as a killed
// process would be (no further HTTP call or store write leaves it), then started again over the same
// data dir. Whatever the step, Qovery gets at most one stop call and the thread gets each reply
// exactly once.

var errCrashed = errors.New("crashed")

// crash is the kill switch of one run: once it trips, every HTTP call and store write fails.
type crash struct {
	mu      sync.Mutex
	tripped bool
	// before and after pick the request at which the process dies: before it is sent, or after
	// its answer arrived but before the program could act on it.
	before, after func(*http.Request) bool
	trippedCh     chan struct{}
}

func newCrash(before, after func(*http.Request) bool) *crash {
	return &crash{before: before, after: after, trippedCh: make(chan struct{})}
}

func (c *crash) trip() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.tripped {
		c.tripped = true
		close(c.trippedCh)
	}
}

func (c *crash) isTripped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tripped
}

type crashTransport struct {
	c    *crash
	base http.RoundTripper
}

func (t crashTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.c.isTripped() {
		return nil, errCrashed
	}
	if t.c.before != nil && t.c.before(req) {
		t.c.trip()
		return nil, errCrashed
	}
	resp, err := t.base.RoundTrip(req)
	if t.c.after != nil && t.c.after(req) {
		t.c.trip()
		if resp != nil {
			resp.Body.Close()
		}
		return nil, errCrashed
	}
	if t.c.isTripped() {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, errCrashed
	}
	return resp, err
}

// crashStore refuses every write once the crash tripped, so the dead run records nothing more.
type crashStore struct {
	commands.Store
	c *crash
}

func (s crashStore) Create(ctx context.Context, op commands.Operation) error {
	if s.c.isTripped() {
		return errCrashed
	}
	return s.Store.Create(ctx, op)
}

func (s crashStore) Update(ctx context.Context, id uuid.UUID, fence *commands.Lease, fn func(*commands.Operation) error) (commands.Operation, error) {
	if s.c.isTripped() {
		return commands.Operation{}, errCrashed
	}
	return s.Store.Update(ctx, id, fence, func(op *commands.Operation) error {
		if s.c.isTripped() {
			return errCrashed
		}
		return fn(op)
	})
}

// The schedules are refused the same way.

func (s crashStore) AddSchedule(ctx context.Context, r commands.ScheduleRecord) error {
	if s.c.isTripped() {
		return errCrashed
	}
	return s.Store.AddSchedule(ctx, r)
}

func (s crashStore) UpdateSchedule(ctx context.Context, id string, fn func(*commands.ScheduleRecord) error) (commands.ScheduleRecord, error) {
	if s.c.isTripped() {
		return commands.ScheduleRecord{}, errCrashed
	}
	return s.Store.UpdateSchedule(ctx, id, fn)
}

func (s crashStore) RemoveSchedule(ctx context.Context, id string) (commands.ScheduleRecord, error) {
	if s.c.isTripped() {
		return commands.ScheduleRecord{}, errCrashed
	}
	return s.Store.RemoveSchedule(ctx, id)
}

func (s crashStore) ClaimOccurrence(ctx context.Context, id string, at time.Time, outcome string) (bool, error) {
	if s.c.isTripped() {
		return false, errCrashed
	}
	return s.Store.ClaimOccurrence(ctx, id, at, outcome)
}

func (s crashStore) Occurrence(ctx context.Context, id string, at time.Time) (string, error) {
	if s.c.isTripped() {
		return "", errCrashed
	}
	return s.Store.Occurrence(ctx, id, at)
}

func (c *crash) options() []func(*appOptions) {
	return []func(*appOptions){func(o *appOptions) {
		o.wrapTransport = func(base http.RoundTripper) http.RoundTripper { return crashTransport{c: c, base: base} }
		o.wrapStore = func(s commands.Store) commands.Store { return crashStore{Store: s, c: c} }
	}}
}

func isStopCall(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/stop")
}

// postForm returns the form of a chat.postMessage call, or false for any other request.
func postForm(r *http.Request) (url.Values, bool) {
	if !strings.HasSuffix(r.URL.Path, "/chat.postMessage") || r.GetBody == nil {
		return nil, false
	}
	body, err := r.GetBody()
	if err != nil {
		return nil, false
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, false
	}
	form, err := url.ParseQuery(string(raw))
	return form, err == nil
}

// isThreadPost reports a chat.postMessage of a thread reply containing want.
func isThreadPost(want string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		form, ok := postForm(r)
		return ok && form.Get("thread_ts") != "" && strings.Contains(form.Get("text"), want)
	}
}

func TestCrashAtEachStepEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after func(*http.Request) bool
		wantStopCalls int
		wantReplies   []string
	}{
		{
			name:          "before the stop call",
			before:        isStopCall,
			wantStopCalls: 0,
			wantReplies:   []string{":x: The bot restarted while sending the stop"},
		},
		{
			name:          "after the stop call, before its answer was recorded",
			after:         isStopCall,
			wantStopCalls: 1,
			wantReplies:   []string{":inbox_tray: Qovery accepted the stop · `STOP_QUEUED`", ":gear: `STOPPING`", ":white_check_mark: `STOPPED` after"},
		},
		{
			name:          "mid-watch",
			before:        isThreadPost("STOPPING"),
			wantStopCalls: 1,
			wantReplies:   []string{":inbox_tray: Qovery accepted the stop · `STOP_QUEUED`", ":gear: `STOPPING`", ":white_check_mark: `STOPPED` after"},
		},
		{
			name:          "after STOPPED, before its message",
			before:        isThreadPost("STOPPED after"),
			wantStopCalls: 1,
			wantReplies:   []string{":inbox_tray: Qovery accepted the stop · `STOP_QUEUED`", ":gear: `STOPPING`", ":white_check_mark: `STOPPED` after"},
		},
		{
			name:          "after STOPPED's message reached Slack, before it was recorded",
			after:         isThreadPost("STOPPED after"),
			wantStopCalls: 1,
			wantReplies:   []string{":inbox_tray: Qovery accepted the stop · `STOP_QUEUED`", ":gear: `STOPPING`", ":white_check_mark: `STOPPED` after"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCrash(tc.before, tc.after)
			h := startBot(t, nil, c.options()...)
			h.command(alice, ops, "stop staging")
			msg := h.confirmation(ops)
			h.click(alice, msg, commands.ActionConfirm)
			select {
			case <-c.trippedCh:
			case <-h.ctx().Done():
				t.Fatal("the crash point was never reached")
			}
			h.stop()
			h.opts = []func(*appOptions){func(o *appOptions) { o.noPacing = true }} // the next run lives
			h.start()

			want := tc.wantReplies
			if err := h.slack.WaitFor(h.ctx(), func() bool { return len(h.replies(msg)) >= len(want) }); err != nil {
				t.Fatalf("thread = %q; want %d replies: %v", h.replies(msg), len(want), err)
			}
			// Let the resumed run finish what it does, then compare the whole thread.
			final := want[len(want)-1]
			if err := h.slack.WaitFor(h.ctx(), func() bool {
				r := h.replies(msg)
				return strings.HasPrefix(r[len(r)-1], final)
			}); err != nil {
				t.Fatalf("thread = %q; want it to end with %q", h.replies(msg), final)
			}
			h.stop()
			got := h.replies(msg)
			if len(got) != len(want) {
				t.Fatalf("thread = %q; want exactly %d replies (each once)", got, len(want))
			}
			for i := range want {
				if !strings.HasPrefix(got[i], want[i]) {
					t.Errorf("reply %d = %q; want prefix %q", i, got[i], want[i])
				}
			}
			if n := h.stopCalls("staging"); n != tc.wantStopCalls {
				t.Errorf("stop calls = %d; want %d", n, tc.wantStopCalls)
			}
		})
	}
}

// isConfirmationPost reports the chat.postMessage of a confirmation (a top-level message).
func isConfirmationPost(r *http.Request) bool {
	form, ok := postForm(r)
	return ok && form.Get("thread_ts") == "" && form.Get("response_url") == "" && strings.Contains(form.Get("blocks"), commands.ActionConfirm)
}

// A request recorded but never shown (the process died while posting its confirmation) must not
// hold its cluster for ever: once its confirmation time is up it expires, audited, and the cluster
// can be stopped again.
func TestCrashBeforeTheConfirmationIsPostedFreesTheCluster(t *testing.T) {
	c := newCrash(isConfirmationPost, nil)
	h := startBot(t, map[string]string{"QOVERY_BOT_CONFIRM_TTL": "300ms"}, c.options()...)
	h.command(alice, ops, "stop staging")
	select {
	case <-c.trippedCh:
	case <-h.ctx().Done():
		t.Fatal("the crash point was never reached")
	}
	h.stop()
	h.opts = []func(*appOptions){func(o *appOptions) { o.noPacing = true; o.expirySweep = 20 * time.Millisecond }}
	h.start()

	h.waitLog(`"audit":"stop_expired"`)
	h.command(bob, ops, "stop staging")
	msg := h.confirmation(ops)
	h.click(bob, msg, commands.ActionConfirm)
	h.waitParent(msg, "is `STOPPED`")
	if n := h.stopCalls("staging"); n != 1 {
		t.Errorf("stop calls = %d; want 1", n)
	}
}

// A confirmation post that outlives the envelope's work time (Slack asked to retry after longer
// than that) withdraws its request all the same, so the cluster is free for the next try.
func TestConfirmationPostOutlivingItsWorkFreesTheCluster(t *testing.T) {
	h := startBot(t, nil, func(o *appOptions) { o.workTimeout = 300 * time.Millisecond })
	h.slack.FailNext("chat.postMessage", 1, slacksim.Failure{Status: 429, RetryAfter: "5"})
	h.command(alice, ops, "stop staging")
	if got := h.ephemeral(alice, 1); !strings.Contains(got, "could not post the confirmation") {
		t.Errorf("answer = %q; want it to say the confirmation could not be posted", got)
	}
	h.command(alice, ops, "stop staging")
	msg := h.confirmation(ops)
	if !strings.Contains(msg.PlainText(), "staging") {
		t.Errorf("confirmation = %q", msg.PlainText())
	}
}
