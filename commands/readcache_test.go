package commands

import (
	"errors"
	"strings"
	"testing"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func TestStatusIsCachedUntilTheBotActs(t *testing.T) {
	f := newFixture(t)
	status := func(user string) string {
		t.Helper()
		reply, err := f.handle(t, tRequest{UserID: user, Text: "status staging"})
		if err != nil {
			t.Fatalf("status staging: %v", err)
		}
		return reply.Text
	}
	f.q.script(qovery.StateDeployed, qovery.StateDeploying)
	if got := status("U1"); !strings.Contains(got, "`DEPLOYED`") {
		t.Fatalf("status = %q", got)
	}
	if got := status("U2"); !strings.Contains(got, "`DEPLOYED`") {
		t.Errorf("status within the TTL = %q; want the cached DEPLOYED", got)
	}
	f.clock.Advance(DefaultReadCacheTTL)
	if got := status("U2"); !strings.Contains(got, "`DEPLOYING`") {
		t.Errorf("status after the TTL = %q; want Qovery's DEPLOYING", got)
	}

	// A request and its confirmation read Qovery, never the cache.
	f.q.script(qovery.StateStopped)
	reply, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "stop staging"})
	if err != nil || reply.Confirm != nil || !strings.Contains(reply.Text, "`STOPPED`") {
		t.Fatalf("stop of a cluster Qovery says is stopped (the cache says DEPLOYING) = %+v, %v; want a refusal", reply, err)
	}
	f.q.script(qovery.StateDeployed)
	f.clock.Advance(DefaultReadCacheTTL)
	status("U2") // caches DEPLOYED
	op := f.requestStop(t, "staging")
	f.q.script(qovery.StateDeployed, qovery.StateStopQueued)
	if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	// The stop call forgot the cached DEPLOYED.
	if got := status("U2"); !strings.Contains(got, "`STOP_QUEUED`") {
		t.Errorf("status right after the stop call = %q; want STOP_QUEUED read from Qovery", got)
	}
}

func TestReadOnlyVerbsAreThrottledPerUser(t *testing.T) {
	f := newFixture(t)
	list := func(user string) error {
		_, err := f.handle(t, tRequest{UserID: user, Text: "list"})
		return err
	}
	for i := range DefaultReadBurst {
		if err := list("U1"); err != nil {
			t.Fatalf("list #%d: %v", i+1, err)
		}
	}
	err := list("U1")
	var te *ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("list #%d = %v; want a *ThrottledError", DefaultReadBurst+1, err)
	}
	if msg, expected := userText(err); !expected || msg != "You are asking quickly; try again in a few seconds." {
		t.Errorf("UserMessage(throttled) = %q, %v", msg, expected)
	}
	if _, err := f.handle(t, tRequest{UserID: "U1", Text: "status staging"}); !errors.As(err, &te) {
		t.Errorf("status while throttled = %v; want a *ThrottledError", err)
	}
	if err := list("U2"); err != nil {
		t.Errorf("another user's list = %v; want it answered", err)
	}
	f.clock.Advance(DefaultReadEvery)
	if err := list("U1"); err != nil {
		t.Errorf("list %s later = %v; want it answered", DefaultReadEvery, err)
	}
	if err := list("U1"); !errors.As(err, &te) {
		t.Errorf("a second list in the same %s = %v; want a *ThrottledError", DefaultReadEvery, err)
	}
	if _, err := f.handle(t, tRequest{UserID: "U1", Text: "help"}); err != nil {
		t.Errorf("help while throttled = %v; want it answered", err)
	}
}
