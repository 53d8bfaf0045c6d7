package slacksim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Slack's documented limits for one response_url.
const (
	responseURLMaxUses = 5
	responseURLTTL     = 30 * time.Minute
)

// responseURL is what one response_url is bound to: the user and channel of
// the payload that carried it and, for a click, the clicked message.
type responseURL struct {
	kind          string // envelopeSlash or envelopeInteractive
	user, channel string
	messageTS     string // clicked channel message
	ephemeralTS   string // clicked ephemeral message
	created       time.Time
	uses          int
}

func (s *Server) newResponseURLLocked(r *responseURL) string {
	s.respSeq++
	id := strconv.Itoa(s.respSeq)
	r.created = s.now()
	s.responses[id] = r
	return s.srv.URL + "/response/" + id
}

// flexBool accepts true, false, "true" and "false", as Slack does.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true", "1":
		*b = true
	default:
		*b = false
	}
	return nil
}

// handleResponseURL serves POST /response/<n>. slack-go parses the reply by
// Content-Type, so every reply is JSON. Errors about the URL itself are
// 404s, which slack-go reports as slack.StatusCodeError; errors about the
// message are 200 with ok:false, which it reports as
// slack.SlackErrorResponse.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, fail("method_not_allowed"))
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	// Whatever the Content-Type, the body is read as JSON: that is the
	// only format Slack documents for response_url.
	r.Header.Set("Content-Type", "application/json")
	args, body := readArgs(r)
	s.mu.Lock()
	s.recordCallLocked("response_url", args)
	f, injected := s.takeFailureLocked("response_url")
	if injected {
		s.mu.Unlock()
		writeFailure(w, f)
		return
	}
	status, res := s.respondLocked(id, body)
	s.mu.Unlock()
	writeJSON(w, status, res)
}

func (s *Server) respondLocked(id string, body []byte) (int, reply) {
	ru, ok := s.responses[id]
	switch {
	case !ok:
		return http.StatusNotFound, fail("invalid_url")
	case s.now().Sub(ru.created) > responseURLTTL:
		return http.StatusNotFound, fail("expired_url")
	case ru.uses >= responseURLMaxUses:
		return http.StatusNotFound, fail("used_url")
	}
	ru.uses++ // every request counts, as Slack counts them

	var p struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal flexBool        `json:"replace_original"`
		DeleteOriginal  flexBool        `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
		Metadata        json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return http.StatusOK, fail("invalid_payload")
	}
	if p.DeleteOriginal {
		return http.StatusOK, s.deleteOriginalLocked(ru)
	}
	if utf8.RuneCountInString(p.Text) > maxTextLen {
		return http.StatusOK, fail("msg_too_long")
	}
	blocks, err := s.normalizeBlocksLocked(string(p.Blocks))
	if err != nil {
		return http.StatusOK, failErr(err)
	}
	blocks = nonEmpty(blocks)
	if p.Text == "" && blocks == nil {
		return http.StatusOK, fail("no_text")
	}
	if p.ReplaceOriginal {
		return http.StatusOK, s.replaceOriginalLocked(ru, p.Text, blocks)
	}
	if p.ResponseType == "in_channel" {
		meta, code := metadataArg(string(p.Metadata))
		if code != "" {
			return http.StatusOK, fail(code)
		}
		if !s.checkThreadLocked(ru.channel, p.ThreadTS) {
			return http.StatusOK, fail("thread_not_found")
		}
		// A response_url bypasses channel membership, so no not_in_channel.
		s.postLocked(&Message{
			Channel: ru.channel, ThreadTS: p.ThreadTS, User: s.cfg.botUserID, BotID: s.cfg.botID,
			Text: p.Text, Blocks: blocks, Metadata: meta,
		})
		return http.StatusOK, reply{"ok": true}
	}
	s.addEphemeralLocked(&Ephemeral{
		Channel: ru.channel, User: ru.user, Text: p.Text, ThreadTS: p.ThreadTS,
		Blocks: blocks, Source: "response_url",
	})
	return http.StatusOK, reply{"ok": true}
}

// replaceOriginalLocked replaces the clicked message's content. A slash
// command has no original message the app may replace, so that fails
// instead of silently posting something else.
func (s *Server) replaceOriginalLocked(ru *responseURL, text string, blocks json.RawMessage) reply {
	switch {
	case ru.messageTS != "":
		m, ok := s.msgIndex[ru.channel+"/"+ru.messageTS]
		if !ok || m.Deleted {
			return fail("message_not_found")
		}
		m.Text, m.Blocks = text, blocks
		m.Edits++
		s.publishLocked(Event{Kind: EventUpdated, Message: m.clone()})
	case ru.ephemeralTS != "":
		e := s.ephemeralLocked(ru.user, ru.channel, ru.ephemeralTS)
		if e == nil || e.Deleted {
			return fail("message_not_found")
		}
		e.Text, e.Blocks = text, blocks
		e.Edits++
		s.publishLocked(Event{Kind: EventUpdated, Ephemeral: e.clone()})
	default:
		return fail("cant_update_message")
	}
	return reply{"ok": true}
}

func (s *Server) deleteOriginalLocked(ru *responseURL) reply {
	switch {
	case ru.messageTS != "":
		m, ok := s.msgIndex[ru.channel+"/"+ru.messageTS]
		if !ok || m.Deleted {
			return fail("message_not_found")
		}
		m.Deleted = true
		s.publishLocked(Event{Kind: EventDeleted, Message: m.clone()})
	case ru.ephemeralTS != "":
		e := s.ephemeralLocked(ru.user, ru.channel, ru.ephemeralTS)
		if e == nil || e.Deleted {
			return fail("message_not_found")
		}
		e.Deleted = true
		s.publishLocked(Event{Kind: EventDeleted, Ephemeral: e.clone()})
	default:
		return fail("cant_delete_message")
	}
	return reply{"ok": true}
}
