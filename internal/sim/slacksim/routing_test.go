package slacksim_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// A routed envelope is one a bot received, with the socket it was on as the
// bot learnt it from its latest hello.
type routed struct {
	envelopeID string
	socket     int
}

// runSocketBots runs n slack-go bots against s, each standing for one
// replica, and waits until all are connected. Every bot acks slash commands
// and reports them with the socket it received them on.
func runSocketBots(t *testing.T, ctx context.Context, s *slacksim.Server, n int) <-chan routed {
	t.Helper()
	got := make(chan routed, 100)
	for range n {
		socket := 0 // only touched by this bot's event loop
		runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
			switch evt.Type {
			case socketmode.EventTypeHello:
				host := evt.Request.DebugInfo.Host
				id, err := strconv.Atoi(strings.TrimPrefix(host, "applink-fake-"))
				if err != nil {
					t.Errorf("hello host %q does not name a socket: %v", host, err)
				}
				socket = id
			case socketmode.EventTypeSlashCommand:
				_ = c.Ack(*evt.Request)
				got <- routed{evt.Request.EnvelopeID, socket}
			}
		})
	}
	if err := s.WaitFor(ctx, func() bool { return s.Connections() == n }); err != nil {
		t.Fatal(err)
	}
	return got
}

// sendSlashCommands sends n slash commands one after the other and returns
// the socket each went to, checking that Ack.Socket is the socket of the
// bot that received and acked the envelope.
func sendSlashCommands(t *testing.T, ctx context.Context, s *slacksim.Server, got <-chan routed, n int) []int {
	t.Helper()
	var sockets []int
	for i := range n {
		ack, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS", Text: "status " + strconv.Itoa(i)})
		if err != nil {
			t.Fatalf("SlashCommand %d: %v", i, err)
		}
		r := <-got
		if r.envelopeID != ack.EnvelopeID || r.socket != ack.Socket || ack.Socket == 0 {
			t.Fatalf("SlashCommand %d: ack %s on socket %d; the bot on socket %d acked %s", i, ack.EnvelopeID, ack.Socket, r.socket, r.envelopeID)
		}
		sockets = append(sockets, ack.Socket)
	}
	return sockets
}

// wantAckRecordSockets checks that the ack records, in order, name the
// sockets the acks named.
func wantAckRecordSockets(t *testing.T, s *slacksim.Server, sockets []int) {
	t.Helper()
	var recorded []int
	for _, a := range s.Acks() {
		recorded = append(recorded, a.Socket)
	}
	if !slices.Equal(recorded, sockets) {
		t.Errorf("AckRecord sockets = %v; want %v", recorded, sockets)
	}
}

func TestRoundRobinByDefault(t *testing.T) {
	s := newServer(t)
	ctx := testContext(t)
	got := runSocketBots(t, ctx, s, 3)
	live := s.Sockets()
	if len(live) != 3 || !slices.IsSorted(live) || slices.Contains(live, 0) {
		t.Fatalf("Sockets() = %v; want 3 ascending ids", live)
	}
	sockets := sendSlashCommands(t, ctx, s, got, 6)
	if want := slices.Concat(live, live); !slices.Equal(sockets, want) {
		t.Errorf("envelopes went to sockets %v; want round robin %v", sockets, want)
	}
	wantAckRecordSockets(t, s, sockets)
}

func TestRandomRouting(t *testing.T) {
	// route connects three replicas to a fresh server and returns, for 60
	// envelopes, the position in Sockets() of the socket each went to.
	route := func(t *testing.T, opts ...slacksim.Option) []int {
		s := newServer(t, opts...)
		ctx := testContext(t)
		got := runSocketBots(t, ctx, s, 3)
		live := s.Sockets()
		sockets := sendSlashCommands(t, ctx, s, got, 60)
		wantAckRecordSockets(t, s, sockets)
		counts := map[int]int{}
		var picks []int
		for _, id := range sockets {
			counts[id]++
			picks = append(picks, slices.Index(live, id))
		}
		for _, id := range live {
			if counts[id] == 0 {
				t.Errorf("socket %d got none of 60 envelopes (counts %v)", id, counts)
			}
		}
		if len(counts) != len(live) {
			t.Errorf("envelopes went to sockets %v; want only the live %v", counts, live)
		}
		return picks
	}
	first := route(t, slacksim.WithRandomRouting(42))
	roundRobin := make([]int, 60)
	for i := range roundRobin {
		roundRobin[i] = i % 3
	}
	if slices.Equal(first, roundRobin) {
		t.Errorf("random routing went round robin: %v", first)
	}
	if again := route(t, slacksim.WithRandomRouting(42)); !slices.Equal(again, first) {
		t.Errorf("same seed routed\n%v\nthen\n%v; want the same sequence", first, again)
	}
	if other := route(t, slacksim.WithRandomRouting(7)); slices.Equal(other, first) {
		t.Errorf("seeds 42 and 7 both routed %v", first)
	}
}

func TestSocketsExcludesDraining(t *testing.T) {
	s := newServer(t)
	if ids := s.Sockets(); ids == nil || len(ids) != 0 {
		t.Errorf("Sockets() with no connection = %#v; want empty", ids)
	}
	ctx := testContext(t)
	runSocketBots(t, ctx, s, 2)
	before := s.Sockets()
	s.Disconnect("refresh_requested")
	// The bots reconnect on new sockets, and the old ones are gone.
	err := s.WaitFor(ctx, func() bool {
		ids := s.Sockets()
		return len(ids) == 2 && !slices.Contains(ids, before[0]) && !slices.Contains(ids, before[1])
	})
	if err != nil {
		t.Fatalf("Sockets() = %v, before disconnect %v: %v", s.Sockets(), before, err)
	}
}

// Timed-out and late acks name the socket the envelope was sent on too.
func TestAckSocketOnTimeout(t *testing.T) {
	s := newServer(t, slacksim.WithAckTimeout(50*time.Millisecond))
	ctx := testContext(t)
	type held struct {
		c   *socketmode.Client
		req socketmode.Request
	}
	unacked := make(chan held, 1)
	runBot(t, s, s.AppToken(), func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			unacked <- held{c, *evt.Request}
		}
	})
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	live := s.Sockets()
	if len(live) != 1 {
		t.Fatalf("Sockets() = %v; want one", live)
	}
	if _, err := s.SlashCommand(ctx, slacksim.SlashCommand{UserID: "U0ALICE", ChannelID: "C0OPS"}); err == nil {
		t.Fatal("SlashCommand without an ack succeeded")
	}
	h := <-unacked
	if err := h.c.Ack(h.req); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(ctx, func() bool { return len(s.Acks()) == 2 }); err != nil {
		t.Fatal(err)
	}
	acks := s.Acks()
	if !acks[0].TimedOut || acks[0].Socket != live[0] || !acks[1].Late || acks[1].Socket != live[0] {
		t.Errorf("Acks() = %+v; want a timeout and a late ack on socket %d", acks, live[0])
	}
}
