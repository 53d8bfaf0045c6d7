package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore/pgtest"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Several replicas of the real program on one Slack app and one PostgreSQL database: the fake Slack
// hands each envelope to a random one of their sockets, as Slack does. Each test asserts exactly one
// stop call per request, every thread message exactly once and in order, and one organization-wide
// status request per poll interval for the whole fleet. They need QOVERY_BOT_TEST_DATABASE_URL
// (.ci/run starts a server) and skip without it.

// fleetPoll is the replicas' poll interval: short, so that the tests are quick, and long enough for
// the fleet's request rate to be measured against it.
const fleetPoll = 50 * time.Millisecond

// netSwitch is one replica's network. Killing it closes every connection the replica made (Slack's
// socket and Web API, Qovery, the database) and refuses new ones, as the death of its process would:
// nothing more leaves it, not even a lease handed back.
type netSwitch struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

var errKilled = errors.New("replica killed")

func (n *netSwitch) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dead {
		return nil, errKilled
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err == nil {
		n.conns = append(n.conns, c)
	}
	return c, err
}

func (n *netSwitch) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dead = true
	for _, c := range n.conns {
		_ = c.Close()
	}
}

// replica is one running copy of the program.
type replica struct {
	name string
	logs *syncBuffer
	net  *netSwitch
	// health is the address of its /healthz, /readyz and /metrics.
	health string
	stop   context.CancelFunc
	done   chan struct{}
	err    error // serve's result, once done is closed
}

// shutdown stops the replica as Kubernetes does (SIGTERM) and returns what serve returned.
func (r *replica) shutdown(t *testing.T) error {
	t.Helper()
	r.stop()
	select {
	case <-r.done:
		return r.err
	case <-time.After(15 * time.Second):
		t.Fatalf("replica %s did not exit within 15 s of its shutdown", r.name)
		return nil
	}
}

// fleet is the replicas and the fakes they share.
type fleet struct {
	t        *testing.T
	slack    *slacksim.Server
	qovery   *qoverysim.Server
	org      uuid.UUID
	clusters []uuid.UUID
	names    []string
	vars     map[string]string
	started  int
}

// startFleet starts n replicas sharing a fresh database, with leases lasting leaseTimeout.
// stableLeases is the lease timeout of the fleet tests in which no replica dies.
const stableLeases = 5 * time.Second

func startFleet(t *testing.T, n int, leaseTimeout time.Duration) (*fleet, []*replica) {
	t.Helper()
	db := pgtest.Database(t)
	q := qoverysim.NewServer(t)
	org := q.AddOrganization("Acme")
	f := &fleet{t: t, qovery: q, org: org}
	for i := range 6 {
		name := fmt.Sprintf("staging-%d", i+1)
		// Each stop holds at STOPPING until the test says the cluster stopped.
		f.clusters = append(f.clusters, q.AddCluster(org, qoverysim.ClusterSpec{Name: name, StopScript: []qovery.State{qovery.StateStopping}}))
		f.names = append(f.names, name)
	}
	f.slack = slacksim.NewServer(slacksim.WithAppToken(appTok), slacksim.WithBotToken(botTok),
		slacksim.WithPingInterval(time.Second), slacksim.WithRandomRouting(7))
	t.Cleanup(f.slack.Close)
	f.vars = map[string]string{
		"SLACK_APP_TOKEN":          appTok,
		"SLACK_BOT_TOKEN":          botTok,
		"SLACK_API_URL":            f.slack.APIURL(),
		"QOVERY_API_TOKEN":         q.Token(),
		"QOVERY_API_URL":           q.URL(),
		"QOVERY_BOT_POLL_INTERVAL": fleetPoll.String(),
		"QOVERY_BOT_DATABASE_URL":  db,
		"QOVERY_BOT_LEASE_TIMEOUT": leaseTimeout.String(),
		"QOVERY_BOT_HTTP_ADDR":     "off",
		"QOVERY_BOT_ALLOWED_USERS": alice + "," + bob,
		"LOG_LEVEL":                "debug",
	}
	replicas := make([]*replica, n)
	for i := range replicas {
		replicas[i] = f.start()
	}
	return f, replicas
}

// start starts one more replica and waits until Slack sees its socket.
func (f *fleet) start() *replica {
	t := f.t
	t.Helper()
	f.started++
	r := &replica{name: fmt.Sprintf("replica-%d", f.started), logs: &syncBuffer{}, net: &netSwitch{}, done: make(chan struct{})}
	// Socket ids grow: the replica's socket is one above every socket open now.
	newest := func() int { return slices.Max(append(f.slack.Sockets(), 0)) }
	before := newest()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.health = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		defer close(r.done)
		r.err = serve(ctx, env(f.vars), r.logs, func(o *appOptions) {
			o.noPacing, o.dial, o.healthListener = true, r.net.dial, ln
			o.scheduleTick = scheduleTick
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
		if t.Failed() {
			t.Logf("log of %s (serve: %v):\n%s", r.name, r.err, infoLines(r.logs.String()))
		}
		for _, secret := range []string{appTok, botTok, f.qovery.Token()} {
			if strings.Contains(r.logs.String(), secret) {
				t.Errorf("%s's log contains a token", r.name)
			}
		}
	})
	wctx, wcancel := context.WithTimeout(t.Context(), waitFor)
	defer wcancel()
	if err := r.logs.waitFor(wctx, `"message":"connected to Slack"`); err != nil {
		t.Fatalf("%s did not connect: %v (serve: %v)\n%s", r.name, err, r.err, r.logs.String())
	}
	if err := f.slack.WaitFor(wctx, func() bool { return newest() > before }); err != nil {
		t.Fatalf("%s: the fake Slack saw no new socket: %v", r.name, err)
	}
	return r
}

// infoLines keeps the lines of a log above debug level, to read after a failure.
func infoLines(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, `"level":"debug"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// get fetches one of the replica's health endpoints.
func (r *replica) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.health + path)
	if err != nil {
		t.Fatalf("GET %s of %s: %v", path, r.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricsSay checks that the replica's /metrics contains every line of want.
func (r *replica) metricsSay(t *testing.T, want ...string) {
	t.Helper()
	_, body := r.get(t, "/metrics")
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s's /metrics lacks %s", r.name, w)
		}
	}
}

// metric returns the value of one series of the replica's /metrics, 0 when absent.
func (r *replica) metric(t *testing.T, series string) float64 {
	t.Helper()
	_, body := r.get(t, "/metrics")
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	return 0
}

func (f *fleet) ctx() context.Context {
	ctx, cancel := context.WithTimeout(f.t.Context(), waitFor)
	f.t.Cleanup(cancel)
	return ctx
}

// watcher waits until one of rs says it watches the organization, and returns it.
func (f *fleet) watcher(rs ...*replica) *replica {
	f.t.Helper()
	const says = "this replica now watches the organization"
	var got *replica
	ctx := f.ctx()
	for got == nil {
		for _, r := range rs {
			if strings.Contains(r.logs.String(), says) {
				got = r
			}
		}
		if got == nil {
			select {
			case <-ctx.Done():
				f.t.Fatalf("no replica took the organization's watch lease")
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return got
}

// request runs `/qovery stop <cluster i>` and returns the confirmation message and the socket the
// command went to.
func (f *fleet) request(i int) (slacksim.Message, int) {
	f.t.Helper()
	ack, err := f.slack.SlashCommand(f.ctx(), slacksim.SlashCommand{UserID: alice, ChannelID: ops, Command: "/qovery", Text: "stop " + f.names[i]})
	if err != nil {
		f.t.Fatalf("/qovery stop %s: %v", f.names[i], err)
	}
	var msg slacksim.Message
	want := "Stop cluster *" + f.names[i] + "*?"
	err = f.slack.WaitFor(f.ctx(), func() bool {
		for _, m := range f.slack.Messages(ops) {
			if (m.ThreadTS == "" || m.ThreadTS == m.TS) && strings.Contains(m.PlainText(), want) {
				msg = m
				return true
			}
		}
		return false
	})
	if err != nil {
		f.t.Fatalf("no confirmation for %s: %v", f.names[i], err)
	}
	return msg, ack.Socket
}

// confirm clicks Stop as user and returns the socket the click went to.
func (f *fleet) confirm(user string, msg slacksim.Message) int {
	f.t.Helper()
	ack, err := f.slack.ClickButton(f.ctx(), slacksim.Click{UserID: user, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm})
	if err != nil {
		f.t.Fatalf("click: %v", err)
	}
	return ack.Socket
}

// waitParent waits until the parent message says want.
func (f *fleet) waitParent(msg slacksim.Message, want string) {
	f.t.Helper()
	var cur slacksim.Message
	if err := f.slack.WaitFor(f.ctx(), func() bool {
		cur, _ = f.slack.Message(ops, msg.TS)
		return strings.Contains(cur.PlainText(), want)
	}); err != nil {
		f.t.Fatalf("the parent never said %q; it says %q", want, cur.PlainText())
	}
}

// finish lets cluster i reach STOPPED and checks the whole thread: each message once, in order,
// and one stop call.
func (f *fleet) finish(i int, msg slacksim.Message) {
	f.t.Helper()
	f.qovery.SetStatus(f.clusters[i], qovery.StateStopped)
	f.waitParent(msg, "is `STOPPED`")
	if err := f.slack.WaitFor(f.ctx(), func() bool { return len(f.slack.Replies(ops, msg.TS)) >= 3 }); err != nil {
		f.t.Fatalf("thread of %s incomplete: %v", f.names[i], err)
	}
	var replies []string
	for _, r := range f.slack.Replies(ops, msg.TS) {
		replies = append(replies, r.PlainText())
	}
	want := []string{":inbox_tray: Qovery accepted the stop · `STOP_QUEUED`", ":gear: `STOPPING` · ", ":white_check_mark: `STOPPED` after "}
	if len(replies) != len(want) {
		f.t.Fatalf("thread of %s = %q; want %d replies, each once", f.names[i], replies, len(want))
	}
	for j := range want {
		if !strings.HasPrefix(replies[j], want[j]) {
			f.t.Errorf("thread of %s, reply %d = %q; want prefix %q", f.names[i], j, replies[j], want[j])
		}
	}
	if n := f.qovery.CountRequests("POST", fmt.Sprintf("/organization/%s/cluster/%s/stop", f.org, f.clusters[i])); n != 1 {
		f.t.Errorf("stop calls for %s = %d; want exactly 1", f.names[i], n)
	}
}

// onePoller checks that the whole fleet sends one organization-wide status request per poll
// interval while something is watched: 20 requests must span at least 15 intervals (one poller
// needs 19 at least; two would need about 10).
func (f *fleet) onePoller() {
	f.t.Helper()
	path := fmt.Sprintf("/organization/%s/cluster/status", f.org)
	n0 := f.qovery.CountRequests("GET", path)
	start := time.Now()
	const more = 20
	ctx := f.ctx()
	for f.qovery.CountRequests("GET", path) < n0+more {
		select {
		case <-ctx.Done():
			f.t.Fatalf("the fleet stopped polling: %d organization-wide requests", f.qovery.CountRequests("GET", path)-n0)
		case <-time.After(5 * time.Millisecond):
		}
	}
	f.t.Logf("the fleet sent %d organization-wide status requests in %v (interval %v)", more, time.Since(start).Round(time.Millisecond), fleetPoll)
	if elapsed := time.Since(start); elapsed < 15*fleetPoll {
		f.t.Errorf("%d organization-wide status requests in %v: more than one per %v interval for the fleet", more, elapsed, fleetPoll)
	}
	if n := f.qovery.CountRequests("GET", fmt.Sprintf("/organization/%s/cluster/%s/status", f.org, f.clusters[0])); n > 2 {
		f.t.Errorf("per-cluster status reads = %d; the fleet should only read the organization-wide list while watching", n)
	}
}

// TestReplicasShareTheWorkEndToEnd: commands and clicks land on random replicas, so stops are
// accepted by different replicas; one replica watches them all, with one status request per interval
// for the fleet, and every request is carried through once.
func TestReplicasShareTheWorkEndToEnd(t *testing.T) {
	// No replica dies here: a lease long enough that a replica stalled by a loaded machine (the
	// whole test suite on two cores) keeps its work, which a takeover would rightly void.
	f, rs := startFleet(t, 3, stableLeases)
	f.watcher(rs...)
	elsewhere := false
	clickSockets := map[int]bool{}
	msgs := make([]slacksim.Message, 4)
	for i := range msgs {
		var cmdSocket int
		msgs[i], cmdSocket = f.request(i)
		clickSocket := f.confirm(alice, msgs[i])
		elsewhere = elsewhere || clickSocket != cmdSocket
		clickSockets[clickSocket] = true
	}
	if !elsewhere || len(clickSockets) < 2 {
		t.Fatalf("clicks went to sockets %v, each beside its command: %v; the test did not exercise replicas sharing the work", clickSockets, !elsewhere)
	}
	for _, msg := range msgs {
		f.waitParent(msg, "`STOPPING`")
	}
	f.onePoller() // four stops accepted by different replicas, watched together
	for i, msg := range msgs {
		f.finish(i, msg)
	}
	for _, r := range rs {
		if err := r.shutdown(t); err != nil {
			t.Errorf("%s exited with %v", r.name, err)
		}
	}
}

// TestReplicasDoubleClickSplitEndToEnd: two people click Stop at once and the clicks reach two
// replicas: one stop call, one winner, and the other click is told.
func TestReplicasDoubleClickSplitEndToEnd(t *testing.T) {
	f, rs := startFleet(t, 3, stableLeases)
	f.watcher(rs...)
	split := false
	for i := 0; i < len(f.names) && !split; i++ {
		msg, _ := f.request(i)
		acks, errs := f.slack.ClickButtons(f.ctx(),
			slacksim.Click{UserID: alice, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm},
			slacksim.Click{UserID: bob, ChannelID: ops, MessageTS: msg.TS, ActionID: commands.ActionConfirm})
		for _, err := range errs {
			if err != nil {
				t.Fatalf("click: %v", err)
			}
		}
		split = acks[0].Socket != acks[1].Socket
		f.waitParent(msg, "`STOPPING`")
		if split {
			f.onePoller()
		}
		f.finish(i, msg)
		final, _ := f.slack.Message(ops, msg.TS)
		loser := alice
		if strings.Contains(final.PlainText(), "confirmed by <@U0ALICE>") {
			loser = bob
		}
		ctx := f.ctx()
		if err := f.slack.WaitFor(ctx, func() bool { return len(f.slack.Ephemerals(loser)) > 0 }); err != nil {
			t.Fatalf("the losing click was not answered: %v", err)
		}
		eph := f.slack.Ephemerals(loser)
		if got := eph[len(eph)-1].PlainText(); !strings.Contains(got, "Already confirmed by <@") {
			t.Errorf("the losing click was told %q", got)
		}
	}
	if !split {
		t.Fatal("no double click was split across two replicas; the test did not exercise it")
	}
}

// TestReplicaKilledMidWatchEndToEnd kills the replica that watches, without any shutdown, while a
// stop is under way: another replica takes the watch over within the lease timeout and the thread
// goes on where it was, nothing lost, nothing repeated.
func TestReplicaKilledMidWatchEndToEnd(t *testing.T) {
	const leaseTimeout = time.Second
	f, rs := startFleet(t, 3, leaseTimeout)
	w := f.watcher(rs...)
	msg, _ := f.request(0)
	f.confirm(alice, msg)
	f.waitParent(msg, "`STOPPING`")
	if err := f.slack.WaitFor(f.ctx(), func() bool { return len(f.slack.Replies(ops, msg.TS)) == 2 }); err != nil {
		t.Fatal(err)
	}

	killed := time.Now()
	w.net.kill()
	var rest []*replica
	for _, r := range rs {
		if r != w {
			rest = append(rest, r)
		}
	}
	next := f.watcher(rest...)
	t.Logf("%s took the watch over %v after %s was killed (lease timeout %v)", next.name, time.Since(killed).Round(time.Millisecond), w.name, leaseTimeout)
	wctx := f.ctx()
	if err := next.logs.waitFor(wctx, `"message":"watching an adopted operation"`); err != nil {
		t.Fatalf("%s did not adopt the watch: %v", next.name, err)
	}
	f.onePoller()
	if code, body := next.get(t, "/readyz"); code != 200 || !strings.Contains(body, "database: ok") {
		t.Errorf("/readyz of %s = %d %q; want ready, with the database", next.name, code, body)
	}
	// Taken over from a replica that never handed them back: the watch by the new watcher; the
	// operation by whichever survivor got to it first (one may settle its cut-short reply, then hand
	// it to the watcher).
	next.metricsSay(t, `qovery_bot_leases_held{kind="watch"} 1`, `qovery_bot_leases_held{kind="operation"} 1`,
		`qovery_bot_lease_takeovers_total{kind="watch"} 1`)
	var tookOps float64
	for _, r := range rest {
		tookOps += r.metric(t, `qovery_bot_lease_takeovers_total{kind="operation"}`)
	}
	if tookOps != 1 {
		t.Errorf("operation leases taken over by the survivors = %v; want 1", tookOps)
	}
	f.finish(0, msg)

	// A stop requested after the death goes through the survivors.
	msg2, _ := f.request(1)
	f.confirm(bob, msg2)
	f.waitParent(msg2, "`STOPPING`")
	f.finish(1, msg2)
}

// TestRollingRestartOfReplicasEndToEnd restarts the three replicas one by one, as a Kubernetes
// rolling update does, while a stop is watched; each step stops the replica doing the work, if it is
// one of the old ones. Leases last a minute here, longer than the test waits: the watch can only
// move because each stopping replica hands its leases back.
func TestRollingRestartOfReplicasEndToEnd(t *testing.T) {
	f, old := startFleet(t, 3, time.Minute)
	f.watcher(old...)
	msg, _ := f.request(0)
	f.confirm(alice, msg)
	f.waitParent(msg, "`STOPPING`")

	var fresh []*replica
	for step := 1; len(old) > 0; step++ {
		live := append(append([]*replica(nil), old...), fresh...)
		w := f.watcher(live...)
		i := slices.Index(old, w)
		if i < 0 {
			i = 0
		}
		gone := old[i]
		old = slices.Delete(old, i, i+1)
		if err := gone.shutdown(t); err != nil {
			t.Errorf("%s exited with %v", gone.name, err)
		}
		fresh = append(fresh, f.start())
		next := f.watcher(append(append([]*replica(nil), old...), fresh...)...)
		t.Logf("step %d: %s stopped; %s watches", step, gone.name, next.name)
		if step <= 2 && next == w {
			t.Fatalf("step %d: the watch did not move off %s", step, w.name)
		}
	}
	f.onePoller()
	// Every move was a hand-back: nothing was taken over from a replica that stopped renewing.
	w := f.watcher(fresh...)
	w.metricsSay(t, `qovery_bot_leases_held{kind="watch"} 1`, `qovery_bot_lease_takeovers_total{kind="watch"} 0`, `qovery_bot_lease_takeovers_total{kind="operation"} 0`)
	f.finish(0, msg)
	for _, r := range fresh {
		if err := r.shutdown(t); err != nil {
			t.Errorf("%s exited with %v", r.name, err)
		}
	}
}
