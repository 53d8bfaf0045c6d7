package slacksim

import (
	"fmt"
	"strconv"
	"strings"
)

// Rich text blocks: what Slack checks in them, and how the fake writes them out for tests.

// richTextElements checks the elements of a rich_text block (depth 0) or of one of its containers
// (sections, lists, quotes, preformatted text), as Slack does: known types, each with the fields
// it needs.
func richTextElements(ptr string, v any, depth int, bad func(string, string, ...any)) {
	els, _ := v.([]any)
	if len(els) == 0 {
		bad(ptr, "must have at least 1 item")
		return
	}
	for i, e := range els {
		eptr := ptr + "/" + strconv.Itoa(i)
		el, _ := e.(map[string]any)
		typ, _ := el["type"].(string)
		need := func(field string) {
			if str, _ := el[field].(string); str == "" {
				bad(eptr+"/"+field, "missing required field: %s", field)
			}
		}
		switch {
		case depth == 0 && (typ == "rich_text_section" || typ == "rich_text_quote" || typ == "rich_text_preformatted"):
			richTextElements(eptr+"/elements", el["elements"], 1, bad)
		case depth == 0 && typ == "rich_text_list":
			richTextElements(eptr+"/elements", el["elements"], 0, bad)
		case depth == 1 && typ == "text":
			need("text")
		case depth == 1 && typ == "user":
			need("user_id")
		case depth == 1 && typ == "channel":
			need("channel_id")
		case depth == 1 && typ == "link":
			need("url")
		case depth == 1 && typ == "emoji":
			need("name")
		case depth == 1 && (typ == "usergroup" || typ == "broadcast" || typ == "date" || typ == "color"):
		default:
			bad(eptr+"/type", "unsupported type `%s`", typ)
		}
	}
}

// mrkdwnEscaper escapes text for the mrkdwn notation of rich text.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// collectText writes rich_text elements in document order in mrkdwn notation (*bold*, `code`,
// <@U…>, <#C…>, <url|text>, :emoji:, text escaped), so that a test reads a message the same
// whether its blocks are sections of mrkdwn or rich text.
func collectText(v any, sb *strings.Builder) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if m, _ := e.(map[string]any); i > 0 && m != nil && strings.HasPrefix(fmt.Sprint(m["type"]), "rich_text_") {
				sb.WriteString("\n")
			}
			collectText(e, sb)
		}
	case map[string]any:
		style, _ := x["style"].(map[string]any)
		switch x["type"] {
		case "text":
			t, _ := x["text"].(string)
			t = mrkdwnEscaper.Replace(t)
			if style["code"] == true {
				t = "`" + t + "`"
			}
			if style["bold"] == true {
				t = "*" + t + "*"
			}
			sb.WriteString(t)
		case "link":
			u, _ := x["url"].(string)
			t, _ := x["text"].(string)
			if t == "" {
				sb.WriteString("<" + mrkdwnEscaper.Replace(u) + ">")
				break
			}
			sb.WriteString("<" + mrkdwnEscaper.Replace(u) + "|" + mrkdwnEscaper.Replace(t) + ">")
		case "user":
			id, _ := x["user_id"].(string)
			sb.WriteString("<@" + id + ">")
		case "channel":
			id, _ := x["channel_id"].(string)
			sb.WriteString("<#" + id + ">")
		case "emoji":
			name, _ := x["name"].(string)
			sb.WriteString(":" + name + ":")
		}
		collectText(x["elements"], sb)
	}
}
