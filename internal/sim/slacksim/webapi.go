package slacksim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxTextLen is where Slack stops accepting message text.
const maxTextLen = 40000

// A Failure is an injected Web API failure; see [Server.FailNext].
//
// With Status zero (or 200) the reply is HTTP 200 with
// {"ok":false,"error":Error}, which slack-go returns as a
// slack.SlackErrorResponse. With another Status the reply has that HTTP
// status, and RetryAfter, when set, becomes the Retry-After header: slack-go
// turns a 429 with Retry-After into *slack.RateLimitedError and any other
// status into slack.StatusCodeError. An empty Error defaults to
// "ratelimited" for 429 and "fatal_error" otherwise.
type Failure struct {
	Error      string
	Status     int
	RetryAfter string
}

// FailNext makes the next n requests to method fail with f, after they
// have been recorded as calls. method is a Web API method name such as
// "chat.postMessage", "apps.connections.open", or "response_url" for every
// response_url. Failures queue up behind ones already injected.
func (s *Server) FailNext(method string, n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[method] = append(s.failures[method], f)
	}
}

func (s *Server) takeFailureLocked(method string) (Failure, bool) {
	q := s.failures[method]
	if len(q) == 0 {
		return Failure{}, false
	}
	s.failures[method] = q[1:]
	return q[0], true
}

func writeFailure(w http.ResponseWriter, f Failure) {
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	code := f.Error
	if code == "" {
		code = "fatal_error"
		if status == http.StatusTooManyRequests {
			code = "ratelimited"
		}
	}
	if f.RetryAfter != "" && status != http.StatusOK {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	writeJSON(w, status, fail(code))
}

// reply is a Web API response body.
type reply map[string]any

func fail(code string) reply { return reply{"ok": false, "error": code} }

// failErr turns a blocks error into Slack's reply, which lists the
// problems in response_metadata.messages.
func failErr(err error) reply {
	var be *blockError
	if errors.As(err, &be) {
		return reply{"ok": false, "error": be.code, "response_metadata": map[string]any{"messages": be.messages}}
	}
	return fail("invalid_arguments")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readArgs reads a request's arguments the ways Slack accepts them: query
// string, form body, or a JSON object body whose non-string values are
// re-encoded as JSON strings (as form callers send blocks).
func readArgs(r *http.Request) (url.Values, []byte) {
	args := url.Values{}
	for k, v := range r.URL.Query() {
		args[k] = append(args[k], v...)
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			for k, v := range m {
				args.Set(k, jsonArg(v))
			}
		}
		return args, body
	}
	if parsed, err := url.ParseQuery(string(body)); err == nil {
		for k, v := range parsed {
			args[k] = append(args[k], v...)
		}
	}
	return args, body
}

func jsonArg(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) recordCallLocked(method string, args url.Values) {
	form := cloneValues(args)
	if form.Has("token") {
		form.Set("token", "REDACTED")
	}
	s.calls = append(s.calls, Call{Method: method, Form: form, At: s.now()})
	s.notifyLocked()
}

// handleAPI serves /api/<method>.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	args, _ := readArgs(r)
	token := args.Get("token")
	if token == "" {
		token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	// Slack reports a valid token's scopes on every response to it,
	// failures included.
	switch token {
	case s.cfg.botToken:
		w.Header().Set("X-OAuth-Scopes", strings.Join(s.cfg.scopes, ","))
	case s.cfg.appToken:
		w.Header().Set("X-OAuth-Scopes", "connections:write")
	}
	s.mu.Lock()
	s.recordCallLocked(method, args)
	f, injected := s.takeFailureLocked(method)
	s.mu.Unlock()
	if injected {
		writeFailure(w, f)
		return
	}

	var handler func(url.Values) reply
	switch method {
	case "apps.connections.open":
		writeJSON(w, http.StatusOK, s.connectionsOpen(r))
		return
	case "auth.test":
		handler = s.authTest
	case "chat.postMessage":
		handler = s.postMessage
	case "chat.update":
		handler = s.updateMessage
	case "chat.postEphemeral":
		handler = s.postEphemeral
	case "users.info":
		handler = s.usersInfo
	case "conversations.info":
		handler = s.conversationsInfo
	case "chat.getPermalink":
		handler = s.getPermalink
	case "conversations.replies":
		handler = s.conversationsReplies
	case "usergroups.users.list":
		handler = s.usergroupUsers
	case "views.open":
		handler = s.viewsOpen
	case "views.update":
		handler = s.viewsUpdate
	default:
		writeJSON(w, http.StatusOK, fail("unknown_method"))
		return
	}
	needed := neededScope(method)
	if needed != "" {
		w.Header().Set("X-Accepted-OAuth-Scopes", needed)
	}
	if code := s.checkBotToken(token); code != "" {
		writeJSON(w, http.StatusOK, fail(code))
		return
	}
	if needed != "" && !slices.Contains(s.cfg.scopes, needed) {
		writeJSON(w, http.StatusOK, reply{
			"ok": false, "error": "missing_scope",
			"needed": needed, "provided": strings.Join(s.cfg.scopes, ","),
		})
		return
	}
	writeJSON(w, http.StatusOK, handler(args))
}

// neededScope is the bot scope a method requires, or "" for none. The
// fake checks the scopes of the methods whose failure a bot must handle;
// conversations.info, which needs channels:read in Slack, is left
// unchecked so that the default scopes keep serving it.
func neededScope(method string) string {
	switch method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		return "chat:write"
	case "users.info":
		return "users:read"
	case "usergroups.users.list":
		return "usergroups:read"
	case "conversations.replies":
		return "channels:history" // groups:history for private channels; the fake has public ones
	}
	return ""
}

func (s *Server) checkBotToken(token string) string {
	switch token {
	case "":
		return "not_authed"
	case s.cfg.botToken:
		return ""
	case s.cfg.appToken:
		return "not_allowed_token_type"
	}
	return "invalid_auth"
}

func (s *Server) authTest(url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return reply{
		"ok": true, "url": "https://" + s.teamDomain() + ".slack.com/",
		"team": s.cfg.teamName, "user": s.users[s.cfg.botUserID].name,
		"team_id": s.cfg.teamID, "user_id": s.cfg.botUserID, "bot_id": s.cfg.botID,
		"is_enterprise_install": false,
	}
}

// wireMessage is a message as the Web API and payloads show it.
type wireMessage struct {
	Type     string          `json:"type"`
	User     string          `json:"user,omitempty"`
	BotID    string          `json:"bot_id,omitempty"`
	AppID    string          `json:"app_id,omitempty"`
	Text     string          `json:"text"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Team     string          `json:"team,omitempty"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

func (s *Server) wireMessageLocked(m *Message) wireMessage {
	wm := wireMessage{
		Type: "message", User: m.User, BotID: m.BotID, Text: m.Text, TS: m.TS,
		ThreadTS: m.ThreadTS, Team: s.cfg.teamID, Blocks: m.Blocks, Metadata: m.Metadata,
	}
	if m.BotID != "" {
		wm.AppID = appID
	}
	return wm
}

// nonEmpty stores "no blocks" as nil whatever way it was said.
func nonEmpty(b json.RawMessage) json.RawMessage {
	if emptyBlocks(b) {
		return nil
	}
	return b
}

func truthy(v string) bool { return v == "true" || v == "1" }

// metadataArg validates message metadata. slack-go sends its zero value,
// {"event_type":"","event_payload":null}, on every response_url call, so
// that reads as "no metadata"; anything else needs an event_type and an
// object payload, as Slack requires.
func metadataArg(raw string) (json.RawMessage, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return nil, ""
	}
	var m struct {
		EventType    *string         `json:"event_type"`
		EventPayload json.RawMessage `json:"event_payload"`
	}
	if json.Unmarshal([]byte(raw), &m) != nil || m.EventType == nil {
		return nil, "invalid_metadata_format"
	}
	payload := string(bytes.TrimSpace(m.EventPayload))
	if *m.EventType == "" && (payload == "" || payload == "null") {
		return nil, ""
	}
	if *m.EventType == "" || !strings.HasPrefix(payload, "{") {
		return nil, "invalid_metadata_format"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(raw)) != nil {
		return nil, "invalid_metadata_format"
	}
	return json.RawMessage(buf.Bytes()), ""
}

// checkThreadLocked enforces that thread_ts names a live top-level message
// of the channel. Slack is more lenient (it threads under a reply's parent
// and posts unthreaded when the parent is gone); the fake fails with
// thread_not_found so that a bot threading under the wrong ts is caught.
func (s *Server) checkThreadLocked(channel, threadTS string) bool {
	if threadTS == "" {
		return true
	}
	p, ok := s.msgIndex[channel+"/"+threadTS]
	return ok && !p.Deleted && p.ThreadTS == ""
}

// postLocked stores a new channel message.
func (s *Server) postLocked(m *Message) {
	m.TS = s.nextTSLocked()
	s.msgs[m.Channel] = append(s.msgs[m.Channel], m)
	s.msgIndex[m.Channel+"/"+m.TS] = m
	s.publishLocked(Event{Kind: EventPosted, Message: m.clone()})
}

func (s *Server) addEphemeralLocked(e *Ephemeral) {
	e.TS = s.nextTSLocked()
	s.ephemerals = append(s.ephemerals, e)
	s.publishLocked(Event{Kind: EventEphemeral, Ephemeral: e.clone()})
}

func (s *Server) ephemeralLocked(user, channel, ts string) *Ephemeral {
	for _, e := range s.ephemerals {
		if e.User == user && e.Channel == channel && e.TS == ts {
			return e
		}
	}
	return nil
}

// content validates the text and blocks arguments shared by the posting
// methods.
func (s *Server) contentLocked(args url.Values) (string, json.RawMessage, reply) {
	text := args.Get("text")
	if utf8.RuneCountInString(text) > maxTextLen {
		return "", nil, fail("msg_too_long")
	}
	blocks, err := s.normalizeBlocksLocked(args.Get("blocks"))
	if err != nil {
		return "", nil, failErr(err)
	}
	return text, blocks, nil
}

// postMessage serves chat.postMessage.
func (s *Server) postMessage(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channelLocked(args.Get("channel"))
	if !ok {
		return fail("channel_not_found")
	}
	if !ch.botMember {
		return fail("not_in_channel")
	}
	text, blocks, bad := s.contentLocked(args)
	if bad != nil {
		return bad
	}
	if text == "" && emptyBlocks(blocks) {
		return fail("no_text")
	}
	meta, code := metadataArg(args.Get("metadata"))
	if code != "" {
		return fail(code)
	}
	thread := args.Get("thread_ts")
	if !s.checkThreadLocked(ch.id, thread) {
		return fail("thread_not_found")
	}
	m := &Message{
		Channel: ch.id, ThreadTS: thread, User: s.cfg.botUserID, BotID: s.cfg.botID,
		Text: text, Blocks: nonEmpty(blocks), Metadata: meta,
		ReplyBroadcast: thread != "" && truthy(args.Get("reply_broadcast")),
	}
	s.postLocked(m)
	return reply{"ok": true, "channel": ch.id, "ts": m.TS, "message": s.wireMessageLocked(m)}
}

// updateMessage serves chat.update. Text without blocks removes the old
// blocks and "blocks=[]" clears them, as Slack documents; an omitted text
// or metadata keeps the old one.
func (s *Server) updateMessage(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channelLocked(args.Get("channel"))
	if !ok {
		return fail("channel_not_found")
	}
	m, ok := s.msgIndex[ch.id+"/"+args.Get("ts")]
	if !ok || m.Deleted {
		return fail("message_not_found")
	}
	if m.User != s.cfg.botUserID {
		return fail("cant_update_message")
	}
	hasText, hasBlocks := args.Has("text"), args.Has("blocks")
	if !hasText && !hasBlocks {
		return fail("no_text")
	}
	text, blocks, bad := s.contentLocked(args)
	if bad != nil {
		return bad
	}
	newText, newBlocks := m.Text, m.Blocks
	if hasBlocks {
		newBlocks = nonEmpty(blocks)
	}
	if hasText {
		newText = text
		if !hasBlocks {
			newBlocks = nil
		}
	}
	if newText == "" && newBlocks == nil {
		return fail("no_text")
	}
	if args.Has("metadata") {
		meta, code := metadataArg(args.Get("metadata"))
		if code != "" {
			return fail(code)
		}
		m.Metadata = meta
	}
	m.Text, m.Blocks = newText, newBlocks
	if m.ThreadTS != "" && truthy(args.Get("reply_broadcast")) {
		m.ReplyBroadcast = true
	}
	m.Edits++
	s.publishLocked(Event{Kind: EventUpdated, Message: m.clone()})
	return reply{"ok": true, "channel": ch.id, "ts": m.TS, "text": m.Text, "message": s.wireMessageLocked(m)}
}

// postEphemeral serves chat.postEphemeral.
func (s *Server) postEphemeral(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channelLocked(args.Get("channel"))
	if !ok {
		return fail("channel_not_found")
	}
	u, ok := s.users[args.Get("user")]
	if !ok {
		return fail("user_not_found")
	}
	if !ch.botMember {
		return fail("not_in_channel")
	}
	text, blocks, bad := s.contentLocked(args)
	if bad != nil {
		return bad
	}
	if text == "" && emptyBlocks(blocks) {
		return fail("no_text")
	}
	e := &Ephemeral{
		Channel: ch.id, User: u.id, Text: text, ThreadTS: args.Get("thread_ts"),
		Blocks: nonEmpty(blocks), Source: "chat.postEphemeral",
	}
	s.addEphemeralLocked(e)
	return reply{"ok": true, "message_ts": e.TS}
}
