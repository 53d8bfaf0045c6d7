package slacksim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// knownBlockType reports whether both Slack and slack-go understand a block
// type. An unknown type is rejected, as Slack does, rather than stored:
// slack-go would later fail to decode it back from a click payload.
func knownBlockType(t string) bool {
	switch t {
	case "actions", "context", "context_actions", "divider", "file", "header", "image",
		"input", "markdown", "rich_text", "section", "call", "video", "table":
		return true
	}
	return false
}

// knownElementType reports whether slack-go decodes an element type found in
// actions blocks, section accessories and context blocks.
func knownElementType(t string) bool {
	switch t {
	case "button", "image", "overflow", "datepicker", "timepicker", "datetimepicker",
		"plain_text_input", "checkboxes", "radio_buttons", "static_select",
		"external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select",
		"multi_conversations_select", "multi_channels_select", "workflow_button",
		"mrkdwn", "plain_text":
		return true
	}
	return false
}

// inputElementType reports whether both Slack and slack-go accept an
// element type in an input block.
func inputElementType(t string) bool {
	switch t {
	case "plain_text_input", "email_text_input", "url_text_input", "number_input",
		"rich_text_input", "datepicker", "timepicker", "datetimepicker", "checkboxes",
		"radio_buttons", "static_select", "external_select", "users_select",
		"conversations_select", "channels_select", "multi_static_select",
		"multi_external_select", "multi_users_select", "multi_conversations_select",
		"multi_channels_select", "file_input":
		return true
	}
	return false
}

// blockError is an invalid_blocks style failure with Slack's diagnostic
// lines, which Slack returns in response_metadata.messages.
type blockError struct {
	code     string
	messages []string
}

func (e *blockError) Error() string {
	return e.code + ": " + strings.Join(e.messages, "; ")
}

// normalizeBlocksLocked validates a blocks argument and returns it compacted,
// with the block_id and action_id values Slack generates filled in where
// missing (slack-go classifies a clicked action as a block action only when
// it carries a block_id). An empty argument or "null" gives nil; "[]" gives
// an empty, non-nil array so that callers can tell "clear" from "absent".
//
// The checks are the limits a bot most plausibly trips over (Slack
// documents them per block), not all of Block Kit.
func (s *Server) normalizeBlocksLocked(raw string) (json.RawMessage, error) {
	return s.checkBlocksLocked(raw, blockRules{max: 50, ptr: "/blocks"})
}

// blockRules are what differs between the surfaces blocks appear on.
type blockRules struct {
	max int    // most blocks allowed
	ptr string // JSON pointer of the blocks array, for Slack's diagnostics
	// modal checks input blocks (label and element) and generates their
	// elements' action_ids, as views need; messages keep the older, more
	// lenient treatment.
	modal bool
}

// checkBlocksLocked is normalizeBlocksLocked for the surface described by
// rules.
func (s *Server) checkBlocksLocked(raw string, rules blockRules) (json.RawMessage, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var blocks []any
	if err := dec.Decode(&blocks); err != nil {
		return nil, &blockError{code: "invalid_blocks_format", messages: []string{"[ERROR] blocks must be a JSON array"}}
	}
	var problems []string
	bad := func(ptr, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("[ERROR] "+format+" [json-pointer:"+rules.ptr+ptr+"]", args...))
	}
	if len(blocks) > rules.max {
		bad("", "no more than %d items allowed", rules.max)
	}
	blockIDs := map[string]bool{}
	actionIDs := map[string]bool{}
	for i, b := range blocks {
		ptr := "/" + strconv.Itoa(i)
		block, ok := b.(map[string]any)
		if !ok {
			bad(ptr, "must be an object")
			continue
		}
		typ, _ := block["type"].(string)
		if !knownBlockType(typ) {
			bad(ptr+"/type", "unsupported type `%s`", typ)
			continue
		}
		id, _ := block["block_id"].(string)
		if id == "" {
			id = "b" + strconv.Itoa(s.nextIDLocked())
			block["block_id"] = id
		}
		if len(id) > 255 {
			bad(ptr+"/block_id", "must be less than 256 characters")
		}
		if blockIDs[id] {
			bad(ptr+"/block_id", "duplicate block_id `%s`", id)
		}
		blockIDs[id] = true

		element := func(eptr string, e any) {
			el, ok := e.(map[string]any)
			if !ok {
				bad(eptr, "must be an object")
				return
			}
			etyp, _ := el["type"].(string)
			if !knownElementType(etyp) {
				bad(eptr+"/type", "unsupported type `%s`", etyp)
				return
			}
			if etyp != "button" {
				return
			}
			aid, _ := el["action_id"].(string)
			if aid == "" {
				aid = "a" + strconv.Itoa(s.nextIDLocked())
				el["action_id"] = aid
			}
			if len(aid) > 255 {
				bad(eptr+"/action_id", "must be less than 256 characters")
			}
			if actionIDs[aid] {
				bad(eptr+"/action_id", "duplicate action_id `%s`", aid)
			}
			actionIDs[aid] = true
			text, _ := el["text"].(map[string]any)
			if t, _ := text["type"].(string); t != "plain_text" {
				bad(eptr+"/text/type", "must be plain_text")
			}
			if t, _ := text["text"].(string); t == "" || len([]rune(t)) > 75 {
				bad(eptr+"/text/text", "must be between 1 and 75 characters")
			}
			if v, _ := el["value"].(string); len(v) > 2000 {
				bad(eptr+"/value", "must be less than 2001 characters")
			}
			switch st, _ := el["style"].(string); st {
			case "", "primary", "danger":
			default:
				bad(eptr+"/style", "must be one of primary, danger")
			}
		}
		textLen := func(tptr string, t any, max int) {
			obj, ok := t.(map[string]any)
			if !ok {
				bad(tptr, "must be a text object")
				return
			}
			switch tt, _ := obj["type"].(string); tt {
			case "plain_text", "mrkdwn":
			default:
				bad(tptr+"/type", "must be plain_text or mrkdwn")
			}
			if str, _ := obj["text"].(string); str == "" || len([]rune(str)) > max {
				bad(tptr+"/text", "must be between 1 and %d characters", max)
			}
		}

		switch typ {
		case "header":
			textLen(ptr+"/text", block["text"], 150)
			if t, _ := block["text"].(map[string]any); t != nil && t["type"] != "plain_text" {
				bad(ptr+"/text/type", "must be plain_text")
			}
		case "section":
			fields, _ := block["fields"].([]any)
			if block["text"] == nil && len(fields) == 0 {
				bad(ptr, "must have text or fields")
			}
			if block["text"] != nil {
				textLen(ptr+"/text", block["text"], 3000)
			}
			if len(fields) > 10 {
				bad(ptr+"/fields", "no more than 10 items allowed")
			}
			for j, f := range fields {
				textLen(ptr+"/fields/"+strconv.Itoa(j), f, 2000)
			}
			if acc, ok := block["accessory"]; ok {
				element(ptr+"/accessory", acc)
			}
		case "actions":
			els, _ := block["elements"].([]any)
			if len(els) == 0 || len(els) > 25 {
				bad(ptr+"/elements", "must have between 1 and 25 items")
			}
			for j, e := range els {
				element(ptr+"/elements/"+strconv.Itoa(j), e)
			}
		case "context":
			els, _ := block["elements"].([]any)
			if len(els) == 0 || len(els) > 10 {
				bad(ptr+"/elements", "must have between 1 and 10 items")
			}
			for j, e := range els {
				element(ptr+"/elements/"+strconv.Itoa(j), e)
			}
		case "rich_text":
			richTextElements(ptr+"/elements", block["elements"], 0, bad)
		case "input":
			if !rules.modal {
				break
			}
			textLen(ptr+"/label", block["label"], 2000)
			if l, _ := block["label"].(map[string]any); l != nil && l["type"] != "plain_text" {
				bad(ptr+"/label/type", "must be plain_text")
			}
			if h, ok := block["hint"]; ok {
				textLen(ptr+"/hint", h, 2000)
			}
			el, ok := block["element"].(map[string]any)
			if !ok {
				bad(ptr+"/element", "missing required field: element")
				break
			}
			etyp, _ := el["type"].(string)
			if !inputElementType(etyp) {
				bad(ptr+"/element/type", "unsupported type `%s`", etyp)
				break
			}
			aid, _ := el["action_id"].(string)
			if aid == "" {
				aid = "a" + strconv.Itoa(s.nextIDLocked())
				el["action_id"] = aid
			}
			if len(aid) > 255 {
				bad(ptr+"/element/action_id", "must be less than 256 characters")
			}
			if actionIDs[aid] {
				bad(ptr+"/element/action_id", "duplicate action_id `%s`", aid)
			}
			actionIDs[aid] = true
		}
	}
	if len(problems) > 0 {
		return nil, &blockError{code: "invalid_blocks", messages: problems}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <@U…> mentions readable in stored JSON
	if err := enc.Encode(blocks); err != nil {
		return nil, &blockError{code: "invalid_blocks", messages: []string{err.Error()}}
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// emptyBlocks reports whether a stored or received blocks value shows
// nothing.
func emptyBlocks(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) == 0 || string(t) == "null" || string(t) == "[]"
}

// blockElement is the part of a Block Kit element the fake reads.
type blockElement struct {
	Type     string `json:"type"`
	ActionID string `json:"action_id"`
	Text     struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		Emoji *bool  `json:"emoji"`
	} `json:"text"`
	Value string `json:"value"`
	Style string `json:"style"`
}

// buttonRef is a button together with its raw text object, which click
// payloads echo.
type buttonRef struct {
	Button
	emoji bool
}

func findButtons(blocks json.RawMessage) []buttonRef {
	if emptyBlocks(blocks) {
		return nil
	}
	var bs []struct {
		Type      string          `json:"type"`
		BlockID   string          `json:"block_id"`
		Elements  json.RawMessage `json:"elements"`
		Accessory *blockElement   `json:"accessory"`
	}
	if err := json.Unmarshal(blocks, &bs); err != nil {
		return nil
	}
	var out []buttonRef
	add := func(blockID string, e blockElement) {
		if e.Type != "button" {
			return
		}
		emoji := e.Text.Emoji == nil || *e.Text.Emoji
		out = append(out, buttonRef{
			Button: Button{ActionID: e.ActionID, BlockID: blockID, Text: e.Text.Text, Value: e.Value, Style: e.Style},
			emoji:  emoji,
		})
	}
	for _, b := range bs {
		switch b.Type {
		case "actions":
			var els []blockElement
			if json.Unmarshal(b.Elements, &els) == nil {
				for _, e := range els {
					add(b.BlockID, e)
				}
			}
		case "section":
			if b.Accessory != nil {
				add(b.BlockID, *b.Accessory)
			}
		}
	}
	return out
}

func parseButtons(blocks json.RawMessage) []Button {
	refs := findButtons(blocks)
	if refs == nil {
		return nil
	}
	out := make([]Button, len(refs))
	for i, r := range refs {
		out[i] = r.Button
	}
	return out
}

// plainText renders blocks one line per visible piece, the way a person
// would read the message, falling back to the notification text.
func plainText(blocks json.RawMessage, text string) string {
	if emptyBlocks(blocks) {
		return text
	}
	var bs []map[string]any
	if err := json.Unmarshal(blocks, &bs); err != nil {
		return text
	}
	var lines []string
	line := func(s string) {
		if s != "" {
			lines = append(lines, s)
		}
	}
	for _, b := range bs {
		switch b["type"] {
		case "header":
			line(textOf(b["text"]))
		case "section":
			line(textOf(b["text"]))
			fields, _ := b["fields"].([]any)
			for _, f := range fields {
				line(textOf(f))
			}
			if acc, ok := b["accessory"].(map[string]any); ok && acc["type"] == "button" {
				line("[" + textOf(acc["text"]) + "]")
			}
		case "context":
			els, _ := b["elements"].([]any)
			var parts []string
			for _, e := range els {
				if t := textOf(e); t != "" {
					parts = append(parts, t)
				}
			}
			line(strings.Join(parts, " "))
		case "actions":
			els, _ := b["elements"].([]any)
			var parts []string
			for _, e := range els {
				if el, ok := e.(map[string]any); ok && el["type"] == "button" {
					parts = append(parts, "["+textOf(el["text"])+"]")
				}
			}
			line(strings.Join(parts, " "))
		case "input":
			l := textOf(b["label"]) + ": [________]"
			if h := textOf(b["hint"]); h != "" {
				l += " (" + h + ")"
			}
			line(l)
		case "divider":
			line("---")
		case "markdown":
			t, _ := b["text"].(string)
			line(t)
		case "rich_text":
			var sb strings.Builder
			collectText(b["elements"], &sb)
			line(sb.String())
		}
	}
	if len(lines) == 0 {
		return text
	}
	return strings.Join(lines, "\n")
}

// textOf returns the text of a text object, or "" for anything else.
func textOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	switch m["type"] {
	case "plain_text", "mrkdwn":
		t, _ := m["text"].(string)
		return t
	}
	return ""
}
