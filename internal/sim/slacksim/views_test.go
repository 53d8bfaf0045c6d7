package slacksim_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

// stopModal is a form with a required input with an initial value and an
// optional one whose action_id the fake generates.
func stopModal() slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain("Stop a cluster"),
		Submit:          plain("Stop"),
		Close:           plain("Cancel"),
		CallbackID:      "stop_form",
		PrivateMetadata: `{"channel":"C0OPS"}`,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Which cluster?", false, false), nil, nil),
			slack.NewInputBlock("cluster", plain("Cluster name"), nil,
				slack.NewPlainTextInputBlockElement(plain("staging"), "name").WithInitialValue("staging")),
			slack.NewInputBlock("reason", plain("Reason"), nil, slack.NewPlainTextInputBlockElement(nil, "")).WithOptional(true),
		}},
	}
}

// triggerBot runs a bot that acks everything and hands over the
// trigger_ids of slash commands and clicks.
func triggerBot(t *testing.T, s *slacksim.Server) <-chan string {
	t.Helper()
	triggers := make(chan string, 4)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			_ = c.Ack(*evt.Request)
			triggers <- evt.Data.(slack.SlashCommand).TriggerID
		case socketmode.EventTypeInteractive:
			_ = c.Ack(*evt.Request)
			triggers <- evt.Data.(slack.InteractionCallback).TriggerID
		}
	})
	return triggers
}

func TestViewsOpen(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	events, stop := s.Subscribe()
	defer stop()
	triggers := triggerBot(t, s)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	_, ts, err := api.PostMessage("C0OPS", slack.MsgOptionText("Stop?", false), slack.MsgOptionBlocks(confirmBlocks()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClickButton(ctx, slacksim.Click{UserID: "U0BOB", ChannelID: "C0OPS", MessageTS: ts, ActionID: "stop_confirm"}); err != nil {
		t.Fatal(err)
	}
	trigger := <-triggers

	res, err := api.OpenViewContext(ctx, trigger, stopModal())
	if err != nil {
		t.Fatalf("OpenViewContext: %v", err)
	}
	v := res.View
	if !strings.HasPrefix(v.ID, "V0") || v.Type != slack.VTModal || v.TeamID != "T0FAKE" || v.RootViewID != v.ID || v.PreviousViewID != "" {
		t.Errorf("view id %q type %q team %q root %q previous %q; want a new modal root", v.ID, v.Type, v.TeamID, v.RootViewID, v.PreviousViewID)
	}
	if v.Title == nil || v.Title.Text != "Stop a cluster" || v.Submit == nil || v.Submit.Text != "Stop" || v.Close == nil || v.Close.Text != "Cancel" {
		t.Errorf("title %+v submit %+v close %+v", v.Title, v.Submit, v.Close)
	}
	if v.CallbackID != "stop_form" || v.PrivateMetadata != `{"channel":"C0OPS"}` || v.AppID != "A0FAKE" || v.BotID != "B0BOT" || v.Hash == "" {
		t.Errorf("callback %q metadata %q app %q bot %q hash %q", v.CallbackID, v.PrivateMetadata, v.AppID, v.BotID, v.Hash)
	}
	if v.State == nil || len(v.State.Values) != 0 || len(v.Blocks.BlockSet) != 3 {
		t.Fatalf("state %+v with %d blocks; want empty state and 3 blocks", v.State, len(v.Blocks.BlockSet))
	}
	in, ok := v.Blocks.BlockSet[2].(*slack.InputBlock)
	if !ok || in.Element.(*slack.PlainTextInputBlockElement).ActionID == "" {
		t.Errorf("block 2 = %#v; want an input with a generated action_id", v.Blocks.BlockSet[2])
	}

	views := s.Views("U0BOB")
	if len(views) != 1 || views[0].ID != v.ID || !views[0].Open || views[0].Title != "Stop a cluster" || views[0].CallbackID != "stop_form" {
		t.Fatalf("Views(U0BOB) = %+v; want the open modal", views)
	}
	inputs := views[0].Inputs()
	if len(inputs) != 2 || inputs[0] != (slacksim.Input{BlockID: "cluster", ActionID: "name", Label: "Cluster name", Type: "plain_text_input"}) ||
		inputs[1].BlockID != "reason" || inputs[1].ActionID == "" || !inputs[1].Optional {
		t.Errorf("Inputs() = %+v; want cluster/name and reason with a generated action_id", inputs)
	}
	for seen := false; !seen; {
		select {
		case ev := <-events:
			if ev.Kind == slacksim.EventViewOpened {
				seen = true
				if ev.View.ID != v.ID || ev.View.UserID != "U0BOB" || !ev.View.Open {
					t.Errorf("view-opened event = %+v", ev.View)
				}
			}
		case <-ctx.Done():
			t.Fatal("no view-opened event")
		}
	}

	// A trigger is good for one view.
	_, err = api.OpenViewContext(ctx, trigger, stopModal())
	wantSlackError(t, err, "exchanged_trigger_id")
	_, err = api.OpenViewContext(ctx, "12345.67890.nope", stopModal())
	wantSlackError(t, err, "invalid_trigger_id")
}

func TestViewsOpenInvalidView(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	triggers := triggerBot(t, s)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "stop"}); err != nil {
		t.Fatal(err)
	}
	trigger := <-triggers

	for _, tc := range []struct {
		name   string
		modify func(*slack.ModalViewRequest)
		want   string // in one of response_metadata.messages
	}{
		{"long title", func(m *slack.ModalViewRequest) { m.Title = plain(strings.Repeat("x", 25)) }, "/view/title/text"},
		{"long submit", func(m *slack.ModalViewRequest) { m.Submit = plain(strings.Repeat("x", 25)) }, "/view/submit/text"},
		{"no submit with inputs", func(m *slack.ModalViewRequest) { m.Submit = nil }, "/view/submit"},
		{"long metadata", func(m *slack.ModalViewRequest) { m.PrivateMetadata = strings.Repeat("x", 3001) }, "/view/private_metadata"},
		{"long callback id", func(m *slack.ModalViewRequest) { m.CallbackID = strings.Repeat("x", 256) }, "/view/callback_id"},
		{"input without label", func(m *slack.ModalViewRequest) {
			m.Blocks.BlockSet[1].(*slack.InputBlock).Label = nil
		}, "/view/blocks/1/label"},
		{"too many blocks", func(m *slack.ModalViewRequest) {
			for range 100 {
				m.Blocks.BlockSet = append(m.Blocks.BlockSet, slack.NewDividerBlock())
			}
		}, "/view/blocks]"},
		{"not a modal", func(m *slack.ModalViewRequest) { m.Type = slack.VTHomeTab }, "/view/type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := stopModal()
			tc.modify(&m)
			_, err := api.OpenViewContext(ctx, trigger, m)
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != "invalid_arguments" {
				t.Fatalf("err = %v; want invalid_arguments", err)
			}
			if !strings.Contains(strings.Join(se.ResponseMetadata.Messages, "\n"), tc.want) {
				t.Errorf("messages = %q; want one about %s", se.ResponseMetadata.Messages, tc.want)
			}
		})
	}
	// An invalid view does not use the trigger up.
	if _, err := api.OpenViewContext(ctx, trigger, stopModal()); err != nil {
		t.Errorf("valid view after invalid ones: %v", err)
	}
}

// viewBot acks view submissions by the value typed into cluster/name:
// "bad" gets errors on that input, "wrong-block" errors on a section,
// "update", "push" and "clear" those response actions, anything else a
// bare ack. Every callback is handed over.
func viewBot(t *testing.T, s *slacksim.Server) <-chan slack.InteractionCallback {
	t.Helper()
	got := make(chan slack.InteractionCallback, 8)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			_ = c.Ack(*evt.Request)
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			got <- cb
			if cb.Type != slack.InteractionTypeViewSubmission {
				_ = c.Ack(*evt.Request)
				return
			}
			next := stopModal()
			next.Title = plain("Really stop?")
			switch cb.View.State.Values["cluster"]["name"].Value {
			case "bad":
				_ = c.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"cluster": "No such cluster"}))
			case "wrong-block":
				_ = c.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{cb.View.Blocks.BlockSet[0].ID(): "x"}))
			case "update":
				_ = c.Ack(*evt.Request, slack.NewUpdateViewSubmissionResponse(&next))
			case "push":
				_ = c.Ack(*evt.Request, slack.NewPushViewSubmissionResponse(&next))
			case "clear":
				_ = c.Ack(*evt.Request, slack.NewClearViewSubmissionResponse())
			default:
				_ = c.Ack(*evt.Request)
			}
		}
	})
	return got
}

func TestSubmitView(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	events, stop := s.Subscribe()
	defer stop()
	got := make(chan slack.InteractionCallback, 8)
	triggers := make(chan string, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			_ = c.Ack(*evt.Request)
			triggers <- evt.Data.(slack.SlashCommand).TriggerID
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			got <- cb
			if cb.View.State.Values["cluster"]["name"].Value == "bad" {
				_ = c.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"cluster": "No such cluster"}))
				return
			}
			_ = c.Ack(*evt.Request)
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "stop"}); err != nil {
		t.Fatal(err)
	}
	opened, err := apiClient(s).OpenViewContext(ctx, <-triggers, stopModal())
	if err != nil {
		t.Fatal(err)
	}
	viewID := opened.View.ID
	v, _ := s.View(viewID)
	reason := v.Inputs()[1]

	// Errors keep the view open.
	res, err := s.SubmitView(ctx, slacksim.ViewSubmission{UserID: "U0ALICE", ViewID: viewID,
		Values: map[string]map[string]string{"cluster": {"name": "bad"}, reason.BlockID: {reason.ActionID: "maintenance"}}})
	if err != nil {
		t.Fatalf("SubmitView: %v", err)
	}
	cb := <-got
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.ID != viewID || cb.View.CallbackID != "stop_form" ||
		cb.View.PrivateMetadata != `{"channel":"C0OPS"}` || cb.View.Hash != opened.View.Hash || cb.View.RootViewID != viewID {
		t.Errorf("callback type %q view %+v; want view_submission of %s", cb.Type, cb.View, viewID)
	}
	if cb.User.ID != "U0ALICE" || cb.User.Name != "alice" || cb.User.TeamID != "T0FAKE" || cb.Team.ID != "T0FAKE" ||
		cb.APIAppID != "A0FAKE" || cb.TriggerID == "" || cb.Token == "" || cb.IsEnterpriseInstall {
		t.Errorf("user %+v team %+v app %q trigger %q", cb.User, cb.Team, cb.APIAppID, cb.TriggerID)
	}
	vals := cb.View.State.Values
	if a := vals["cluster"]["name"]; a.Type != "plain_text_input" || a.Value != "bad" {
		t.Errorf("cluster/name = %+v; want the typed plain_text_input", a)
	}
	if a := vals[reason.BlockID][reason.ActionID]; a.Value != "maintenance" {
		t.Errorf("reason = %+v; want maintenance", a)
	}
	if res.Closed || res.ResponseAction != "errors" || res.Errors["cluster"] != "No such cluster" || res.Error != "" || res.Ack.EnvelopeID == "" {
		t.Errorf("result = %+v; want errors on cluster, view open", res)
	}
	v, _ = s.View(viewID)
	if !v.Open || v.Errors["cluster"] != "No such cluster" || v.Values["cluster"]["name"] != "bad" || res.View.ID != viewID {
		t.Errorf("view after errors = %+v; want open with the error", v)
	}

	// A bare ack closes it. The reason typed before is still there.
	res, err = s.SubmitView(ctx, slacksim.ViewSubmission{ViewID: viewID, Values: map[string]map[string]string{"cluster": {"name": "staging"}}})
	if err != nil {
		t.Fatal(err)
	}
	cb = <-got
	if a := cb.View.State.Values[reason.BlockID][reason.ActionID]; a.Value != "maintenance" {
		t.Errorf("reason on resubmission = %+v; want it kept", a)
	}
	if !res.Closed || res.Errors != nil || res.View.ID != "" {
		t.Errorf("result = %+v; want closed", res)
	}
	if v, _ = s.View(viewID); v.Open || v.Errors != nil {
		t.Errorf("view after bare ack = %+v; want closed without errors", v)
	}
	_, err = s.SubmitView(ctx, slacksim.ViewSubmission{ViewID: viewID})
	if !errors.Is(err, slacksim.ErrNoSuchView) {
		t.Errorf("submitting a closed view: err = %v; want ErrNoSuchView", err)
	}
	var kinds []string
	for last := s.LastEventSeq(); ; {
		ev := <-events
		if ev.View.ID == viewID {
			kinds = append(kinds, ev.Kind.String())
		}
		if ev.Seq == last {
			break
		}
	}
	if got := strings.Join(kinds, " "); got != "view-opened view-errors view-closed" {
		t.Errorf("view events = %s; want opened, errors, closed", got)
	}
	_, err = s.SubmitView(ctx, slacksim.ViewSubmission{ViewID: "V0NOPE"})
	if !errors.Is(err, slacksim.ErrNoSuchView) {
		t.Errorf("submitting an unknown view: err = %v; want ErrNoSuchView", err)
	}
}

func TestSubmitViewResponseActions(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	got := viewBot(t, s)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	open := func() string {
		t.Helper()
		if _, err := s.ClickButton(ctx, clickOnConfirm(t, s)); err != nil {
			t.Fatal(err)
		}
		res, err := api.OpenViewContext(ctx, (<-got).TriggerID, stopModal())
		if err != nil {
			t.Fatal(err)
		}
		return res.View.ID
	}
	submit := func(viewID, value string) slacksim.ViewResult {
		t.Helper()
		res, err := s.SubmitView(ctx, slacksim.ViewSubmission{UserID: "U0ALICE", ViewID: viewID, Values: map[string]map[string]string{"cluster": {"name": value}}})
		if err != nil {
			t.Fatalf("SubmitView(%s): %v", value, err)
		}
		<-got
		return res
	}

	// Errors must name input blocks, or Slack rejects the response.
	id := open()
	res := submit(id, "wrong-block")
	if res.Closed || res.Errors != nil || !strings.Contains(res.Error, "not an input block") {
		t.Errorf("errors on a section: %+v; want a rejected response", res)
	}
	if acks := s.Acks(); acks[len(acks)-1].Error != res.Error {
		t.Errorf("ack record error = %q; want %q", acks[len(acks)-1].Error, res.Error)
	}

	// update replaces the view in place.
	before, _ := s.View(id)
	res = submit(id, "update")
	after, _ := s.View(id)
	if res.Closed || res.ResponseAction != "update" || !after.Open || after.Title != "Really stop?" || after.Hash == before.Hash || res.View.Title != "Really stop?" {
		t.Errorf("update: result %+v, view %+v", res, after)
	}

	// push stacks a view; a bare ack on it goes back to the first.
	res = submit(id, "push")
	pushed := res.View
	if res.Closed || pushed.ID == id || pushed.PreviousViewID != id || pushed.RootViewID != id || !pushed.Open {
		t.Fatalf("push: %+v; want a new view on top of %s", res, id)
	}
	if _, err := s.SubmitView(ctx, slacksim.ViewSubmission{ViewID: id, Values: map[string]map[string]string{"cluster": {"name": "x"}}}); !errors.Is(err, slacksim.ErrNoSuchView) {
		t.Errorf("submitting the view under a pushed one: err = %v; want ErrNoSuchView", err)
	}
	res = submit(pushed.ID, "ok")
	if !res.Closed || res.View.ID != id {
		t.Errorf("bare ack on the pushed view: %+v; want back to %s", res, id)
	}

	// clear closes the whole stack.
	res = submit(id, "push")
	res = submit(res.View.ID, "clear")
	if !res.Closed || res.View.ID != "" {
		t.Errorf("clear: %+v", res)
	}
	for _, v := range s.Views("U0ALICE") {
		if v.Open {
			t.Errorf("view %s still open after clear", v.ID)
		}
	}

	// What Slack's client would not let the user submit.
	id = open()
	for name, values := range map[string]map[string]map[string]string{
		"unknown input":  {"nope": {"name": "x"}},
		"required empty": {"cluster": {"name": ""}},
	} {
		if _, err := s.SubmitView(ctx, slacksim.ViewSubmission{ViewID: id, Values: values}); !errors.Is(err, slacksim.ErrInvalidSubmission) {
			t.Errorf("%s: err = %v; want ErrInvalidSubmission", name, err)
		}
	}
	// The initial value counts as typed.
	if res := submit(id, "staging"); !res.Closed {
		t.Errorf("submitting the initial value: %+v; want closed", res)
	}
}

// clickOnConfirm posts the confirmation as the bot and returns alice's
// click on it.
func clickOnConfirm(t *testing.T, s *slacksim.Server) slacksim.Click {
	t.Helper()
	_, ts, err := apiClient(s).PostMessage("C0OPS", slack.MsgOptionText("Stop?", false), slack.MsgOptionBlocks(confirmBlocks()...))
	if err != nil {
		t.Fatal(err)
	}
	return slacksim.Click{UserID: "U0ALICE", ChannelID: "C0OPS", MessageTS: ts, ActionID: "stop_confirm"}
}

func TestCloseView(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	got := viewBot(t, s)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	for _, notify := range []bool{true, false} {
		if _, err := s.ClickButton(ctx, clickOnConfirm(t, s)); err != nil {
			t.Fatal(err)
		}
		m := stopModal()
		m.NotifyOnClose = notify
		res, err := api.OpenViewContext(ctx, (<-got).TriggerID, m)
		if err != nil {
			t.Fatal(err)
		}
		nAcks := len(s.Acks())
		ack, err := s.CloseView(ctx, "U0ALICE", res.View.ID)
		if err != nil {
			t.Fatalf("CloseView (notify %v): %v", notify, err)
		}
		if v, _ := s.View(res.View.ID); v.Open {
			t.Errorf("view still open after CloseView")
		}
		if !notify {
			if ack.EnvelopeID != "" || len(s.Acks()) != nAcks {
				t.Errorf("CloseView without notify_on_close sent an envelope: %+v", ack)
			}
			continue
		}
		cb := <-got
		if cb.Type != slack.InteractionTypeViewClosed || cb.View.ID != res.View.ID || cb.IsCleared || cb.User.ID != "U0ALICE" || ack.EnvelopeID == "" {
			t.Errorf("view_closed callback type %q view %s cleared %v; ack %+v", cb.Type, cb.View.ID, cb.IsCleared, ack)
		}
		if _, err := s.CloseView(ctx, "U0ALICE", res.View.ID); !errors.Is(err, slacksim.ErrNoSuchView) {
			t.Errorf("closing twice: err = %v; want ErrNoSuchView", err)
		}
	}
}

func TestGetPermalink(t *testing.T) {
	s := newServer(t, slacksim.WithTeam("T0ACME", "Acme Corp"))
	api := apiClient(s)
	_, parent, err := api.PostMessage("C0OPS", slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessage("C0OPS", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	link, err := api.GetPermalink(&slack.PermalinkParameters{Channel: "C0OPS", Ts: parent})
	if want := "https://acme-corp.slack.com/archives/C0OPS/p" + strings.ReplaceAll(parent, ".", ""); err != nil || link != want {
		t.Errorf("permalink = %q, %v; want %q", link, err, want)
	}
	link, err = api.GetPermalink(&slack.PermalinkParameters{Channel: "C0OPS", Ts: reply})
	want := "https://acme-corp.slack.com/archives/C0OPS/p" + strings.ReplaceAll(reply, ".", "") + "?thread_ts=" + parent + "&cid=C0OPS"
	if err != nil || link != want {
		t.Errorf("reply permalink = %q, %v; want %q", link, err, want)
	}
	_, err = api.GetPermalink(&slack.PermalinkParameters{Channel: "C0OPS", Ts: "1.000001"})
	wantSlackError(t, err, "message_not_found")
	_, err = api.GetPermalink(&slack.PermalinkParameters{Channel: "C0NOPE", Ts: parent})
	wantSlackError(t, err, "channel_not_found")
}

func TestUsergroupMembers(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	api := apiClient(s)
	s.AddUsergroup("S0OPS", "ops-team", "U0ALICE", "U0BOB")
	users, err := api.GetUserGroupMembersContext(ctx, "S0OPS", slack.GetUserGroupMembersOptionIncludeDisabled(true))
	if err != nil || strings.Join(users, ",") != "U0ALICE,U0BOB" {
		t.Errorf("members = %v, %v; want alice and bob", users, err)
	}
	s.SetUsergroupMembers("S0OPS", "U0BOB")
	if users, err = api.GetUserGroupMembersContext(ctx, "S0OPS"); err != nil || strings.Join(users, ",") != "U0BOB" {
		t.Errorf("members after SetUsergroupMembers = %v, %v; want bob", users, err)
	}
	s.SetUsergroupMembers("S0OPS")
	if users, err = api.GetUserGroupMembersContext(ctx, "S0OPS"); err != nil || users == nil || len(users) != 0 {
		t.Errorf("members of an empty group = %#v, %v; want an empty list", users, err)
	}
	_, err = api.GetUserGroupMembersContext(ctx, "S0NOPE")
	wantSlackError(t, err, "no_such_subteam")
}

func TestScopes(t *testing.T) {
	var (
		mu      sync.Mutex
		headers = map[string]string{}
	)
	client := func(s *slacksim.Server) *slack.Client {
		return slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()),
			slack.OptionOnResponseHeaders(func(path string, h http.Header) {
				mu.Lock()
				defer mu.Unlock()
				headers[path] = h.Get("X-OAuth-Scopes")
			}))
	}

	s := newServer(t)
	if _, err := client(s).AuthTest(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if got, want := headers["auth.test"], "commands,chat:write,chat:write.public,users:read,usergroups:read,channels:history,groups:history"; got != want {
		t.Errorf("default X-OAuth-Scopes = %q; want %q", got, want)
	}
	mu.Unlock()

	s = newServer(t, slacksim.WithBotScopes("commands"))
	api := client(s)
	_, _, err := api.PostMessage("C0OPS", slack.MsgOptionText("x", false))
	wantSlackError(t, err, "missing_scope")
	_, err = api.PostEphemeral("C0OPS", "U0ALICE", slack.MsgOptionText("x", false))
	wantSlackError(t, err, "missing_scope")
	_, err = api.GetUserInfo("U0ALICE")
	wantSlackError(t, err, "missing_scope")
	_, err = api.GetUserGroupMembers("S0NOPE")
	wantSlackError(t, err, "missing_scope")
	// slack-go's PostMessage does not report headers; GetUserInfo does.
	mu.Lock()
	if got := headers["users.info"]; got != "commands" {
		t.Errorf("X-OAuth-Scopes on a failure = %q; want commands", got)
	}
	mu.Unlock()
	// chat.getPermalink needs no scope: the answer is about the message.
	_, err = api.GetPermalink(&slack.PermalinkParameters{Channel: "C0OPS", Ts: "1.000001"})
	wantSlackError(t, err, "message_not_found")

	// The body names the scope, as Slack's does.
	resp, err := http.PostForm(s.APIURL()+"chat.update", url.Values{"token": {s.BotToken()}, "channel": {"C0OPS"}, "ts": {"1.1"}, "text": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error, Needed, Provided string
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error != "missing_scope" || body.Needed != "chat:write" || body.Provided != "commands" {
		t.Errorf("chat.update body = %+v; want missing_scope needing chat:write", body)
	}
	if got := resp.Header.Get("X-Accepted-OAuth-Scopes"); got != "chat:write" {
		t.Errorf("X-Accepted-OAuth-Scopes = %q; want chat:write", got)
	}
}

func TestVariants(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	type delivery struct {
		raw  map[string]json.RawMessage
		data any
	}
	got := make(chan delivery, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Request == nil || evt.Request.EnvelopeID == "" {
			return
		}
		_ = c.Ack(*evt.Request)
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(evt.Request.Payload, &raw); err != nil {
			t.Errorf("payload: %v", err)
		}
		got <- delivery{raw, evt.Data}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	_, ts, err := apiClient(s).PostMessage("C0OPS", slack.MsgOptionText("Stop?", false), slack.MsgOptionBlocks(confirmBlocks()...))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		v                 slacksim.Variant
		slashInstall      string // raw JSON, "" for absent
		clickInstall      string
		enterprise        bool
		clickEnterpriseID string
	}{
		{slacksim.VariantDefault, `"false"`, `false`, false, ""},
		{slacksim.VariantEnterpriseInstallBool, `false`, `false`, false, ""},
		{slacksim.VariantEnterpriseInstallString, `"false"`, `false`, false, ""},
		{slacksim.VariantEnterpriseInstallMissing, ``, ``, false, ""},
		{slacksim.VariantEnterpriseGrid, `"false"`, `false`, true, "E0FAKE"},
	} {
		t.Run(tc.v.String(), func(t *testing.T) {
			if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "status", Variant: tc.v}); err != nil {
				t.Fatal(err)
			}
			d := <-got
			cmd, ok := d.data.(slack.SlashCommand)
			if !ok {
				t.Fatalf("slash command decoded as %T", d.data)
			}
			if got := string(d.raw["is_enterprise_install"]); got != tc.slashInstall {
				t.Errorf("slash is_enterprise_install = %s; want %s", got, tc.slashInstall)
			}
			if cmd.IsEnterpriseInstall || cmd.UserID != "U0ALICE" || cmd.TeamID != "T0FAKE" {
				t.Errorf("slash command = %+v", cmd)
			}
			if tc.enterprise != (cmd.EnterpriseID == "E0FAKE" && cmd.EnterpriseName == "Fake Enterprise") {
				t.Errorf("slash enterprise = %q %q; want it only in Enterprise Grid", cmd.EnterpriseID, cmd.EnterpriseName)
			}

			if _, err := s.ClickButton(ctx, slacksim.Click{UserID: "U0BOB", ChannelID: "C0OPS", MessageTS: ts, ActionID: "stop_cancel", Variant: tc.v}); err != nil {
				t.Fatal(err)
			}
			d = <-got
			cb, ok := d.data.(slack.InteractionCallback)
			if !ok {
				t.Fatalf("click decoded as %T", d.data)
			}
			if got := string(d.raw["is_enterprise_install"]); got != tc.clickInstall {
				t.Errorf("click is_enterprise_install = %s; want %s", got, tc.clickInstall)
			}
			if cb.Type != slack.InteractionTypeBlockActions || cb.IsEnterpriseInstall || cb.User.TeamID != "T0FAKE" || cb.Team.ID != "T0FAKE" {
				t.Errorf("click type %q install %v user team %q team %q", cb.Type, cb.IsEnterpriseInstall, cb.User.TeamID, cb.Team.ID)
			}
			if cb.Enterprise.ID != tc.clickEnterpriseID || cb.Team.EnterpriseID != tc.clickEnterpriseID {
				t.Errorf("click enterprise %+v, team enterprise %q; want %q", cb.Enterprise, cb.Team.EnterpriseID, tc.clickEnterpriseID)
			}
			if !tc.enterprise && string(d.raw["enterprise"]) != "null" {
				t.Errorf("click enterprise = %s; want null", d.raw["enterprise"])
			}
		})
	}
}
