package console

import (
	"encoding/json"
	"strings"
)

// The console is a Slack client of the simulated workspace: it shows the bot's real messages, read
// from their Block Kit structure the way Slack's clients lay them out, as terminal text: rich text
// element by element (names for mentions and channels, a link's text with its address, emoji for
// emoji, *bold* and `code` marked), plain text as it is, buttons apart (print numbers them). The
// bot writes no mrkdwn in its blocks, so nothing here parses markup.

// block is the part of a Block Kit block the console shows.
type block struct {
	Type     string          `json:"type"`
	Text     *textObject     `json:"text"`
	Label    *textObject     `json:"label"`
	Hint     *textObject     `json:"hint"`
	Elements json.RawMessage `json:"elements"`
}

// textObject is a plain_text or mrkdwn text object.
type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// richElement is a rich text element: a container (section, list, quote, preformatted) or a leaf.
type richElement struct {
	Type      string         `json:"type"`
	Elements  []richElement  `json:"elements"`
	Text      string         `json:"text"`
	URL       string         `json:"url"`
	UserID    string         `json:"user_id"`
	ChannelID string         `json:"channel_id"`
	Name      string         `json:"name"`
	Style     map[string]any `json:"style"`
}

// show renders a message's blocks as lines of text; without blocks, its text.
func (c *console) show(raw json.RawMessage, text string) string {
	var blocks []block
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil || len(blocks) == 0 {
		return text
	}
	var lines []string
	for _, b := range blocks {
		switch b.Type {
		case "rich_text":
			var els []richElement
			_ = json.Unmarshal(b.Elements, &els)
			var sb strings.Builder
			for i, e := range els {
				if i > 0 {
					sb.WriteByte('\n')
				}
				c.rich(&sb, e)
			}
			lines = append(lines, sb.String())
		case "section", "header":
			if b.Text != nil {
				lines = append(lines, b.Text.Text)
			}
		case "context":
			var els []textObject
			_ = json.Unmarshal(b.Elements, &els)
			var parts []string
			for _, e := range els {
				if e.Text != "" {
					parts = append(parts, e.Text)
				}
			}
			lines = append(lines, strings.Join(parts, " "))
		case "input":
			if b.Label != nil {
				l := b.Label.Text + ": [________]"
				if b.Hint != nil {
					l += " (" + b.Hint.Text + ")"
				}
				lines = append(lines, l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// rich writes one rich text element.
func (c *console) rich(sb *strings.Builder, e richElement) {
	switch e.Type {
	case "text":
		t := e.Text
		if e.Style["code"] == true {
			t = "`" + t + "`"
		}
		if e.Style["bold"] == true {
			t = "*" + t + "*"
		}
		sb.WriteString(t)
	case "user":
		if name, ok := c.opts.Users[e.UserID]; ok {
			sb.WriteString("@" + name)
		} else if e.UserID == c.opts.UserID && c.opts.UserName != "" {
			sb.WriteString("@" + c.opts.UserName)
		} else {
			sb.WriteString("@" + e.UserID)
		}
	case "channel":
		if e.ChannelID == c.opts.ChannelID {
			sb.WriteString("#" + c.opts.ChannelName)
		} else {
			sb.WriteString("#" + e.ChannelID)
		}
	case "link":
		if e.Text == "" {
			sb.WriteString(e.URL)
		} else {
			sb.WriteString(e.Text + " (" + e.URL + ")")
		}
	case "emoji":
		if u, ok := emoji[e.Name]; ok {
			sb.WriteString(u)
		} else {
			sb.WriteString(":" + e.Name + ":")
		}
	default: // a container
		for _, child := range e.Elements {
			c.rich(sb, child)
		}
	}
}

// emoji are the emoji the bot uses, by name.
var emoji = map[string]string{
	"warning": "⚠️", "white_check_mark": "✅", "x": "❌", "gear": "⚙️", "inbox_tray": "📥",
	"hourglass_flowing_sand": "⏳", "lock": "🔒", "no_entry_sign": "🚫", "grey_question": "❔",
	"white_circle": "⚪", "large_green_circle": "🟢", "package": "📦", "moneybag": "💰",
	"arrows_counterclockwise": "🔄", "bulb": "💡", "unlock": "🔓", "calendar": "📅",
	"alarm_clock": "⏰", "fast_forward": "⏩", "wastebasket": "🗑️",
}
