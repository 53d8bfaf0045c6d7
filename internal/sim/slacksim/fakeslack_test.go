package slacksim_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

func newServer(t *testing.T, opts ...slacksim.Option) *slacksim.Server {
	t.Helper()
	s := slacksim.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

func apiClient(s *slacksim.Server) *slack.Client {
	return slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(s.AppToken()))
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runBot runs a real slack-go socketmode client against s and calls handle
// for every event from its event loop goroutine. It returns RunContext's
// result channel; cleanup stops the client before the server closes.
func runBot(t *testing.T, s *slacksim.Server, appToken string, handle func(*socketmode.Client, socketmode.Event), opts ...socketmode.Option) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(appToken))
	c := socketmode.New(api, opts...)
	errc := make(chan error, 1)
	runDone := make(chan struct{})
	loopDone := make(chan struct{})
	go func() {
		defer close(runDone)
		errc <- c.RunContext(ctx)
	}()
	go func() {
		defer close(loopDone)
		for {
			select {
			case evt := <-c.Events:
				handle(c, evt)
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-loopDone
		<-runDone
	})
	return errc
}

// ackAll acks every envelope with no payload.
func ackAll(c *socketmode.Client, evt socketmode.Event) {
	if evt.Request != nil && evt.Request.EnvelopeID != "" {
		_ = c.Ack(*evt.Request)
	}
}

func wantSlackError(t *testing.T, err error, code string) {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != code {
		t.Fatalf("err = %v; want slack error %q", err, code)
	}
}

func TestSlashCommand(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	hellos := make(chan socketmode.Request, 1)
	cmds := make(chan slack.SlashCommand, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeHello:
			hellos <- *evt.Request
		case socketmode.EventTypeSlashCommand:
			cmds <- evt.Data.(slack.SlashCommand)
			_ = c.Ack(*evt.Request, map[string]any{"text": "Working on it"})
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	hello := <-hellos
	if hello.ConnectionInfo.AppID != "A0FAKE" || hello.NumConnections != 1 || hello.DebugInfo.Host == "" {
		t.Errorf("hello = %+v; want app A0FAKE, 1 connection, a host", hello)
	}

	ack, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "stop production"})
	if err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	cmd := <-cmds
	want := slack.SlashCommand{
		Token: cmd.Token, TeamID: "T0FAKE", TeamDomain: "fake-workspace", ChannelID: "C0OPS",
		ChannelName: "ops", UserID: "U0ALICE", UserName: "alice", Command: "/qovery",
		Text: "stop production", ResponseURL: cmd.ResponseURL, TriggerID: cmd.TriggerID, APIAppID: "A0FAKE",
	}
	if cmd != want {
		t.Errorf("slash command = %+v; want %+v", cmd, want)
	}
	if !strings.HasPrefix(cmd.ResponseURL, s.URL()+"/response/") || cmd.TriggerID == "" || cmd.Token == "" {
		t.Errorf("response_url %q, trigger_id %q, token %q; want a fake response URL and non-empty ids", cmd.ResponseURL, cmd.TriggerID, cmd.Token)
	}
	if ack.EnvelopeID == "" || !strings.Contains(string(ack.Payload), "Working on it") {
		t.Errorf("ack = %+v; want an envelope id and the payload", ack)
	}
	eph := s.Ephemerals("U0ALICE")
	if len(eph) != 1 || eph[0].Source != "ack" || eph[0].Text != "Working on it" || eph[0].Channel != "C0OPS" {
		t.Errorf("Ephemerals(U0ALICE) = %+v; want the ack payload as one ephemeral", eph)
	}
	acks := s.Acks()
	if len(acks) != 1 || acks[0].Type != "slash_commands" || acks[0].TimedOut || acks[0].Late || acks[0].EnvelopeID != ack.EnvelopeID {
		t.Errorf("Acks() = %+v; want one timely slash_commands ack", acks)
	}
}

func confirmBlocks() []slack.Block {
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Stop *staging*?", false, false), nil, nil),
		slack.NewActionBlock("confirm",
			slack.NewButtonBlockElement("stop_confirm", "cluster-1",
				slack.NewTextBlockObject(slack.PlainTextType, "Stop cluster", false, false)).WithStyle(slack.StyleDanger),
			slack.NewButtonBlockElement("stop_cancel", "cluster-1",
				slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false)),
		),
	}
}

func TestClickButton(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	clicks := make(chan slack.InteractionCallback, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeInteractive {
			_ = c.Ack(*evt.Request)
			clicks <- evt.Data.(slack.InteractionCallback)
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	_, ts, err := api.PostMessage("C0OPS", slack.MsgOptionText("Stop staging?", false), slack.MsgOptionBlocks(confirmBlocks()...))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	m, ok := s.Message("C0OPS", ts)
	if !ok {
		t.Fatalf("Message(C0OPS, %s) not found", ts)
	}
	if got, want := m.PlainText(), "Stop *staging*?\n[Stop cluster] [Cancel]"; got != want {
		t.Errorf("PlainText() = %q; want %q", got, want)
	}

	if _, err := s.ClickButton(ctx, slacksim.Click{UserID: "U0BOB", ChannelID: "C0OPS", MessageTS: ts, ActionID: "stop_confirm"}); err != nil {
		t.Fatalf("ClickButton: %v", err)
	}
	cb := <-clicks
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("callback type %q with %d block actions; want block_actions with 1", cb.Type, len(cb.ActionCallback.BlockActions))
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "stop_confirm" || a.BlockID != "confirm" || a.Value != "cluster-1" || a.Text.Text != "Stop cluster" || a.Type != "button" || a.ActionTs == "" {
		t.Errorf("block action = %+v; want stop_confirm in block confirm", a)
	}
	if cb.User.ID != "U0BOB" || cb.User.Name != "bob" || cb.Channel.ID != "C0OPS" || cb.Channel.Name != "ops" || cb.Team.ID != "T0FAKE" {
		t.Errorf("user %+v, channel %s/%s, team %s; want bob in ops of T0FAKE", cb.User, cb.Channel.ID, cb.Channel.Name, cb.Team.ID)
	}
	if cb.Container.MessageTs != ts || cb.Container.ChannelID != "C0OPS" || cb.Container.IsEphemeral {
		t.Errorf("container = %+v; want message %s in C0OPS", cb.Container, ts)
	}
	if cb.Message.Timestamp != ts || cb.Message.User != "U0BOT" || len(cb.Message.Blocks.BlockSet) != 2 {
		t.Errorf("message ts %s user %s with %d blocks; want the clicked message", cb.Message.Timestamp, cb.Message.User, len(cb.Message.Blocks.BlockSet))
	}
	if cb.APIAppID != "A0FAKE" || cb.TriggerID == "" || cb.BlockActionState == nil {
		t.Errorf("api_app_id %q, trigger_id %q, state %v; want all set", cb.APIAppID, cb.TriggerID, cb.BlockActionState)
	}

	// replace_original through the click's response_url edits the message.
	if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("Stopping staging", false)); err != nil {
		t.Fatalf("replace_original: %v", err)
	}
	m, _ = s.Message("C0OPS", ts)
	if m.Text != "Stopping staging" || m.Blocks != nil || m.Edits != 1 || len(m.Buttons()) != 0 {
		t.Errorf("after replace_original: %+v; want new text, no blocks, 1 edit", m)
	}
	_, err = s.ClickButton(ctx, slacksim.Click{UserID: "U0BOB", ChannelID: "C0OPS", MessageTS: ts, ActionID: "stop_confirm"})
	if !errors.Is(err, slacksim.ErrNoSuchButton) {
		t.Errorf("second click: err = %v; want ErrNoSuchButton", err)
	}
	_, err = s.ClickButton(ctx, slacksim.Click{UserID: "U0BOB", ChannelID: "C0OPS", MessageTS: "1.000001", ActionID: "stop_confirm"})
	if !errors.Is(err, slacksim.ErrNoSuchMessage) {
		t.Errorf("click on unknown message: err = %v; want ErrNoSuchMessage", err)
	}

	// delete_original removes it.
	if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionDeleteOriginal(cb.ResponseURL)); err != nil {
		t.Fatalf("delete_original: %v", err)
	}
	if m, _ = s.Message("C0OPS", ts); !m.Deleted {
		t.Errorf("after delete_original: Deleted = false")
	}
}

func TestEphemeralButtons(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	clicks := make(chan slack.InteractionCallback, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			// Answer in the ack, as a bot asking for confirmation would.
			_ = c.Ack(*evt.Request, map[string]any{"text": "Stop staging?", "blocks": confirmBlocks()})
		case socketmode.EventTypeInteractive:
			_ = c.Ack(*evt.Request)
			clicks <- evt.Data.(slack.InteractionCallback)
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "stop staging"}); err != nil {
		t.Fatal(err)
	}
	eph := s.Ephemerals("U0ALICE")
	if len(eph) != 1 || len(eph[0].Buttons()) != 2 || eph[0].TS == "" {
		t.Fatalf("Ephemerals(U0ALICE) = %+v; want one with 2 buttons", eph)
	}
	_, err := s.ClickButton(ctx, slacksim.Click{UserID: "U0BOB", ChannelID: "C0OPS", MessageTS: eph[0].TS, ActionID: "stop_cancel"})
	if !errors.Is(err, slacksim.ErrNoSuchMessage) {
		t.Errorf("bob clicking alice's ephemeral: err = %v; want ErrNoSuchMessage", err)
	}
	if _, err := s.ClickButton(ctx, slacksim.Click{UserID: "U0ALICE", ChannelID: "C0OPS", MessageTS: eph[0].TS, ActionID: "stop_cancel"}); err != nil {
		t.Fatal(err)
	}
	cb := <-clicks
	if !cb.Container.IsEphemeral || cb.Container.MessageTs != eph[0].TS || cb.ActionCallback.BlockActions[0].ActionID != "stop_cancel" {
		t.Errorf("container %+v, actions %+v; want an ephemeral stop_cancel click", cb.Container, cb.ActionCallback.BlockActions)
	}
	if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("Cancelled", false)); err != nil {
		t.Fatal(err)
	}
	eph = s.Ephemerals("U0ALICE")
	if eph[0].Text != "Cancelled" || eph[0].Blocks != nil || eph[0].Edits != 1 {
		t.Errorf("after replace_original: %+v; want text Cancelled without blocks", eph[0])
	}
}

func TestAckTimeout(t *testing.T) {
	s := newServer(t, slacksim.WithAckTimeout(100*time.Millisecond))
	ctx := testContext(t)
	unacked := make(chan socketmode.Request, 1)
	bot := make(chan *socketmode.Client, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			bot <- c
			unacked <- *evt.Request
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "status"})
	if !errors.Is(err, slacksim.ErrAckTimeout) {
		t.Fatalf("SlashCommand: err = %v; want ErrAckTimeout", err)
	}
	acks := s.Acks()
	if len(acks) != 1 || !acks[0].TimedOut {
		t.Errorf("Acks() = %+v; want one timeout", acks)
	}
	eph := s.Ephemerals("U0ALICE")
	if len(eph) != 1 || eph[0].Source != "slack" || !strings.Contains(eph[0].Text, "operation_timeout") {
		t.Errorf("Ephemerals(U0ALICE) = %+v; want Slack's operation_timeout", eph)
	}

	// An ack after the deadline is recorded as late and shows nothing.
	c, req := <-bot, <-unacked
	if err := c.Ack(req, map[string]any{"text": "too late"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { return len(s.Acks()) == 2 }); err != nil {
		t.Fatal(err)
	}
	if late := s.Acks()[1]; !late.Late || late.EnvelopeID != req.EnvelopeID {
		t.Errorf("late ack = %+v; want Late for %s", late, req.EnvelopeID)
	}
	if n := len(s.Ephemerals("U0ALICE")); n != 1 {
		t.Errorf("%d ephemerals after a late ack; want 1", n)
	}
}

func TestNotConnected(t *testing.T) {
	s := newServer(t)
	_, err := s.SlashCommand(testContext(t), slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS"})
	if !errors.Is(err, slacksim.ErrNotConnected) {
		t.Errorf("err = %v; want ErrNotConnected", err)
	}
}

func TestWebAPI(t *testing.T) {
	s := newServer(t)
	api := apiClient(s)

	auth, err := api.AuthTest()
	if err != nil || auth.UserID != "U0BOT" || auth.BotID != "B0BOT" || auth.TeamID != "T0FAKE" || auth.Team != "Fake Workspace" {
		t.Errorf("AuthTest() = %+v, %v; want the fake bot", auth, err)
	}
	u, err := api.GetUserInfo("U0ALICE")
	if err != nil || u.Name != "alice" || u.RealName != "Alice" || u.TZ != "UTC" || u.Profile.DisplayName != "alice" {
		t.Errorf("GetUserInfo(U0ALICE) = %+v, %v; want alice", u, err)
	}
	_, err = api.GetUserInfo("U0NOBODY")
	wantSlackError(t, err, "user_not_found")
	ch, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C0OPS"})
	if err != nil || ch.Name != "ops" || !ch.IsMember {
		t.Errorf("GetConversationInfo(C0OPS) = %+v, %v; want ops with the bot", ch, err)
	}

	// A parent, a broadcast reply, and updates.
	_, parent, err := api.PostMessage("C0OPS", slack.MsgOptionText("Stopping staging", false), slack.MsgOptionBlocks(confirmBlocks()...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "stop", EventPayload: map[string]any{"id": "1"}}))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessage("C0OPS", slack.MsgOptionText("STOPPING", false), slack.MsgOptionTS(parent), slack.MsgOptionBroadcast())
	if err != nil {
		t.Fatal(err)
	}
	if reply <= parent {
		t.Errorf("reply ts %s not after parent ts %s", reply, parent)
	}
	replies := s.Replies("C0OPS", parent)
	if len(replies) != 1 || replies[0].TS != reply || !replies[0].ReplyBroadcast || replies[0].BotID != "B0BOT" {
		t.Errorf("Replies = %+v; want the broadcast reply", replies)
	}
	if msgs := s.Messages("C0OPS"); len(msgs) != 2 || msgs[0].TS != parent || msgs[1].TS != reply {
		t.Errorf("Messages = %+v; want parent then reply", msgs)
	}
	if p, _ := s.Message("C0OPS", parent); !strings.Contains(string(p.Metadata), `"event_type":"stop"`) {
		t.Errorf("metadata = %s; want event_type stop", p.Metadata)
	}

	if _, _, _, err := api.UpdateMessage("C0OPS", parent, slack.MsgOptionText("Stopped", false)); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Message("C0OPS", parent)
	if p.Text != "Stopped" || p.Blocks != nil || p.Edits != 1 || p.Metadata == nil {
		t.Errorf("after text-only update: %+v; want text Stopped, blocks cleared, metadata kept", p)
	}
	if _, _, _, err := api.UpdateMessage("C0OPS", parent, slack.MsgOptionBlocks(confirmBlocks()...)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage("C0OPS", parent, slack.MsgOptionBlocks()); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.Message("C0OPS", parent); p.Text != "Stopped" || p.Blocks != nil || p.Edits != 3 {
		t.Errorf("after blocks=[]: %+v; want blocks cleared and text kept", p)
	}
	_, _, _, err = api.UpdateMessage("C0OPS", "1700000999.000000", slack.MsgOptionText("x", false))
	wantSlackError(t, err, "message_not_found")

	ts, err := api.PostEphemeral("C0OPS", "U0BOB", slack.MsgOptionText("Only you", false))
	if eph := s.Ephemerals("U0BOB"); err != nil || len(eph) != 1 || eph[0].TS != ts || eph[0].Source != "chat.postEphemeral" {
		t.Errorf("PostEphemeral = %q, %v; Ephemerals = %+v", ts, err, eph)
	}

	// Errors slack-go surfaces as SlackErrorResponse.
	_, _, err = api.PostMessage("C0NOPE", slack.MsgOptionText("x", false))
	wantSlackError(t, err, "channel_not_found")
	s.AddChannel("C0PRIV", "private", false)
	_, _, err = api.PostMessage("C0PRIV", slack.MsgOptionText("x", false))
	wantSlackError(t, err, "not_in_channel")
	_, err = api.PostEphemeral("C0PRIV", "U0ALICE", slack.MsgOptionText("x", false))
	wantSlackError(t, err, "not_in_channel")
	s.SetBotMember("C0PRIV", true)
	if _, _, err := api.PostMessage("#private", slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("post by channel name after invite: %v", err)
	}
	_, _, err = api.PostMessage("C0OPS", slack.MsgOptionText("x", false), slack.MsgOptionTS(reply))
	wantSlackError(t, err, "thread_not_found")
	_, _, err = api.PostMessage("C0OPS")
	wantSlackError(t, err, "no_text")
	long := strings.Repeat("x", 151)
	_, _, err = api.PostMessage("C0OPS", slack.MsgOptionBlocks(slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, long, false, false))))
	wantSlackError(t, err, "invalid_blocks")
	var se slack.SlackErrorResponse
	if errors.As(err, &se); len(se.ResponseMetadata.Messages) == 0 {
		t.Errorf("invalid_blocks without response_metadata.messages")
	}
	_, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0OPS"})
	wantSlackError(t, err, "unknown_method")

	_, err = slack.New("xoxb-wrong", slack.OptionAPIURL(s.APIURL())).AuthTest()
	wantSlackError(t, err, "invalid_auth")

	for _, c := range s.Calls("chat.postMessage") {
		if got := c.Form.Get("token"); got != "REDACTED" {
			t.Errorf("recorded token = %q; want REDACTED", got)
		}
	}
}

func TestFailNext(t *testing.T) {
	s := newServer(t)
	api := apiClient(s)
	s.FailNext("chat.postMessage", 1, slacksim.Failure{Status: 429, RetryAfter: "1"})
	s.FailNext("chat.postMessage", 1, slacksim.Failure{Status: 503})
	s.FailNext("chat.postMessage", 1, slacksim.Failure{Error: "ratelimited"})

	_, _, err := api.PostMessage("C0OPS", slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("first post: err = %v; want *slack.RateLimitedError after 1s", err)
	}
	_, _, err = api.PostMessage("C0OPS", slack.MsgOptionText("x", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 503 {
		t.Errorf("second post: err = %v; want StatusCodeError 503", err)
	}
	_, _, err = api.PostMessage("C0OPS", slack.MsgOptionText("x", false))
	wantSlackError(t, err, "ratelimited")
	if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("fourth post: %v", err)
	}
	if n := len(s.Calls("chat.postMessage")); n != 4 {
		t.Errorf("%d calls recorded; want 4", n)
	}
	if n := len(s.Messages("C0OPS")); n != 1 {
		t.Errorf("%d messages stored; want 1", n)
	}
}

func TestResponseURL(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	urls := make(chan string, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			_ = c.Ack(*evt.Request)
			urls <- evt.Data.(slack.SlashCommand).ResponseURL
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "list"}); err != nil {
		t.Fatal(err)
	}
	url := <-urls
	if n := len(s.Ephemerals("U0ALICE")); n != 0 {
		t.Fatalf("a bare ack produced %d ephemerals", n)
	}

	// 1: ephemeral to the user who typed the command.
	if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("3 clusters", false)); err != nil {
		t.Fatal(err)
	}
	if eph := s.Ephemerals("U0ALICE"); len(eph) != 1 || eph[0].Source != "response_url" || eph[0].Text != "3 clusters" {
		t.Errorf("Ephemerals = %+v; want the response", eph)
	}
	// 2: in_channel, in a thread.
	_, parent, err := api.PostMessage("C0OPS", slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionResponseURL(url, slack.ResponseTypeInChannel), slack.MsgOptionText("in thread", false), slack.MsgOptionTS(parent)); err != nil {
		t.Fatal(err)
	}
	if r := s.Replies("C0OPS", parent); len(r) != 1 || r[0].Text != "in thread" || r[0].User != "U0BOT" {
		t.Errorf("Replies = %+v; want the in_channel response", r)
	}
	// 3: a slash command has no original message to replace.
	_, _, err = api.PostMessage("C0OPS", slack.MsgOptionReplaceOriginal(url), slack.MsgOptionText("x", false))
	wantSlackError(t, err, "cant_update_message")
	// 4, 5: fine; 6: the URL is used up.
	for i := 4; i <= 5; i++ {
		if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("again", false)); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
	_, _, err = api.PostMessage("C0OPS", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("again", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 404 {
		t.Errorf("use 6: err = %v; want StatusCodeError 404", err)
	}
	if n := len(s.Calls("response_url")); n != 6 {
		t.Errorf("%d response_url calls recorded; want 6", n)
	}
}

func TestInvalidAppToken(t *testing.T) {
	s := newServer(t)
	errc := runBot(t, s, "xapp-1-wrong", func(*socketmode.Client, socketmode.Event) {})
	select {
	case err := <-errc:
		if err == nil || err.Error() != "invalid_auth" {
			t.Errorf("RunContext = %v; want invalid_auth", err)
		}
	case <-testContext(t).Done():
		t.Fatal("RunContext did not return")
	}
}

func TestConnectionsOpenRateLimited(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	s.FailNext("apps.connections.open", 1, slacksim.Failure{Status: 429, RetryAfter: "0"})
	connErrs := make(chan error, 1)
	runBot(t, s, s.AppToken(), func(_ *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeConnectionError {
			select {
			case connErrs <- evt.Data.(*slack.ConnectionErrorEvent).ErrorObj:
			default:
			}
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	var rl *slack.RateLimitedError
	if err := <-connErrs; !errors.As(err, &rl) {
		t.Errorf("connection error = %v; want *slack.RateLimitedError", err)
	}
	if n := len(s.Calls("apps.connections.open")); n != 2 {
		t.Errorf("%d apps.connections.open calls; want 2", n)
	}
}

func TestReconnect(t *testing.T) {
	for _, tc := range []struct {
		name      string
		interrupt func(*slacksim.Server)
	}{
		{"disconnect frame", func(s *slacksim.Server) { s.Disconnect("refresh_requested") }},
		{"dropped socket", (*slacksim.Server).DropConnections},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			ctx := testContext(t)
			runBot(t, s, s.AppToken(), ackAll)
			if err := s.WaitConnected(ctx); err != nil {
				t.Fatal(err)
			}
			tc.interrupt(s)
			err := s.WaitFor(ctx, func() bool {
				return len(s.Calls("apps.connections.open")) == 2 && s.Connections() == 1
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "status"}); err != nil {
				t.Errorf("SlashCommand after reconnect: %v", err)
			}
		})
	}
}

func TestRoundRobinAndRedeliver(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	type delivery struct {
		bot   int
		retry int
	}
	got := make(chan delivery, 4)
	for i := range 2 {
		runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
			if evt.Type == socketmode.EventTypeSlashCommand {
				_ = c.Ack(*evt.Request)
				got <- delivery{i, evt.Request.RetryAttempt}
			}
		})
	}
	if err := s.WaitFor(ctx, func() bool { return s.Connections() == 2 }); err != nil {
		t.Fatal(err)
	}
	first, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "a"})
	if err != nil {
		t.Fatal(err)
	}
	d1 := <-got
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "b"}); err != nil {
		t.Fatal(err)
	}
	d2 := <-got
	if d1.bot == d2.bot {
		t.Errorf("both envelopes went to bot %d; want one each", d1.bot)
	}
	again, err := s.Redeliver(ctx, first.EnvelopeID)
	if err != nil {
		t.Fatal(err)
	}
	if d3 := <-got; d3.retry != 1 || again.EnvelopeID != first.EnvelopeID {
		t.Errorf("redelivery: retry_attempt %d, envelope %s; want 1, %s", d3.retry, again.EnvelopeID, first.EnvelopeID)
	}
}

func TestTooManyWebsockets(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	frame := func(ws *websocket.Conn) (typ, reason string, n int) {
		t.Helper()
		var f struct {
			Type           string `json:"type"`
			Reason         string `json:"reason"`
			NumConnections int    `json:"num_connections"`
		}
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		return f.Type, f.Reason, f.NumConnections
	}
	dial := func() *websocket.Conn {
		t.Helper()
		_, u, err := api.StartSocketModeContext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		return ws
	}
	for i := 1; i <= 10; i++ {
		if typ, _, n := frame(dial()); typ != "hello" || n != i {
			t.Fatalf("socket %d: first frame %s with %d connections; want hello with %d", i, typ, n, i)
		}
	}
	if typ, reason, _ := frame(dial()); typ != "disconnect" || reason != "too_many_websockets" {
		t.Errorf("socket 11: %s %s; want disconnect too_many_websockets", typ, reason)
	}
	if n := s.Connections(); n != 10 {
		t.Errorf("Connections() = %d; want 10", n)
	}
}

func TestSubscribeAndWaitFor(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	events, cancel := s.Subscribe()

	_, parent, err := api.PostMessage("C0OPS", slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.WaitFor(ctx, func() bool { return len(s.Replies("C0OPS", parent)) >= 2 })
	}()
	for _, text := range []string{"one", "two"} {
		if _, _, err := api.PostMessage("C0OPS", slack.MsgOptionText(text, false), slack.MsgOptionTS(parent)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("WaitFor: %v", err)
	}
	if _, _, _, err := api.UpdateMessage("C0OPS", parent, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := api.PostEphemeral("C0OPS", "U0BOB", slack.MsgOptionText("psst", false)); err != nil {
		t.Fatal(err)
	}

	want := []string{"posted parent", "posted one", "posted two", "updated edited", "ephemeral psst"}
	for _, w := range want {
		ev := <-events
		text := ev.Message.Text
		if ev.Kind == slacksim.EventEphemeral {
			text = ev.Ephemeral.Text
		}
		if got := ev.Kind.String() + " " + text; got != w {
			t.Errorf("event = %q; want %q", got, w)
		}
	}
	cancel()
	for ev := range events {
		t.Errorf("event after cancel: %+v", ev)
	}

	short, stop := context.WithTimeout(ctx, 20*time.Millisecond)
	defer stop()
	err = s.WaitFor(short, func() bool { return false })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "messages") {
		t.Errorf("WaitFor(never) = %v; want a deadline error describing the state", err)
	}
}

func TestPlainTextAndButtons(t *testing.T) {
	blocks := `[
		{"type":"header","text":{"type":"plain_text","text":"Stop staging?"}},
		{"type":"section","block_id":"s","text":{"type":"mrkdwn","text":"Cluster *staging*"},
		 "fields":[{"type":"mrkdwn","text":"*State* DEPLOYED"}],
		 "accessory":{"type":"button","action_id":"open","text":{"type":"plain_text","text":"Open"},"url":"https://example.com"}},
		{"type":"divider"},
		{"type":"actions","block_id":"a","elements":[
			{"type":"button","action_id":"yes","value":"1","style":"danger","text":{"type":"plain_text","text":"Stop"}},
			{"type":"button","action_id":"no","text":{"type":"plain_text","text":"Cancel"}}]},
		{"type":"context","elements":[{"type":"mrkdwn","text":"Requested by <@U0ALICE>"},{"type":"mrkdwn","text":"expires in 10 min"}]}
	]`
	m := slacksim.Message{Text: "fallback", Blocks: json.RawMessage(blocks)}
	want := "Stop staging?\nCluster *staging*\n*State* DEPLOYED\n[Open]\n---\n[Stop] [Cancel]\nRequested by <@U0ALICE> expires in 10 min"
	if got := m.PlainText(); got != want {
		t.Errorf("PlainText() =\n%s\nwant\n%s", got, want)
	}
	wantButtons := []slacksim.Button{
		{ActionID: "open", BlockID: "s", Text: "Open"},
		{ActionID: "yes", BlockID: "a", Text: "Stop", Value: "1", Style: "danger"},
		{ActionID: "no", BlockID: "a", Text: "Cancel"},
	}
	got := m.Buttons()
	if len(got) != len(wantButtons) {
		t.Fatalf("Buttons() = %+v; want %+v", got, wantButtons)
	}
	for i := range got {
		if got[i] != wantButtons[i] {
			t.Errorf("Buttons()[%d] = %+v; want %+v", i, got[i], wantButtons[i])
		}
	}
	if got := (slacksim.Message{Text: "just text"}).PlainText(); got != "just text" {
		t.Errorf("PlainText() without blocks = %q; want the text", got)
	}
}

// slack-go reconnects when Slack's PINGs stop for longer than its ping
// interval; the fake's PINGs must keep one connection alive well past that.
func TestPingsKeepConnectionAlive(t *testing.T) {
	s := newServer(t, slacksim.WithPingInterval(20*time.Millisecond))
	ctx := testContext(t)
	runBot(t, s, s.AppToken(), ackAll, socketmode.OptionPingInterval(200*time.Millisecond))
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	// Three of the client's dead-man periods without a reconnect.
	watch, stop := context.WithTimeout(ctx, 600*time.Millisecond)
	defer stop()
	err := s.WaitFor(watch, func() bool { return len(s.Calls("apps.connections.open")) > 1 })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("client reconnected (err = %v); want one connection throughout", err)
	}
}

func TestCloseWhileConnected(t *testing.T) {
	s := slacksim.NewServer()
	ctx := testContext(t)
	received := make(chan struct{})
	runBot(t, s, s.AppToken(), func(_ *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			close(received) // and never ack
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS"})
		errc <- err
	}()
	<-received
	s.Close()
	if err := <-errc; !errors.Is(err, slacksim.ErrClosed) {
		t.Errorf("SlashCommand during Close: err = %v; want ErrClosed", err)
	}
	if err := s.WaitConnected(ctx); !errors.Is(err, slacksim.ErrClosed) {
		t.Errorf("WaitConnected after Close: err = %v; want ErrClosed", err)
	}
}
