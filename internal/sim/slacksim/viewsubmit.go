package slacksim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

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
