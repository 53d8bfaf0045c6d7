package slacksim

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

const formViewJSON = `{"type":"modal","callback_id":"stop_form","private_metadata":"m",
	"title":{"type":"plain_text","text":"Stop a cluster"},"submit":{"type":"plain_text","text":"Stop"},
	"notify_on_close":true,
	"blocks":[{"type":"input","block_id":"cluster","label":{"type":"plain_text","text":"Cluster"},
		"element":{"type":"plain_text_input","action_id":"name"}}]}`

// keysInOrder returns an object's keys in the order they appear.
func keysInOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// The trigger TTL is measured on the server's clock: valid just before it
// runs out, expired from then on.
func TestTriggerTTL(t *testing.T) {
	s := NewServer()
	defer s.Close()
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	s.mu.Lock()
	s.now = func() time.Time { return now }
	fresh, stale := s.triggerIDLocked("U0ALICE"), s.triggerIDLocked("U0ALICE")
	s.now = func() time.Time { return now.Add(3*time.Second - time.Millisecond) }
	s.mu.Unlock()
	if res := s.viewsOpen(url.Values{"trigger_id": {fresh}, "view": {formViewJSON}}); res["ok"] != true {
		t.Errorf("views.open 2.999s after the trigger = %v; want ok", res)
	}
	s.mu.Lock()
	s.now = func() time.Time { return now.Add(3 * time.Second) }
	s.mu.Unlock()
	if res := s.viewsOpen(url.Values{"trigger_id": {stale}, "view": {formViewJSON}}); res["error"] != "expired_trigger_id" {
		t.Errorf("views.open 3s after the trigger = %v; want expired_trigger_id", res)
	}
	if v := s.Views("U0ALICE"); len(v) != 1 || v[0].UserID != "U0ALICE" {
		t.Errorf("Views(U0ALICE) = %+v; want the one opened with the fresh trigger", v)
	}
}

// The view_submission and view_closed payloads have Slack's fields in
// Slack's order and decode with slack-go.
func TestViewPayloads(t *testing.T) {
	s := NewServer()
	defer s.Close()
	s.mu.Lock()
	trigger := s.triggerIDLocked("U0ALICE")
	s.mu.Unlock()
	// A form-encoded call, view as a JSON string.
	res := s.viewsOpen(url.Values{"trigger_id": {trigger}, "view": {formViewJSON}})
	if res["ok"] != true {
		t.Fatalf("views.open = %v", res)
	}
	id := res["view"].(wireView).ID

	s.mu.Lock()
	env, err := s.submitEnvelopeLocked(ViewSubmission{ViewID: id, Values: map[string]map[string]string{"cluster": {"name": "staging"}}})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"type", "team", "user", "api_app_id", "token", "trigger_id", "view", "response_urls", "is_enterprise_install", "enterprise"}
	if got := keysInOrder(t, env.payload); !slices.Equal(got, want) {
		t.Errorf("view_submission keys = %v; want %v", got, want)
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(env.payload, &p); err != nil {
		t.Fatal(err)
	}
	wantView := []string{"id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state", "hash", "title",
		"clear_on_close", "notify_on_close", "close", "submit", "previous_view_id", "root_view_id", "app_id",
		"external_id", "app_installed_team_id", "bot_id"}
	if got := keysInOrder(t, p["view"]); !slices.Equal(got, wantView) {
		t.Errorf("view keys = %v; want %v", got, wantView)
	}
	for key, want := range map[string]string{"response_urls": "[]", "enterprise": "null", "is_enterprise_install": "false"} {
		if got := string(p[key]); got != want {
			t.Errorf("%s = %s; want %s", key, got, want)
		}
	}
	if !strings.Contains(string(p["view"]), `"state":{"values":{"cluster":{"name":{"type":"plain_text_input","value":"staging"}}}}`) ||
		!strings.Contains(string(p["view"]), `"previous_view_id":null`) || !strings.Contains(string(p["view"]), `"close":null`) {
		t.Errorf("view = %s", p["view"])
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(env.payload, &cb); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.State.Values["cluster"]["name"].Value != "staging" || cb.Team.Domain != "fake-workspace" {
		t.Errorf("decoded %+v", cb)
	}
}

func TestViewsUpdate(t *testing.T) {
	s := NewServer()
	defer s.Close()
	s.mu.Lock()
	trigger := s.triggerIDLocked("U0ALICE")
	s.mu.Unlock()
	opened := s.viewsOpen(url.Values{"trigger_id": {trigger}, "view": {formViewJSON}})["view"].(wireView)
	updated := strings.Replace(formViewJSON, "Stop a cluster", "Stopping…", 1)

	if res := s.viewsUpdate(url.Values{"view_id": {opened.ID}, "hash": {"1.stale"}, "view": {updated}}); res["error"] != "hash_conflict" {
		t.Errorf("stale hash: %v; want hash_conflict", res)
	}
	res := s.viewsUpdate(url.Values{"view_id": {opened.ID}, "hash": {opened.Hash}, "view": {updated}})
	if res["ok"] != true {
		t.Fatalf("views.update = %v", res)
	}
	w := res["view"].(wireView)
	v, _ := s.View(opened.ID)
	if w.ID != opened.ID || w.Hash == opened.Hash || v.Title != "Stopping…" || !v.Open {
		t.Errorf("after update: wire %+v, view %+v", w, v)
	}
	if res := s.viewsUpdate(url.Values{"view_id": {"V0NOPE"}, "view": {updated}}); res["error"] != "not_found" {
		t.Errorf("unknown view: %v; want not_found", res)
	}
	if res := s.viewsUpdate(url.Values{"view_id": {opened.ID}, "view": {`{"type":"modal"}`}}); res["error"] != "invalid_arguments" {
		t.Errorf("invalid view: %v; want invalid_arguments", res)
	}
}
