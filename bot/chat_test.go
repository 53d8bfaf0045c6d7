package bot

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// TestChatCoalescesParentEdits: several states queued at once each get a thread line, in order,
// but the parent is edited once, with the latest state.
func TestChatCoalescesParentEdits(t *testing.T) {
	s := slacksim.NewServer()
	t.Cleanup(s.Close)
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))
	_, ts, err := api.PostMessage("C0OPS", slack.MsgOptionText("confirmation", false))
	if err != nil {
		t.Fatal(err)
	}
	n := NewChat(api, zerolog.Nop(), 0, 0, nil)

	op := testOp()
	op.ChannelID, op.MessageTS, op.Phase = "C0OPS", ts, commands.PhaseWatching
	op.AcceptedAt = op.RequestedAt
	states := []qovery.State{qovery.StateStopQueued, qovery.StateStopping, "COOLING_DOWN"}
	for i, st := range states {
		op.Notices = append(op.Notices, commands.Notice{Seq: i + 1, Event: commands.Event{Kind: commands.EventState, State: st, At: op.AcceptedAt}, State: commands.NoticePending})
	}
	op.State = states[len(states)-1]
	for i := range op.Notices {
		op.Notices[i].State = commands.NoticeSending
		if err := n.Notify(t.Context(), op, op.Notices[i]); err != nil {
			t.Fatal(err)
		}
		op.Notices[i].State = commands.NoticePosted
	}
	replies := s.Replies("C0OPS", ts)
	if len(replies) != 3 {
		t.Fatalf("%d thread replies; want 3", len(replies))
	}
	for i, st := range states {
		if got := replies[i].PlainText(); !contains(got, "`"+string(st)+"`") {
			t.Errorf("reply %d = %q; want %s", i, got, st)
		}
	}
	if calls := len(s.Calls("chat.update")); calls != 1 {
		t.Errorf("chat.update called %d times; want 1", calls)
	}
	parent, _ := s.Message("C0OPS", ts)
	if !contains(parent.PlainText(), "`COOLING_DOWN`") {
		t.Errorf("parent = %q; want the latest state", parent.PlainText())
	}
	// Each reply can be found again by its metadata after a crash.
	for _, notice := range op.Notices {
		if ok, err := n.Delivered(t.Context(), op, notice); err != nil || !ok {
			t.Errorf("Delivered(seq %d) = %v, %v; want true", notice.Seq, ok, err)
		}
	}
	missing := commands.Notice{Seq: 9, Event: commands.Event{Kind: commands.EventState, State: qovery.StateStopped}}
	if ok, _ := n.Delivered(t.Context(), op, missing); ok {
		t.Error("Delivered found a notice that was never sent")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
