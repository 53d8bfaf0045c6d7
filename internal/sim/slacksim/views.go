package slacksim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
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

// textInput reports whether an input element holds typed text in a
// "value" field.
func textInput(t string) bool {
	switch t {
	case "plain_text_input", "email_text_input", "url_text_input", "number_input":
		return true
	}
	return false
}

// inputRef is an input block with what a submission needs to know about
// its element.
type inputRef struct {
	Input
	initial        *string
	minLen, maxLen int
}

// findInputs lists the input blocks of a stored (already validated) view.
func findInputs(blocks json.RawMessage) []inputRef {
	var bs []json.RawMessage
	if json.Unmarshal(blocks, &bs) != nil {
		return nil
	}
	var out []inputRef
	for _, raw := range bs {
		var b struct {
			Type    string `json:"type"`
			BlockID string `json:"block_id"`
			Label   struct {
				Text string `json:"text"`
			} `json:"label"`
			Optional bool `json:"optional"`
			Element  struct {
				Type         string          `json:"type"`
				ActionID     string          `json:"action_id"`
				InitialValue json.RawMessage `json:"initial_value"`
				MinLength    json.Number     `json:"min_length"`
				MaxLength    json.Number     `json:"max_length"`
			} `json:"element"`
		}
		if json.Unmarshal(raw, &b) != nil || b.Type != "input" {
			continue
		}
		r := inputRef{Input: Input{
			BlockID: b.BlockID, ActionID: b.Element.ActionID, Label: b.Label.Text,
			Type: b.Element.Type, Optional: b.Optional,
		}}
		var initial string
		if textInput(r.Type) && json.Unmarshal(b.Element.InitialValue, &initial) == nil && initial != "" {
			r.initial = &initial
		}
		if n, err := b.Element.MinLength.Int64(); err == nil {
			r.minLen = int(n)
		}
		if n, err := b.Element.MaxLength.Int64(); err == nil {
			r.maxLen = int(n)
		}
		out = append(out, r)
	}
	return out
}

// parseViewLocked validates a view argument as Slack validates a modal and
// returns it with generated block and action IDs, or the problems in
// Slack's "[ERROR] … [json-pointer:…]" form. The returned view has no ID,
// user or stack yet.
func (s *Server) parseViewLocked(raw string) (*view, []string) {
	var problems []string
	bad := func(ptr, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("[ERROR] "+format+" [json-pointer:/view"+ptr+"]", args...))
	}
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		bad("", "missing required field: view")
		return nil, problems
	}
	var f map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &f) != nil {
		bad("", "must be a JSON object")
		return nil, problems
	}
	str := func(key string, max int) string {
		var v string
		if r, ok := f[key]; ok && string(r) != "null" && json.Unmarshal(r, &v) != nil {
			bad("/"+key, "must be a string")
		}
		if utf8.RuneCountInString(v) > max {
			bad("/"+key, "must be less than %d characters", max+1)
		}
		return v
	}
	flag := func(key string) bool {
		var v flexBool
		if r, ok := f[key]; ok {
			_ = json.Unmarshal(r, &v)
		}
		return bool(v)
	}
	// Slack's own message for a long title says "less than 24" though 24
	// characters are accepted; the fake repeats it.
	text := func(key string, required bool) (json.RawMessage, string) {
		r, ok := f[key]
		if !ok || string(r) == "null" {
			if required {
				bad("", "missing required field: %s", key)
			}
			return nil, ""
		}
		var t struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(r, &t) != nil || t.Type != "plain_text" {
			bad("/"+key, "failed to match all allowed schemas")
			bad("/"+key+"/type", "must be plain_text")
			return nil, ""
		}
		if n := utf8.RuneCountInString(t.Text); n == 0 || n > maxViewTextLen {
			bad("/"+key, "failed to match all allowed schemas")
			bad("/"+key+"/text", "must be less than %d characters", maxViewTextLen)
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, r)
		return buf.Bytes(), t.Text
	}

	v := &view{}
	switch typ := str("type", 20); typ {
	case "modal":
	case "":
		bad("", "missing required field: type")
	default:
		bad("/type", "must be `modal`, not `%s`", typ)
	}
	v.title, v.titleText = text("title", true)
	v.close, _ = text("close", false)
	v.submit, _ = text("submit", false)
	v.privateMeta = str("private_metadata", maxPrivateMetadata)
	v.callbackID = str("callback_id", maxViewIDLen)
	v.externalID = str("external_id", maxViewIDLen)
	v.clearOnClose, v.notifyOnClose = flag("clear_on_close"), flag("notify_on_close")

	blocks := strings.TrimSpace(string(f["blocks"]))
	if blocks == "" || blocks == "null" {
		bad("", "missing required field: blocks")
	} else {
		normalized, err := s.checkBlocksLocked(blocks, blockRules{max: maxViewBlocks, ptr: "/view/blocks", modal: true})
		if be, ok := err.(*blockError); ok {
			problems = append(problems, be.messages...)
		}
		v.blocks = normalized
		if len(findInputs(normalized)) > 0 && v.submit == nil {
			bad("/submit", "must be provided when the view has input blocks")
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return v, nil
}

func invalidArguments(problems []string) reply {
	return reply{"ok": false, "error": "invalid_arguments", "response_metadata": map[string]any{"messages": problems}}
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

// Views returns the modals opened for a user, open and closed, in the
// order they were opened.
func (s *Server) Views(userID string) []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, v := range s.views {
		if v.user == userID {
			out = append(out, v.export())
		}
	}
	return out
}

// View returns the view with the given ID.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.viewByID[id]
	if !ok {
		return View{}, false
	}
	return v.export(), true
}

// wireUser is the user object of interaction payloads.
type wireUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

func (s *Server) wireUserLocked(id string) wireUser {
	w := wireUser{ID: id, TeamID: s.cfg.teamID}
	if u, ok := s.users[id]; ok {
		w.Username, w.Name = u.name, u.name
	}
	return w
}

// SubmitView sends an interactive envelope with the view_submission
// payload Slack sends when sub.UserID presses the submit button of the
// modal sub.ViewID, waits for the ack, and applies the ack's
// response_action as Slack would (see [ViewResult]). It fails with
// [ErrNoSuchView] when the view is unknown, closed, hidden under a pushed
// view, or another user's; with [ErrInvalidSubmission] when the user could
// not submit those values; and otherwise like [Server.SlashCommand]. After
// an ack timeout the view stays open, as Slack keeps it showing an error.
func (s *Server) SubmitView(ctx context.Context, sub ViewSubmission) (ViewResult, error) {
	s.mu.Lock()
	env, err := s.submitEnvelopeLocked(sub)
	s.mu.Unlock()
	if err != nil {
		return ViewResult{}, err
	}
	a, d, err := s.deliverTracked(ctx, env)
	if err != nil {
		return ViewResult{Ack: a}, err
	}
	res := ViewResult{}
	if d != nil && d.view != nil {
		res = *d.view
	}
	res.Ack = a
	return res, nil
}

func (s *Server) openViewLocked(userID, viewID string) (*view, error) {
	v, ok := s.viewByID[viewID]
	switch {
	case !ok:
		return nil, fmt.Errorf("slacksim: view %q: %w", viewID, ErrNoSuchView)
	case !v.open:
		return nil, fmt.Errorf("slacksim: view %s is closed: %w", viewID, ErrNoSuchView)
	case userID != "" && userID != v.user:
		return nil, fmt.Errorf("slacksim: view %s is shown to %s, not %s: %w", viewID, v.user, userID, ErrNoSuchView)
	case !s.topLocked(v):
		return nil, fmt.Errorf("slacksim: view %s is under view %s: %w", viewID, s.stackLocked(v)[0].id, ErrNoSuchView)
	}
	return v, nil
}

func (s *Server) submitEnvelopeLocked(sub ViewSubmission) (*envelope, error) {
	v, err := s.openViewLocked(sub.UserID, sub.ViewID)
	if err != nil {
		return nil, err
	}
	if v.submit == nil {
		return nil, fmt.Errorf("slacksim: view %s has no submit button: %w", v.id, ErrInvalidSubmission)
	}
	inputs := findInputs(v.blocks)
	byID := map[string]inputRef{}
	for _, in := range inputs {
		byID[in.BlockID+"/"+in.ActionID] = in
	}
	for _, blockID := range slices.Sorted(maps.Keys(sub.Values)) {
		for _, actionID := range slices.Sorted(maps.Keys(sub.Values[blockID])) {
			in, ok := byID[blockID+"/"+actionID]
			if !ok {
				return nil, fmt.Errorf("slacksim: view %s has no input %s/%s: %w", v.id, blockID, actionID, ErrInvalidSubmission)
			}
			if !textInput(in.Type) {
				return nil, fmt.Errorf("slacksim: input %s/%s is a %s, not a text input: %w", blockID, actionID, in.Type, ErrInvalidSubmission)
			}
		}
	}
	state := map[string]map[string]fieldState{}
	for _, in := range inputs {
		f := fieldState{typ: in.Type}
		if textInput(in.Type) {
			if val, ok := sub.Values[in.BlockID][in.ActionID]; ok {
				if val != "" {
					f.value = &val
				}
			} else if prev, ok := v.state[in.BlockID][in.ActionID]; ok {
				f.value = prev.value
			} else {
				f.value = in.initial
			}
			// Slack's client refuses to submit these, so the app never
			// sees them.
			n := 0
			if f.value != nil {
				n = utf8.RuneCountInString(*f.value)
			}
			switch {
			case n == 0 && !in.Optional:
				return nil, fmt.Errorf("slacksim: required input %s/%s (%q) is empty: %w", in.BlockID, in.ActionID, in.Label, ErrInvalidSubmission)
			case n > 0 && in.minLen > 0 && n < in.minLen:
				return nil, fmt.Errorf("slacksim: input %s/%s needs at least %d characters: %w", in.BlockID, in.ActionID, in.minLen, ErrInvalidSubmission)
			case in.maxLen > 0 && n > in.maxLen:
				return nil, fmt.Errorf("slacksim: input %s/%s takes at most %d characters: %w", in.BlockID, in.ActionID, in.maxLen, ErrInvalidSubmission)
			}
		}
		if state[in.BlockID] == nil {
			state[in.BlockID] = map[string]fieldState{}
		}
		state[in.BlockID][in.ActionID] = f
	}
	v.state = state // what is typed stays in the modal whatever the ack says

	// Field order follows Slack's view_submission payload.
	env := s.newEnvelopeLocked(envelopeInteractive)
	env.user, env.submits = v.user, v.id
	team, user := s.wireTeamLocked(VariantDefault), s.wireUserLocked(v.user)
	if sub.TeamID != "" {
		team, user.TeamID = wireTeam{ID: sub.TeamID, Domain: externalDomain}, sub.TeamID
	}
	env.payload, _ = json.Marshal(struct {
		Type                string          `json:"type"`
		Team                wireTeam        `json:"team"`
		User                wireUser        `json:"user"`
		APIAppID            string          `json:"api_app_id"`
		Token               string          `json:"token"`
		TriggerID           string          `json:"trigger_id"`
		View                wireView        `json:"view"`
		ResponseURLs        []struct{}      `json:"response_urls"`
		IsEnterpriseInstall bool            `json:"is_enterprise_install"`
		Enterprise          *wireEnterprise `json:"enterprise"`
	}{
		Type: "view_submission", Team: team, User: user,
		APIAppID: appID, Token: verificationToken, TriggerID: s.triggerIDLocked(v.user),
		View: s.wireViewLocked(v), ResponseURLs: []struct{}{},
	})
	s.notifyLocked()
	return env, nil
}

// applyViewAckLocked applies a view_submission's ack payload by Slack's
// rules: an empty payload closes the view; response_action "errors" shows
// errors, which must name input blocks of the view; "update" replaces the
// view; "push" opens a new view on top of it; "clear" closes the whole
// stack. A payload that is not empty but has no valid response_action is
// rejected rather than read as a close, so that an app acking a
// submission with, say, message text is caught.
func (s *Server) applyViewAckLocked(viewID string, payload json.RawMessage) ViewResult {
	var res ViewResult
	v := s.viewByID[viewID]
	if v == nil || !v.open {
		res.Error = "view_closed: the view was closed before the ack arrived"
		return res
	}
	v.errors = nil
	t := string(bytes.TrimSpace(payload))
	if t == "" || t == "null" || t == "{}" {
		res.Closed = true
		s.closeViewLocked(v)
		if p := s.viewByID[v.previousID]; p != nil && p.open {
			res.View = p.export()
		}
		return res
	}
	var p struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		res.Error = "invalid_payload: " + err.Error()
		res.View = v.export()
		return res
	}
	res.ResponseAction = p.ResponseAction
	switch p.ResponseAction {
	case "errors":
		res.Error = s.checkErrorsLocked(v, p.Errors)
		if res.Error == "" {
			v.errors = maps.Clone(p.Errors)
			res.Errors = maps.Clone(p.Errors)
			s.publishLocked(Event{Kind: EventViewErrors, View: v.export()})
		}
	case "update":
		nv, problems := s.parseViewLocked(string(p.View))
		if len(problems) > 0 {
			res.Error = "invalid_view: " + strings.Join(problems, "; ")
			break
		}
		s.replaceViewLocked(v, nv)
	case "push":
		nv, problems := s.parseViewLocked(string(p.View))
		switch {
		case len(problems) > 0:
			res.Error = "invalid_view: " + strings.Join(problems, "; ")
		case len(s.stackLocked(v)) >= maxViewStack:
			res.Error = fmt.Sprintf("push_limit_reached: %d views are already stacked", maxViewStack)
		default:
			s.newViewLocked(nv, v.user, v)
			res.View = nv.export()
			return res
		}
	case "clear":
		res.Closed = true
		for _, o := range s.stackLocked(v) {
			s.closeViewLocked(o)
		}
		return res
	case "":
		res.Error = "invalid_response_action: the ack payload is not empty but has no response_action"
	default:
		res.Error = fmt.Sprintf("invalid_response_action: %q", p.ResponseAction)
	}
	res.View = v.export()
	return res
}

// checkErrorsLocked checks a response_action "errors" map: Slack only
// shows errors on input blocks and rejects the whole response otherwise.
func (s *Server) checkErrorsLocked(v *view, errs map[string]string) string {
	if len(errs) == 0 {
		return "invalid_errors: response_action errors without errors"
	}
	inputs := map[string]bool{}
	for _, in := range findInputs(v.blocks) {
		inputs[in.BlockID] = true
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !inputs[k] {
			return fmt.Sprintf("invalid_errors: block_id %q is not an input block of view %s", k, v.id)
		}
	}
	return ""
}

// CloseView closes a modal as userID pressing its close button would.
// When the view asked for notify_on_close, it sends the view_closed
// payload Slack sends and waits for the ack; otherwise Slack tells the app
// nothing, so neither does the fake and the Ack is zero. A view with
// clear_on_close closes its whole stack (is_cleared is then true);
// otherwise the view below, if any, shows again. It fails with
// [ErrNoSuchView] like [Server.SubmitView].
func (s *Server) CloseView(ctx context.Context, userID, viewID string) (Ack, error) {
	s.mu.Lock()
	v, err := s.openViewLocked(userID, viewID)
	if err != nil {
		s.mu.Unlock()
		return Ack{}, err
	}
	cleared := v.clearOnClose
	if cleared {
		for _, o := range s.stackLocked(v) {
			s.closeViewLocked(o)
		}
	} else {
		s.closeViewLocked(v)
	}
	if !v.notifyOnClose {
		s.mu.Unlock()
		return Ack{}, nil
	}
	env := s.newEnvelopeLocked(envelopeInteractive)
	env.user = v.user
	env.payload, _ = json.Marshal(struct {
		Type                string          `json:"type"`
		Team                wireTeam        `json:"team"`
		User                wireUser        `json:"user"`
		APIAppID            string          `json:"api_app_id"`
		Token               string          `json:"token"`
		View                wireView        `json:"view"`
		IsCleared           bool            `json:"is_cleared"`
		IsEnterpriseInstall bool            `json:"is_enterprise_install"`
		Enterprise          *wireEnterprise `json:"enterprise"`
	}{
		Type: "view_closed", Team: s.wireTeamLocked(VariantDefault), User: s.wireUserLocked(v.user),
		APIAppID: appID, Token: verificationToken, View: s.wireViewLocked(v), IsCleared: cleared,
	})
	s.mu.Unlock()
	return s.deliver(ctx, env)
}

// PlainText renders the view's title and blocks readably, inputs as blanks to fill.
func (v View) PlainText() string {
	return v.Title + "\n" + plainText(v.Blocks, "")
}
