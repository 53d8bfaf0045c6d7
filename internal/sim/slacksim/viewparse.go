package slacksim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

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
