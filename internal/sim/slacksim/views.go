package slacksim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"
)

// Slack's documented limits for modals.
const (
	maxViewBlocks      = 100
	maxViewTextLen     = 24 // title, submit and close
	maxPrivateMetadata = 3000
	maxViewIDLen       = 255 // callback_id and external_id
	maxViewStack       = 3   // views open on top of each other
)

// trigger is one trigger_id sent in a payload.
type trigger struct {
	user   string
	issued time.Time
	used   bool
}

// A View is a modal as the fake stores it.
type View struct {
	// ID is the view's ID, such as "V0FAKE001"; it stays the same when
	// the view is updated.
	ID string
	// UserID is the user the modal is shown to: the one whose interaction
	// issued the trigger_id it was opened with.
	UserID          string
	CallbackID      string
	ExternalID      string
	PrivateMetadata string
	// Title is the title's text.
	Title string
	// Blocks is the view's Block Kit JSON array, with the block_id and
	// action_id values Slack would generate filled in.
	Blocks json.RawMessage
	// Hash changes whenever the content does; views.update refuses a
	// stale one with hash_conflict.
	Hash string
	// RootViewID is the first view of the stack the view is in, and
	// PreviousViewID the view it was pushed on top of ("" for a root).
	RootViewID     string
	PreviousViewID string
	NotifyOnClose  bool
	// Open is true until the view is closed.
	Open bool
	// Errors are the messages of the latest response_action "errors", by
	// block_id. They are shown until the next submission or update.
	Errors map[string]string
	// Values are what the view's text inputs hold after the latest
	// submission, by block_id and action_id; empty inputs are absent.
	Values map[string]map[string]string
}

// An Input is an input block of a view.
type Input struct {
	BlockID  string
	ActionID string
	// Label is the label's text.
	Label string
	// Type is the element's type, such as "plain_text_input". A
	// [ViewSubmission] can only type into plain_text_input,
	// email_text_input, url_text_input and number_input elements.
	Type     string
	Optional bool
}

// Inputs returns the view's input blocks in order, so that a caller can
// fill in [ViewSubmission.Values] without knowing the block and action IDs
// in advance.
func (v View) Inputs() []Input {
	refs := findInputs(v.Blocks)
	out := make([]Input, len(refs))
	for i, r := range refs {
		out[i] = r.Input
	}
	return out
}

// A ViewSubmission is a user pressing a modal's submit button.
type ViewSubmission struct {
	// UserID is the user the view is shown to; empty means that user.
	UserID string
	ViewID string
	// Values are what the user typed, by block_id and action_id. Inputs
	// not named keep what they hold: what an earlier submission typed, or
	// else their initial_value. An empty string clears an input.
	Values map[string]map[string]string
	// TeamID, when set, is the team of the user instead of the
	// workspace's, as in [Click.TeamID]: the payload's user.team_id and
	// team are then that team's.
	TeamID string
}

// A ViewResult is what a view submission's ack did, by Slack's rules for
// response_action.
type ViewResult struct {
	Ack Ack
	// ResponseAction is the ack payload's response_action: "" for a bare
	// ack, or "errors", "update", "push" or "clear".
	ResponseAction string
	// Closed reports that the submitted view closed: after a bare ack or
	// response_action "clear".
	Closed bool
	// Errors are the errors of a valid response_action "errors", now shown
	// in the view.
	Errors map[string]string
	// Error says why Slack would reject the ack payload, such as errors
	// naming a block that is not an input block of the view; Slack shows
	// the user a generic error and the view stays open.
	Error string
	// View is the modal the user now sees: the submitted one when it
	// stays open (updated, showing errors, or after a rejected payload),
	// the pushed one, or after a close the one below it in the stack. It
	// is the zero View when no modal is left.
	View View
}

// view is a modal as the fake keeps it.
type view struct {
	id, user                            string
	callbackID, externalID, privateMeta string
	title, close, submit                json.RawMessage // text objects; close and submit may be nil
	titleText                           string
	blocks                              json.RawMessage
	clearOnClose, notifyOnClose         bool
	hash                                string
	rootID, previousID                  string
	open                                bool
	errors                              map[string]string
	state                               map[string]map[string]fieldState // by block_id, action_id
}

func (v *view) export() View {
	out := View{
		ID: v.id, UserID: v.user, CallbackID: v.callbackID, ExternalID: v.externalID,
		PrivateMetadata: v.privateMeta, Title: v.titleText, Blocks: bytes.Clone(v.blocks),
		Hash: v.hash, RootViewID: v.rootID, PreviousViewID: v.previousID,
		NotifyOnClose: v.notifyOnClose, Open: v.open,
	}
	if len(v.errors) > 0 {
		out.Errors = maps.Clone(v.errors)
	}
	for blockID, actions := range v.state {
		for actionID, f := range actions {
			if f.value == nil {
				continue
			}
			if out.Values == nil {
				out.Values = map[string]map[string]string{}
			}
			if out.Values[blockID] == nil {
				out.Values[blockID] = map[string]string{}
			}
			out.Values[blockID][actionID] = *f.value
		}
	}
	return out
}

// fieldState is one input's entry in a view's state.values.
type fieldState struct {
	typ   string
	value *string // nil for an empty text input
}

// MarshalJSON writes the entry as Slack does: a text input always has a
// value, null when empty. Other inputs, which the fake cannot fill in,
// are sent untouched, with their type only.
func (f fieldState) MarshalJSON() ([]byte, error) {
	if !textInput(f.typ) {
		return json.Marshal(struct {
			Type string `json:"type"`
		}{f.typ})
	}
	return json.Marshal(struct {
		Type  string  `json:"type"`
		Value *string `json:"value"`
	}{f.typ, f.value})
}

// newViewLocked stores a validated view as a new open view for user, on
// top of previous (nil for a new stack).
func (s *Server) newViewLocked(v *view, user string, previous *view) {
	s.viewSeq++
	v.id = fmt.Sprintf("V0FAKE%03d", s.viewSeq)
	v.user, v.open = user, true
	v.rootID = v.id
	if previous != nil {
		v.rootID, v.previousID = previous.rootID, previous.id
	}
	v.hash = s.nextHashLocked()
	v.state = map[string]map[string]fieldState{}
	s.views = append(s.views, v)
	s.viewByID[v.id] = v
	s.publishLocked(Event{Kind: EventViewOpened, View: v.export()})
}

// nextHashLocked returns a fresh view hash in Slack's "seconds.hex" shape.
func (s *Server) nextHashLocked() string {
	s.hashSeq++
	return fmt.Sprintf("%d.fake%04x", baseEpoch+s.hashSeq, s.hashSeq)
}

// replaceViewLocked gives v the content of nv, as views.update and
// response_action "update" do. Typed values survive for inputs that are
// still there with the same type, as they do in Slack's client.
func (s *Server) replaceViewLocked(v, nv *view) {
	v.callbackID, v.externalID, v.privateMeta = nv.callbackID, nv.externalID, nv.privateMeta
	v.title, v.close, v.submit, v.titleText = nv.title, nv.close, nv.submit, nv.titleText
	v.blocks = nv.blocks
	v.clearOnClose, v.notifyOnClose = nv.clearOnClose, nv.notifyOnClose
	v.hash = s.nextHashLocked()
	v.errors = nil
	kept := map[string]map[string]fieldState{}
	for _, in := range findInputs(v.blocks) {
		if f, ok := v.state[in.BlockID][in.ActionID]; ok && f.typ == in.Type {
			kept[in.BlockID] = map[string]fieldState{in.ActionID: f}
		}
	}
	v.state = kept
	s.publishLocked(Event{Kind: EventViewUpdated, View: v.export()})
}

// closeViewLocked closes one view.
func (s *Server) closeViewLocked(v *view) {
	if !v.open {
		return
	}
	v.open = false
	s.publishLocked(Event{Kind: EventViewClosed, View: v.export()})
}

// stackLocked returns the open views of v's stack, top first.
func (s *Server) stackLocked(v *view) []*view {
	var out []*view
	for _, o := range s.views {
		if o.open && o.rootID == v.rootID {
			out = append(out, o)
		}
	}
	slices.Reverse(out)
	return out
}

// topLocked reports whether v is the view its user sees: open, with
// nothing pushed on top of it.
func (s *Server) topLocked(v *view) bool {
	st := s.stackLocked(v)
	return len(st) > 0 && st[0] == v
}

// wireView is a view as the Web API and payloads show it, fields in
// Slack's order.
type wireView struct {
	ID                 string          `json:"id"`
	TeamID             string          `json:"team_id"`
	Type               string          `json:"type"`
	Blocks             json.RawMessage `json:"blocks"`
	PrivateMetadata    string          `json:"private_metadata"`
	CallbackID         string          `json:"callback_id"`
	State              wireViewState   `json:"state"`
	Hash               string          `json:"hash"`
	Title              json.RawMessage `json:"title"`
	ClearOnClose       bool            `json:"clear_on_close"`
	NotifyOnClose      bool            `json:"notify_on_close"`
	Close              json.RawMessage `json:"close"`
	Submit             json.RawMessage `json:"submit"`
	PreviousViewID     *string         `json:"previous_view_id"`
	RootViewID         string          `json:"root_view_id"`
	AppID              string          `json:"app_id"`
	ExternalID         string          `json:"external_id"`
	AppInstalledTeamID string          `json:"app_installed_team_id"`
	BotID              string          `json:"bot_id"`
}

type wireViewState struct {
	Values map[string]map[string]fieldState `json:"values"`
}

func (s *Server) wireViewLocked(v *view) wireView {
	w := wireView{
		ID: v.id, TeamID: s.cfg.teamID, Type: "modal", Blocks: v.blocks,
		PrivateMetadata: v.privateMeta, CallbackID: v.callbackID,
		State: wireViewState{Values: v.state}, Hash: v.hash, Title: v.title,
		ClearOnClose: v.clearOnClose, NotifyOnClose: v.notifyOnClose,
		Close: v.close, Submit: v.submit, RootViewID: v.rootID, AppID: appID,
		ExternalID: v.externalID, AppInstalledTeamID: s.cfg.teamID, BotID: s.cfg.botID,
	}
	if w.State.Values == nil {
		w.State.Values = map[string]map[string]fieldState{}
	}
	if v.previousID != "" {
		w.PreviousViewID = &v.previousID
	}
	return w
}

// viewsOpen serves views.open. The view is checked first, then the
// trigger, which is used up only when the view opens.
func (s *Server) viewsOpen(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	triggerID := args.Get("trigger_id")
	var problems []string
	if triggerID == "" {
		problems = append(problems, "[ERROR] missing required field: trigger_id")
	}
	nv, vp := s.parseViewLocked(args.Get("view"))
	if problems = append(problems, vp...); len(problems) > 0 {
		return invalidArguments(problems)
	}
	t, ok := s.triggers[triggerID]
	switch {
	case !ok:
		return fail("invalid_trigger_id")
	case t.used:
		return fail("exchanged_trigger_id")
	case s.now().Sub(t.issued) >= s.cfg.triggerTTL:
		return fail("expired_trigger_id")
	}
	if nv.externalID != "" && s.externalIDTakenLocked(nv.externalID, nil) {
		return fail("duplicate_external_id")
	}
	t.used = true
	s.newViewLocked(nv, t.user, nil)
	return reply{"ok": true, "view": s.wireViewLocked(nv)}
}

func (s *Server) externalIDTakenLocked(id string, except *view) bool {
	for _, v := range s.views {
		if v != except && v.externalID == id {
			return true
		}
	}
	return false
}

// viewsUpdate serves views.update, by view_id or external_id, refusing a
// stale hash. Closed views are gone for Slack, so updating one fails with
// not_found.
func (s *Server) viewsUpdate(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v *view
	switch id, ext := args.Get("view_id"), args.Get("external_id"); {
	case id != "":
		v = s.viewByID[id]
	case ext != "":
		for _, o := range s.views {
			if o.externalID == ext {
				v = o
			}
		}
	default:
		return invalidArguments([]string{"[ERROR] missing required field: view_id or external_id"})
	}
	nv, problems := s.parseViewLocked(args.Get("view"))
	if len(problems) > 0 {
		return invalidArguments(problems)
	}
	if v == nil || !v.open {
		return fail("not_found")
	}
	if h := args.Get("hash"); h != "" && h != v.hash {
		return fail("hash_conflict")
	}
	if nv.externalID != "" && s.externalIDTakenLocked(nv.externalID, v) {
		return fail("duplicate_external_id")
	}
	s.replaceViewLocked(v, nv)
	return reply{"ok": true, "view": s.wireViewLocked(v)}
}
