package slacksim

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

const buttonsJSON = `[{"type":"section","text":{"type":"mrkdwn","text":"Stop?"}},
	{"type":"actions","elements":[{"type":"button","action_id":"go","value":"v","style":"primary","text":{"type":"plain_text","text":"Go"}}]}]`

// The block_actions payload must decode with slack-go into an
// InteractionCallback whose actions are block actions (slack-go tells them
// from attachment actions by block_id, which the fake generates).
func TestBlockActionsPayloadDecodes(t *testing.T) {
	s := NewServer()
	defer s.Close()
	res := s.postMessage(url.Values{"channel": {"C0OPS"}, "text": {"Stop?"}, "blocks": {buttonsJSON}})
	if res["ok"] != true {
		t.Fatalf("postMessage = %v", res)
	}
	ts := res["ts"].(string)
	eph := s.postEphemeral(url.Values{"channel": {"C0OPS"}, "user": {"U0ALICE"}, "blocks": {buttonsJSON}})
	if eph["ok"] != true {
		t.Fatalf("postEphemeral = %v", eph)
	}

	for _, tc := range []struct {
		name      string
		ts        string
		ephemeral bool
	}{
		{"channel message", ts, false},
		{"ephemeral message", eph["message_ts"].(string), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.mu.Lock()
			env, err := s.clickEnvelopeLocked(Click{UserID: "U0ALICE", ChannelID: "C0OPS", MessageTS: tc.ts, ActionID: "go"})
			s.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			var cb slack.InteractionCallback
			if err := json.Unmarshal(env.payload, &cb); err != nil {
				t.Fatalf("decode %s: %v", env.payload, err)
			}
			if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 || len(cb.ActionCallback.AttachmentActions) != 0 {
				t.Fatalf("decoded %+v; want one block action", cb.ActionCallback)
			}
			a := cb.ActionCallback.BlockActions[0]
			if a.ActionID != "go" || a.BlockID == "" || a.Value != "v" || a.Text.Text != "Go" || a.Text.Type != "plain_text" {
				t.Errorf("action = %+v; want go/v/Go with a block id", a)
			}
			if cb.Container.Type != "message" || cb.Container.MessageTs != tc.ts || cb.Container.IsEphemeral != tc.ephemeral {
				t.Errorf("container = %+v; want message %s, ephemeral %v", cb.Container, tc.ts, tc.ephemeral)
			}
			if tc.ephemeral != (cb.Message.Timestamp == "") {
				t.Errorf("message ts %q; want a message only for channel messages", cb.Message.Timestamp)
			}
			if cb.BlockActionState == nil || cb.User.ID != "U0ALICE" || cb.Team.Domain != "fake-workspace" || !strings.Contains(cb.ResponseURL, "/response/") {
				t.Errorf("state %v, user %+v, team %+v, response_url %q", cb.BlockActionState, cb.User, cb.Team, cb.ResponseURL)
			}
		})
	}
}

func TestResponseURLExpires(t *testing.T) {
	s := NewServer()
	defer s.Close()
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	s.mu.Lock()
	s.now = func() time.Time { return now }
	u := s.newResponseURLLocked(&responseURL{kind: envelopeSlash, user: "U0ALICE", channel: "C0OPS"})
	s.now = func() time.Time { return now.Add(31 * time.Minute) }
	s.mu.Unlock()

	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))
	_, _, err := api.PostMessage("C0OPS", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("late", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 404 {
		t.Errorf("post after 31 minutes: err = %v; want StatusCodeError 404", err)
	}
}

func TestNormalizeBlocks(t *testing.T) {
	s := NewServer()
	defer s.Close()
	for _, tc := range []struct {
		name, blocks, code string
	}{
		{"not an array", `{"type":"section"}`, "invalid_blocks_format"},
		{"unknown type", `[{"type":"banner"}]`, "invalid_blocks"},
		{"section without text", `[{"type":"section"}]`, "invalid_blocks"},
		{"long button", `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"` + strings.Repeat("x", 76) + `"}}]}]`, "invalid_blocks"},
		{"duplicate action ids", `[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"x"}},{"type":"button","action_id":"a","text":{"type":"plain_text","text":"y"}}]}]`, "invalid_blocks"},
		{"bad style", `[{"type":"actions","elements":[{"type":"button","style":"loud","text":{"type":"plain_text","text":"x"}}]}]`, "invalid_blocks"},
		{"valid", buttonsJSON, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.mu.Lock()
			out, err := s.normalizeBlocksLocked(tc.blocks)
			s.mu.Unlock()
			var be *blockError
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("normalizeBlocks(%s) = %v; want no error", tc.blocks, err)
			case tc.code != "" && (!errors.As(err, &be) || be.code != tc.code):
				t.Fatalf("normalizeBlocks(%s) = %v; want %s", tc.blocks, err, tc.code)
			case tc.code == "":
				// Generated ids: every block has a block_id, every button an action_id.
				for _, b := range parseButtons(out) {
					if b.BlockID == "" || b.ActionID == "" {
						t.Errorf("button %+v lacks generated ids", b)
					}
				}
			}
		})
	}
}

func TestUpdateOthersMessage(t *testing.T) {
	s := NewServer()
	defer s.Close()
	s.mu.Lock()
	m := &Message{Channel: "C0OPS", User: "U0ALICE", Text: "hi"}
	s.postLocked(m)
	s.mu.Unlock()
	res := s.updateMessage(url.Values{"channel": {"C0OPS"}, "ts": {m.TS}, "text": {"edited"}})
	if res["error"] != "cant_update_message" {
		t.Errorf("update of a user's message = %v; want cant_update_message", res)
	}
}
