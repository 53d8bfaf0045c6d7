package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func testOp() commands.Operation {
	t0 := time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)
	return commands.Operation{
		ID:              uuid.MustParse("3f2a9c1e-0000-4000-8000-000000000001"),
		OrganizationID:  uuid.MustParse("11111111-1111-1111-1111-111111111111"),
		ClusterID:       uuid.MustParse("22222222-2222-2222-2222-222222222222"),
		ClusterName:     "<!channel> & co",
		CloudProvider:   "AWS",
		Region:          "eu-west-3",
		StatusAtRequest: qovery.StateDeployed,
		RequestedBy:     "U1",
		ChannelID:       "C1",
		MessageTS:       "1700000000.000100",
		RequestedAt:     t0,
		ExpiresAt:       t0.Add(10 * time.Minute),
		Phase:           commands.PhasePending,
		ConsoleURL:      "https://console.qovery.com/organization/o/cluster/c",
	}
}

func blocksJSON(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false) // show the text as Slack receives it, not as \u003c
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// shown is blocks as the simulated Slack reads them, rich text in mrkdwn notation.
func shown(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	return slacksim.Message{Blocks: json.RawMessage(blocksJSON(t, blocks))}.PlainText()
}

func TestConfirmationBlocks(t *testing.T) {
	op := testOp()
	blocks := confirmationBlocks(op, 10*time.Minute)
	js, text := blocksJSON(t, blocks), shown(t, blocks)
	for _, want := range []string{
		`Stop cluster *&lt;!channel&gt; &amp; co*?`,
		`Requested by <@U1> · AWS eu-west-3 · currently ` + "`DEPLOYED`" + ` · production: no`,
		`Expires in 10 minutes · request 3f2a9c1e`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("confirmation lacks %s\n%s", want, text)
		}
	}
	for _, want := range []string{
		`"action_id":"qovery_confirm","value":"3f2a9c1e-0000-4000-8000-000000000001:22222222-2222-2222-2222-222222222222"`,
		`"style":"danger"`,
		`"action_id":"qovery_cancel"`,
		`{"type":"text","text":"<!channel> & co","style":{"bold":true}}`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("confirmation blocks lack %s\n%s", want, js)
		}
	}
	// The name is text: the only mention is the requester's, and nothing is broadcast.
	if strings.Count(js, `"type":"user"`) != 1 || strings.Contains(js, `"broadcast"`) {
		t.Errorf("confirmation blocks: a name became markup: %s", js)
	}
	if strings.Count(js, `"style":"`) != 1 {
		t.Errorf("only the Stop button has a style: %s", js)
	}
	fb := confirmationFallback(op)
	if !strings.HasSuffix(fb, ".") || strings.Contains(fb, "<!channel>") {
		t.Errorf("fallback %q: want a full, escaped sentence", fb)
	}
}

func TestParentBlocks(t *testing.T) {
	now := time.Date(2026, 11, 27, 21, 10, 0, 0, time.UTC)
	base := testOp()
	base.ConfirmedBy, base.ConfirmedAt = "U2", base.RequestedAt.Add(time.Minute)
	base.AcceptedAt = base.ConfirmedAt
	for _, tc := range []struct {
		name   string
		mutate func(*commands.Operation)
		want   []string
	}{
		{"stopping", func(o *commands.Operation) { o.Phase, o.State = commands.PhaseWatching, qovery.StateStopping },
			[]string{":gear: Stopping *&lt;!channel&gt; &amp; co* · `STOPPING` · 9m00s", "confirmed by <@U2> at 21:01 UTC", "|Open in Qovery>"}},
		{"succeeded", func(o *commands.Operation) {
			o.Phase, o.State, o.FinishedAt = commands.PhaseSucceeded, qovery.StateStopped, o.AcceptedAt.Add(7*time.Minute+41*time.Second)
		}, []string{":white_check_mark: *&lt;!channel&gt; &amp; co* is `STOPPED` · took 7m41s"}},
		{"failed", func(o *commands.Operation) { o.Phase, o.State = commands.PhaseFailed, qovery.StateStopError },
			[]string{":x: *&lt;!channel&gt; &amp; co* stop failed · `STOP_ERROR` · <https://console.qovery.com/organization/o/cluster/c|See logs in Qovery>"}},
		{"cancelled", func(o *commands.Operation) { o.Phase, o.FinishedBy, o.ConfirmedBy = commands.PhaseCancelled, "U1", "" },
			[]string{":no_entry_sign: Stop of *&lt;!channel&gt; &amp; co* cancelled by <@U1>"}},
		{"expired", func(o *commands.Operation) { o.Phase, o.ConfirmedBy = commands.PhaseExpired, "" },
			[]string{"expired: nobody confirmed within 10 minutes", "`/qovery stop &lt;!channel&gt; &amp; co`"}},
		{"void with note", func(o *commands.Operation) { o.Phase, o.Note = commands.PhaseVoid, commands.Say("Not stopped: busy.") },
			[]string{":no_entry_sign: *&lt;!channel&gt; &amp; co* was not stopped", "Not stopped: busy."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := base
			tc.mutate(&op)
			blocks, fallback := parentBlocks(op, now)
			for _, b := range blocks {
				if _, ok := b.(*slack.ActionBlock); ok {
					t.Errorf("a %s parent still has buttons", op.Phase)
				}
			}
			all := shown(t, blocks)
			for _, want := range tc.want {
				if !strings.Contains(all, want) {
					t.Errorf("parent = %q; want it to contain %q", all, want)
				}
			}
			if strings.ContainsAny(fallback, "*`") {
				t.Errorf("fallback %q keeps markup", fallback)
			}
		})
	}
}

func TestThreadLines(t *testing.T) {
	op := testOp()
	op.Phase, op.ConfirmedBy = commands.PhaseWatching, "U2"
	op.AcceptedAt = op.RequestedAt
	at := op.AcceptedAt.Add(41 * time.Second)
	for _, tc := range []struct {
		ev   commands.Event
		note string
		want string
	}{
		{commands.Event{Kind: commands.EventAccepted, State: qovery.StateStopQueued, At: at}, "", ":inbox_tray: Qovery accepted the stop · `STOP_QUEUED`"},
		{commands.Event{Kind: commands.EventState, State: qovery.StateStopping, At: at}, "", ":gear: `STOPPING` · 41s"},
		{commands.Event{Kind: commands.EventState, State: "PAUSED_SOFTLY", At: at}, "", ":grey_question: `PAUSED_SOFTLY` · 41s"},
		{commands.Event{Kind: commands.EventSucceeded, State: qovery.StateStopped, At: at}, "", ":white_check_mark: `STOPPED` after 41s · <@U1> <@U2>"},
		{commands.Event{Kind: commands.EventTimedOut, At: at}, "Still STOPPING.", ":hourglass_flowing_sand: Still STOPPING. <@U1> <@U2>"},
		{commands.Event{Kind: commands.EventConfirmed, At: at}, "", ""},
		{commands.Event{Kind: commands.EventCancelled, At: at}, "", ""},
	} {
		o := op
		o.Note = commands.Say(tc.note)
		if got := mrkdwn(threadLine(o, tc.ev)); got != tc.want {
			t.Errorf("threadLine(%s %s) = %q; want %q", tc.ev.Kind, tc.ev.State, got, tc.want)
		}
	}
}

func TestTextBlocksSplitsLongText(t *testing.T) {
	line := strings.Repeat("x", 100)
	var lines []string
	for range 70 {
		lines = append(lines, line)
	}
	lines = append(lines, strings.Repeat("y", 4000))
	blocks := textBlocks(commands.Say(strings.Join(lines, "\n")))
	if len(blocks) != 4 {
		t.Fatalf("7,000 characters in short lines and one of 4,000 gave %d blocks; want 4", len(blocks))
	}
	var all strings.Builder
	for _, b := range blocks {
		n := 0
		for _, e := range b.(*slack.RichTextBlock).Elements[0].(*slack.RichTextSection).Elements {
			text := e.(*slack.RichTextSectionTextElement).Text
			n += utf8.RuneCountInString(text)
			all.WriteString(text)
		}
		if n > maxBlockText {
			t.Errorf("a block of %d characters; at most %d", n, maxBlockText)
		}
	}
	if got := all.String(); strings.Count(got, "x") != 7000 || !strings.HasSuffix(got, "y…") {
		t.Errorf("the blocks lost text: %d x, ending %q", strings.Count(got, "x"), got[len(got)-10:])
	}
}

func TestEnvelopeSet(t *testing.T) {
	s := newEnvelopeSet(2)
	for _, tc := range []struct {
		id   string
		want bool
	}{{"a", true}, {"a", false}, {"b", true}, {"c", true}, {"b", false}, {"a", true}} {
		if got := s.add(tc.id); got != tc.want {
			t.Errorf("add(%q) = %v; want %v", tc.id, got, tc.want)
		}
	}
}

// A line cut inside a link or a mention ends with an ellipsis where the link would have been.
func TestTextBlocksCutsAtALink(t *testing.T) {
	long := "https://x.test/" + strings.Repeat("a", maxBlockText)
	blocks := textBlocks(commands.Say("see ", commands.Link(long, "x"), " and ", commands.User("U1")))
	els := blocks[0].(*slack.RichTextBlock).Elements[0].(*slack.RichTextSection).Elements
	if len(blocks) != 1 || len(els) != 1 || els[0].(*slack.RichTextSectionTextElement).Text != "see …" {
		t.Errorf("a line cut at a link gave %s", blocksJSON(t, blocks))
	}
}
