package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/boltstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Benchmarks of the whole program: serve, as main calls it, against the fake Slack (real Socket
// Mode over a loopback WebSocket) and the fake Qovery API. BENCHMARKS.md has the figures, the
// commands that produced them and what they mean. None of this runs in a plain `go test`: only the
// Benchmark functions measure, and TestBenchBotProcess is the bot process BenchmarkMemoryPerWatch
// starts (it skips unless that benchmark started it).
//
// Pacing (one message a second per channel, as Slack allows) is lifted: it would measure Slack's
// rate limit, not the bot.

const (
	// benchChannels is how many channels the fake workspace has for the stops of a benchmark.
	benchChannels = 10
	// benchSetupTimeout bounds the setup of one benchmark (up to 1,000 stops through the real flow).
	benchSetupTimeout = 10 * time.Minute
	// benchChildEnv marks the bot process started by BenchmarkMemoryPerWatch.
	benchChildEnv = "QOVERY_BOT_BENCH_CHILD"
)

// benchFakes is a fake Slack workspace and a fake Qovery organization of numbered clusters.
type benchFakes struct {
	slack    *slacksim.Server
	qovery   *qoverysim.Server
	org      uuid.UUID
	names    []string
	ids      []uuid.UUID
	channels []string
}

// newBenchFakes starts the fakes with clusters clusters built from spec (each gets its own name).
// The fake Slack waits 30 s for an ack instead of Slack's 3 s, so that a slow ack is measured
// rather than lost.
func newBenchFakes(tb testing.TB, clusters int, spec qoverysim.ClusterSpec) *benchFakes {
	tb.Helper()
	f := &benchFakes{qovery: qoverysim.NewServer(tb)}
	f.org = f.qovery.AddOrganization("Bench")
	for i := range clusters {
		s := spec
		s.Name = fmt.Sprintf("bench-%04d", i)
		s.StopScript = slices.Clone(spec.StopScript)
		f.names = append(f.names, s.Name)
		f.ids = append(f.ids, f.qovery.AddCluster(f.org, s))
	}
	f.slack = slacksim.NewServer(slacksim.WithAppToken(appTok), slacksim.WithBotToken(botTok), slacksim.WithAckTimeout(30*time.Second))
	tb.Cleanup(f.slack.Close)
	for i := range benchChannels {
		id := fmt.Sprintf("C0BENCH%02d", i)
		f.slack.AddChannel(id, fmt.Sprintf("bench-%02d", i), true)
		f.channels = append(f.channels, id)
	}
	return f
}

// vars is the bot's environment: the fakes, a fresh data dir, no health listener, and warnings
// only in the log.
func (f *benchFakes) vars(tb testing.TB, interval time.Duration) map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN":          appTok,
		"SLACK_BOT_TOKEN":          botTok,
		"SLACK_API_URL":            f.slack.APIURL(),
		"QOVERY_API_TOKEN":         f.qovery.Token(),
		"QOVERY_API_URL":           f.qovery.URL(),
		"QOVERY_BOT_POLL_INTERVAL": interval.String(),
		"QOVERY_BOT_DATA_DIR":      tb.TempDir(),
		"QOVERY_BOT_HTTP_ADDR":     "off",
		"QOVERY_BOT_ALLOWED_USERS": alice + "," + bob,
		"LOG_LEVEL":                "warn",
	}
}

func benchNoPacing(o *appOptions) { o.noPacing = true }

// benchBot is one run of serve in this process.
type benchBot struct {
	logs *syncBuffer
	http *httpLog
	stop func()
}

// startBenchBot runs serve with vars until the benchmark ends (or stop is called), and waits until
// the fake Slack sees its Socket Mode connection.
func startBenchBot(tb testing.TB, f *benchFakes, vars map[string]string, opts ...func(*appOptions)) *benchBot {
	tb.Helper()
	bb := &benchBot{logs: &syncBuffer{}, http: &httpLog{}}
	opts = append([]func(*appOptions){benchNoPacing, func(o *appOptions) { o.wrapTransport = bb.http.wrap }}, opts...)
	alive, stopServe := startServe(tb, vars, bb.logs, 15*time.Second, opts...)
	var once sync.Once
	bb.stop = func() { once.Do(stopServe) }
	tb.Cleanup(bb.stop)
	wctx, wcancel := context.WithTimeout(alive, 10*time.Second)
	defer wcancel()
	if err := f.slack.WaitConnected(wctx); err != nil {
		tb.Fatalf("the bot did not connect: %v\n%s", err, bb.logs.String())
	}
	return bb
}

// stopIdle waits until the bot's work is done (so that no Slack call is cut short), then stops it.
func (bb *benchBot) stopIdle(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := waitBotIdle(ctx); err != nil {
		tb.Errorf("the bot is still busy: %v", err)
	}
	bb.stop()
}

// httpCall is one HTTP request the bot made, as its transport saw it.
type httpCall struct {
	method, host, path string
	start, end         time.Time
}

// httpLog records the bot's HTTP requests (appOptions.wrapTransport), with their times.
type httpLog struct {
	mu    sync.Mutex
	calls []httpCall
}

func (l *httpLog) wrap(rt http.RoundTripper) http.RoundTripper { return recordingTransport{l, rt} }

func (l *httpLog) since(t time.Time) []httpCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearchFunc(l.calls, t, func(c httpCall, t time.Time) int { return c.start.Compare(t) })
	return slices.Clone(l.calls[i:])
}

type recordingTransport struct {
	l    *httpLog
	base http.RoundTripper
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	c := httpCall{method: req.Method, host: req.URL.Host, path: req.URL.Path, start: start, end: time.Now()}
	t.l.mu.Lock()
	// Keep the log ordered by start: requests of concurrent goroutines finish out of order.
	i, _ := slices.BinarySearchFunc(t.l.calls, c.start, func(c httpCall, t time.Time) int { return c.start.Compare(t) })
	t.l.calls = slices.Insert(t.l.calls, i, c)
	t.l.mu.Unlock()
	return resp, err
}

// statusReads keeps the reads of cluster statuses (organization-wide or one cluster's) made to
// the fake Qovery.
func (f *benchFakes) statusReads(calls []httpCall) []httpCall {
	u, _ := url.Parse(f.qovery.URL())
	var out []httpCall
	for _, c := range calls {
		if c.host == u.Host && c.method == http.MethodGet && strings.HasSuffix(c.path, "/status") {
			out = append(out, c)
		}
	}
	return out
}

// pollRounds splits status reads into the watcher's poll rounds: the reads of one round follow one
// another, and rounds are separated by the watcher's wait of about one interval (longer than gap).
func pollRounds(reads []httpCall, gap time.Duration) [][]httpCall {
	var rounds [][]httpCall
	for i, c := range reads {
		if i == 0 || c.start.Sub(reads[i-1].end) > gap {
			rounds = append(rounds, nil)
		}
		rounds[len(rounds)-1] = append(rounds[len(rounds)-1], c)
	}
	return rounds
}

func TestPollRounds(t *testing.T) {
	at := func(millis int) time.Time { return time.Unix(0, 0).Add(time.Duration(millis) * time.Millisecond) }
	call := func(start, end int) httpCall { return httpCall{start: at(start), end: at(end)} }
	reads := []httpCall{call(0, 1), call(1, 2), call(2, 3), call(103, 104), call(205, 206), call(206, 207)}
	var got []int
	for _, r := range pollRounds(reads, 50*time.Millisecond) {
		got = append(got, len(r))
	}
	if want := []int{3, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("pollRounds split %d reads into rounds of %v; want %v", len(reads), got, want)
	}
}

// slashBurst sends one `/qovery <text>` per text from alice, spread over the benchmark channels,
// with at most par in flight (all at once when par is 0), and returns the ack latencies the fake
// Slack measured (envelope frame sent to ack frame received).
func (f *benchFakes) slashBurst(ctx context.Context, texts []string, par int) ([]time.Duration, error) {
	if par <= 0 {
		par = len(texts)
	}
	lat := make([]time.Duration, len(texts))
	errs := make([]error, len(texts))
	sem := make(chan struct{}, par)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // every goroutine is ready before the first envelope goes out
			sem <- struct{}{}
			defer func() { <-sem }()
			ack, err := f.slack.SlashCommand(ctx, slacksim.SlashCommand{UserID: alice, ChannelID: f.channels[i%len(f.channels)], Text: text})
			lat[i], errs[i] = ack.Latency, err
		}()
	}
	close(start)
	wg.Wait()
	return lat, errors.Join(errs...)
}

// clickAll presses actionID on each message, at most par at a time (all at once when par is 0),
// and returns the ack latencies.
func (f *benchFakes) clickAll(ctx context.Context, msgs []slacksim.Message, actionID string, par int) ([]time.Duration, error) {
	if par <= 0 {
		par = len(msgs)
	}
	var lat []time.Duration
	var errs []error
	for chunk := range slices.Chunk(msgs, par) {
		clicks := make([]slacksim.Click, len(chunk))
		for i, m := range chunk {
			clicks[i] = slacksim.Click{UserID: alice, ChannelID: m.Channel, MessageTS: m.TS, ActionID: actionID}
		}
		acks, cerrs := f.slack.ClickButtons(ctx, clicks...)
		for i := range acks {
			lat = append(lat, acks[i].Latency)
			errs = append(errs, cerrs[i])
		}
	}
	return lat, errors.Join(errs...)
}

// readFeed reads events until done returns true.
func readFeed(ctx context.Context, feed <-chan slacksim.Event, done func(slacksim.Event) bool) error {
	for {
		select {
		case ev, ok := <-feed:
			if !ok {
				return errors.New("the fake Slack closed the feed")
			}
			if done(ev) {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func isConfirmation(ev slacksim.Event) bool {
	if ev.Kind != slacksim.EventPosted || ev.Message.ThreadTS != "" {
		return false
	}
	for _, b := range ev.Message.Buttons() {
		if b.ActionID == commands.ActionConfirm {
			return true
		}
	}
	return false
}

// waitConfirmations reads the feed until n confirmation messages were posted, and returns them.
func waitConfirmations(ctx context.Context, feed <-chan slacksim.Event, n int) ([]slacksim.Message, error) {
	var msgs []slacksim.Message
	err := readFeed(ctx, feed, func(ev slacksim.Event) bool {
		if isConfirmation(ev) {
			msgs = append(msgs, ev.Message)
		}
		return len(msgs) == n
	})
	if err != nil {
		return msgs, fmt.Errorf("%d of %d confirmations posted: %w", len(msgs), n, err)
	}
	return msgs, nil
}

// waitParents reads the feed until n distinct parent messages were edited to contain want.
func waitParents(ctx context.Context, feed <-chan slacksim.Event, n int, want string) error {
	seen := map[string]bool{}
	err := readFeed(ctx, feed, func(ev slacksim.Event) bool {
		if ev.Kind == slacksim.EventUpdated && ev.Message.ThreadTS == "" && strings.Contains(ev.Message.PlainText(), want) {
			seen[ev.Message.Channel+"/"+ev.Message.TS] = true
		}
		return len(seen) == n
	})
	if err != nil {
		return fmt.Errorf("%d of %d messages say %q: %w", len(seen), n, want, err)
	}
	return nil
}

// establishWatches stops every cluster of f through the real flow (`/qovery stop`, then a click on
// Stop cluster), par at a time, and returns once each stop is watched and its thread and message
// say STOPPING. The clusters' stop script must hold STOPPING.
func (f *benchFakes) establishWatches(tb testing.TB, feed <-chan slacksim.Event, par int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), benchSetupTimeout)
	defer cancel()
	n := len(f.names)
	texts := make([]string, n)
	for i, name := range f.names {
		texts[i] = "stop " + name
	}
	if _, err := f.slashBurst(ctx, texts, par); err != nil {
		tb.Fatalf("stop commands: %v", err)
	}
	msgs, err := waitConfirmations(ctx, feed, n)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.clickAll(ctx, msgs, commands.ActionConfirm, par); err != nil {
		tb.Fatalf("confirm clicks: %v", err)
	}
	replies, parents := map[string]bool{}, map[string]bool{}
	err = readFeed(ctx, feed, func(ev slacksim.Event) bool {
		m := ev.Message
		switch {
		case ev.Kind == slacksim.EventPosted && m.ThreadTS != "" && strings.Contains(m.Text, "STOPPING"):
			replies[m.Channel+"/"+m.ThreadTS] = true
		case ev.Kind == slacksim.EventUpdated && m.ThreadTS == "" && strings.Contains(m.PlainText(), "`STOPPING`"):
			parents[m.Channel+"/"+m.TS] = true
		}
		return len(replies) == n && len(parents) == n
	})
	if err != nil {
		tb.Fatalf("%d of %d threads and %d of %d messages say STOPPING: %v", len(replies), n, len(parents), n, err)
	}
}

// percentile returns the p-th percentile (0 < p ≤ 100, nearest rank) of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return ms(sorted[max(rank, 1)-1])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func meanMS(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return ms(sum) / float64(len(ds))
}

// logProblems reports the warnings and errors the bot logged during a benchmark.
func logProblems(b *testing.B, logs string) {
	lines := strings.Count(logs, "\n")
	if lines == 0 {
		return
	}
	first, _, _ := strings.Cut(logs, "\n")
	b.Logf("the bot logged %d warning or error lines; the first: %s", lines, first)
}

// BenchmarkAckLatency measures the time from the fake Slack sending an envelope frame to it
// receiving the ack frame, over the real WebSocket, for bursts of 500 concurrent envelopes in an
// organization of 500 clusters (10 channels). Each iteration is a burst of 500 slash commands, then
// a burst of 500 clicks on the Cancel buttons of 500 pending confirmations.
//
//   - cmd=stop: the slash commands are `/qovery stop <cluster>` on 500 distinct clusters, and the
//     clicks cancel the 500 confirmations they posted.
//   - cmd=help: the slash commands are `/qovery help` (no Qovery call); the 500 confirmations are
//     then prepared outside the timer, 50 at a time, and the clicks cancel them.
//
// store=bolt is the real configuration (the data file in QOVERY_BOT_DATA_DIR); store=memory is the
// in-memory store, to show the data file's share.
//
// harness=bare-client replaces the bot by a bare slack-go Socket Mode client that acks every
// envelope at once and does nothing else: the floor that the fake Slack, the WebSocket and
// slack-go set on this machine.
func BenchmarkAckLatency(b *testing.B) {
	for _, cmd := range []string{"stop", "help"} {
		for _, store := range []string{"bolt", "memory"} {
			b.Run("cmd="+cmd+"/store="+store, func(b *testing.B) {
				benchAckLatency(b, cmd, store)
			})
		}
	}
	b.Run("harness=bare-client", benchAckBareClient)
}

func benchAckBareClient(b *testing.B) {
	const n = 500
	f := newBenchFakes(b, n, qoverysim.ClusterSpec{})
	msgs := botConfirmations(b, f)
	bots := f.slack.Sockets() // the stopped bot's, if Slack has not dropped it yet
	api := slack.New(botTok, slack.OptionAPIURL(f.slack.APIURL()), slack.OptionAppLevelToken(appTok))
	sm := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sm.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-sm.Events:
				if evt.Request != nil && evt.Request.EnvelopeID != "" {
					_ = sm.Ack(*evt.Request)
				}
			}
		}
	})
	defer wg.Wait()
	defer cancel()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := f.slack.WaitFor(wctx, func() bool {
		live := f.slack.Sockets()
		return len(live) == 1 && !slices.Contains(bots, live[0])
	}); err != nil {
		b.Fatal(err)
	}
	helps := make([]string, n)
	for i := range helps {
		helps[i] = "help"
	}
	var slash, clicks []time.Duration
	for b.Loop() {
		bctx, bcancel := context.WithTimeout(ctx, time.Minute)
		lat, err := f.slashBurst(bctx, helps, 0)
		if err != nil {
			b.Fatalf("slash burst: %v", err)
		}
		slash = append(slash, lat...)
		lat, err = f.clickAll(bctx, msgs, commands.ActionCancel, 0)
		if err != nil {
			b.Fatalf("click burst: %v", err)
		}
		clicks = append(clicks, lat...)
		bcancel()
	}
	reportAcks(b, slash, clicks)
}

// botConfirmations has the real bot post a confirmation for each of f's clusters, then stops it,
// and returns the messages: clicks on them carry the payloads the bot gets (a click's payload holds
// the whole message, so its size follows the message's blocks).
func botConfirmations(b *testing.B, f *benchFakes) []slacksim.Message {
	b.Helper()
	bb := startBenchBot(b, f, f.vars(b, 10*time.Second))
	feed, unsubscribe := f.slack.Subscribe()
	defer unsubscribe()
	stops := make([]string, len(f.names))
	for i, name := range f.names {
		stops[i] = "stop " + name
	}
	ctx, cancel := context.WithTimeout(context.Background(), benchSetupTimeout)
	defer cancel()
	if _, err := f.slashBurst(ctx, stops, 50); err != nil {
		b.Fatalf("stop commands: %v", err)
	}
	msgs, err := waitConfirmations(ctx, feed, len(stops))
	if err != nil {
		b.Fatal(err)
	}
	bb.stopIdle(b)
	return msgs
}

// reportAcks reports the ack latency percentiles of slash commands and clicks.
func reportAcks(b *testing.B, slash, clicks []time.Duration) {
	all := slices.Concat(slash, clicks)
	slices.Sort(all)
	slices.Sort(slash)
	slices.Sort(clicks)
	b.ReportMetric(meanMS(all), "ack-mean-ms")
	b.ReportMetric(percentile(all, 50), "ack-p50-ms")
	b.ReportMetric(percentile(all, 99), "ack-p99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "ack-max-ms")
	b.ReportMetric(percentile(slash, 99), "slash-p99-ms")
	b.ReportMetric(percentile(clicks, 99), "click-p99-ms")
	b.ReportMetric(100*float64(len(all)-within3s(all))/float64(len(all)), "over-3s-%")
}

func benchAckLatency(b *testing.B, cmd, store string) {
	const n = 500
	f := newBenchFakes(b, n, qoverysim.ClusterSpec{})
	// The health listener serves /metrics, where the bot reports its own view of its ack latency.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	opts := []func(*appOptions){func(o *appOptions) { o.healthListener = ln }}
	if store == "memory" {
		opts = append(opts, func(o *appOptions) { o.memoryStore = true })
	}
	bb := startBenchBot(b, f, f.vars(b, 10*time.Second), opts...)
	feed, unsubscribe := f.slack.Subscribe()
	defer unsubscribe()
	stops, helps := make([]string, n), make([]string, n)
	for i, name := range f.names {
		stops[i], helps[i] = "stop "+name, "help"
	}
	var slash, clicks []time.Duration
	burst := func(ctx context.Context) {
		if cmd == "help" {
			lat, err := f.slashBurst(ctx, helps, 0)
			if err != nil {
				b.Fatalf("slash burst: %v", err)
			}
			slash = append(slash, lat...)
			b.StopTimer()
			got := 0
			if err := readFeed(ctx, feed, func(ev slacksim.Event) bool {
				if ev.Kind == slacksim.EventEphemeral {
					got++
				}
				return got == n
			}); err != nil {
				b.Fatalf("%d of %d help answers: %v", got, n, err)
			}
			if _, err := f.slashBurst(ctx, stops, 50); err != nil {
				b.Fatalf("stop commands: %v", err)
			}
		} else {
			lat, err := f.slashBurst(ctx, stops, 0)
			if err != nil {
				b.Fatalf("slash burst: %v", err)
			}
			slash = append(slash, lat...)
			b.StopTimer()
		}
		msgs, err := waitConfirmations(ctx, feed, n)
		if err != nil {
			b.Fatal(err)
		}
		// Each burst starts on an idle bot: the work behind the slash commands is over.
		if err := waitBotIdle(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		lat, err := f.clickAll(ctx, msgs, commands.ActionCancel, 0)
		if err != nil {
			b.Fatalf("click burst: %v", err)
		}
		clicks = append(clicks, lat...)
		// The clusters are free again once every request is cancelled: the next iteration asks
		// for them anew.
		b.StopTimer()
		if err := waitParents(ctx, feed, n, "cancelled by"); err != nil {
			b.Fatal(err)
		}
		if err := waitBotIdle(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		burst(ctx)
		cancel()
	}
	reportAcks(b, slash, clicks)
	if sum, count, err := ackMetric("http://" + ln.Addr().String() + "/metrics"); err != nil {
		b.Errorf("read the bot's ack latency metric: %v", err)
	} else {
		b.ReportMetric(1000*sum/count, "bot-metric-ack-mean-ms")
	}
	bb.stopIdle(b)
	logProblems(b, bb.logs.String())
}

// ackMetric reads the sum and count of the bot's qovery_bot_ack_latency_seconds histogram.
func ackMetric(url string) (sum, count float64, err error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, _ := strings.Cut(line, " ")
		v, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "qovery_bot_ack_latency_seconds_sum":
			sum = v
		case "qovery_bot_ack_latency_seconds_count":
			count = v
		}
	}
	if count == 0 {
		return 0, 0, errors.New("no qovery_bot_ack_latency_seconds samples")
	}
	return sum, count, nil
}

// within3s returns how many of the sorted latencies are within Slack's 3 s.
func within3s(sorted []time.Duration) int {
	i, _ := slices.BinarySearch(sorted, 3*time.Second+1)
	return i
}

// BenchmarkStatusRequestsPerInterval counts the status requests the bot sends to Qovery per poll
// interval while it watches N stops (clusters held in STOPPING) with the organization-wide watcher.
// One iteration observes eight intervals of 250 ms; gets/interval is the number of status reads per
// poll round (the rounds are told apart by the watcher's wait between them), cluster-gets/interval
// those of them that read one cluster's status rather than the organization's. round-ms is how long
// a round of reads takes, period-ms the time from one round to the next.
func BenchmarkStatusRequestsPerInterval(b *testing.B) {
	const interval = 250 * time.Millisecond
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			f := newBenchFakes(b, n, qoverysim.ClusterSpec{StopScript: []qovery.State{qovery.StateStopping}})
			bb := startBenchBot(b, f, f.vars(b, interval))
			feed, unsubscribe := f.slack.Subscribe()
			defer unsubscribe()
			setup := time.Now()
			f.establishWatches(b, feed, 50)
			b.Logf("%d watches established through the real flow in %v", n, time.Since(setup).Round(time.Millisecond))
			idle, cancelIdle := context.WithTimeout(context.Background(), time.Minute)
			if err := waitBotIdle(idle); err != nil {
				b.Fatal(err)
			}
			cancelIdle()

			var reads, ownReads, rounds int
			var roundTime, period time.Duration
			var periods int
			for b.Loop() {
				start := time.Now()
				time.Sleep(8 * interval)
				window := f.statusReads(bb.http.since(start))
				rs := pollRounds(window, interval/2)
				if len(rs) < 3 {
					b.Fatalf("%d poll rounds in %v; want at least 3", len(rs), 8*interval)
				}
				// The first and last rounds may be cut by the window.
				full := rs[1 : len(rs)-1]
				for i, r := range full {
					reads += len(r)
					for _, c := range r {
						if !strings.HasSuffix(c.path, "/cluster/status") {
							ownReads++ // GET /organization/{id}/cluster/{id}/status
						}
					}
					roundTime += r[len(r)-1].end.Sub(r[0].start)
					if i > 0 {
						period += r[0].start.Sub(full[i-1][0].start)
						periods++
					}
				}
				rounds += len(full)
			}
			b.ReportMetric(float64(reads)/float64(rounds), "gets/interval")
			b.ReportMetric(float64(ownReads)/float64(rounds), "cluster-gets/interval")
			b.ReportMetric(ms(roundTime)/float64(rounds), "round-ms")
			if periods > 0 {
				b.ReportMetric(ms(period)/float64(periods), "period-ms")
			}
			bb.stopIdle(b)
			logProblems(b, bb.logs.String())
		})
	}
}

// BenchmarkNotificationDelay measures, for watched clusters polled every 100 ms, the time from the
// fake Qovery answering STOPPED (SetStatus, at a random moment of the poll cycle) to the STOPPED
// reply appearing in each cluster's thread in the fake Slack (its event feed). clusters=1 is the
// figure of the issue; clusters=100 and clusters=1000 stop every watched cluster at the same moment,
// as one organization-wide poll then reports them all at once. delay-ms is the mean over replies,
// delay-max-ms the worst; after-poll-max-ms is the worst time from the end of the status read that
// saw STOPPED to the reply (the bot's own work: store writes and Slack posts).
func BenchmarkNotificationDelay(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) { benchNotificationDelay(b, n) })
	}
}

func benchNotificationDelay(b *testing.B, n int) {
	const interval = 100 * time.Millisecond
	f := newBenchFakes(b, n, qoverysim.ClusterSpec{StopScript: []qovery.State{qovery.StateStopping}})
	bb := startBenchBot(b, f, f.vars(b, interval))
	feed, unsubscribe := f.slack.Subscribe()
	defer unsubscribe()
	var delays, afterPoll []time.Duration
	for b.Loop() {
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), benchSetupTimeout)
		for _, id := range f.ids {
			f.qovery.SetStatus(id, qovery.StateDeployed)
			f.qovery.SetStopScript(id, qovery.StateStopping)
		}
		f.establishWatches(b, feed, 50)
		if err := waitBotIdle(ctx); err != nil {
			b.Fatal(err)
		}
		// The clusters stop at a random moment of the poll cycle (the STOPPING replies came right
		// after a poll, so without this the change would always land just after one).
		time.Sleep(rand.N(interval))
		b.StartTimer()

		t0 := time.Now()
		for _, id := range f.ids {
			f.qovery.SetStatus(id, qovery.StateStopped)
		}
		var replies []time.Time
		parents := map[string]bool{}
		done := func(ev slacksim.Event) bool {
			m := ev.Message
			switch {
			case ev.Kind == slacksim.EventPosted && m.ThreadTS != "" && strings.Contains(m.Text, "STOPPED"):
				replies = append(replies, time.Now())
			case ev.Kind == slacksim.EventUpdated && m.ThreadTS == "" && strings.Contains(m.PlainText(), "is `STOPPED`"):
				parents[m.Channel+"/"+m.TS] = true
			}
			return len(replies) == n
		}
		if err := readFeed(ctx, feed, done); err != nil {
			b.Fatalf("%d of %d STOPPED replies: %v", len(replies), n, err)
		}
		b.StopTimer()
		// Every message says STOPPED too before the next round.
		if len(parents) < n {
			if err := readFeed(ctx, feed, func(ev slacksim.Event) bool { done(ev); return len(parents) == n }); err != nil {
				b.Fatalf("%d of %d messages say STOPPED: %v", len(parents), n, err)
			}
		}
		var seen time.Time // the end of the first status read after the clusters stopped
		for _, c := range f.statusReads(bb.http.since(t0.Add(-time.Second))) {
			if c.end.After(t0) {
				seen = c.end
				break
			}
		}
		for _, r := range replies {
			delays = append(delays, r.Sub(t0))
			afterPoll = append(afterPoll, r.Sub(seen))
		}
		cancel()
		b.StartTimer()
	}
	b.ReportMetric(meanMS(delays), "delay-ms")
	b.ReportMetric(ms(slices.Max(delays)), "delay-max-ms")
	b.ReportMetric(ms(slices.Max(afterPoll)), "after-poll-max-ms")
	bb.stopIdle(b)
	logProblems(b, bb.logs.String())
}

// waitBotIdle waits until no goroutine of this process is doing the bot's work: each one that runs
// envelope work or a watch (bot.(*Bot).goWork) is a watch waiting for its next status, and nothing
// is inside the data file. It reads every goroutine's stack, so it is only for setups.
func waitBotIdle(ctx context.Context) error {
	// The dump is read in place, goroutine by goroutine: in the bot's own process (the memory
	// benchmark), copying a dump of a thousand goroutines every 20 ms would make the heap peak that
	// the benchmark then reports as the bot's.
	buf := make([]byte, 1<<20)
	var (
		sep      = []byte("\n\n")
		bbolt    = []byte("go.etcd.io/bbolt.")
		work     = []byte("/bot.(*Bot).goWork.func1")
		watching = []byte("/commands.(*Handler).Watch(")
		parked   = []byte("[select")
	)
	for {
		n := runtime.Stack(buf, true)
		if n == len(buf) {
			buf = make([]byte, 2*len(buf))
			continue
		}
		busy := 0
		for rest := buf[:n]; len(rest) > 0; {
			g, after, _ := bytes.Cut(rest, sep)
			rest = after
			header, _, _ := bytes.Cut(g, []byte("\n"))
			switch {
			case bytes.Contains(g, bbolt):
				busy++
			case bytes.Contains(g, work) && !(bytes.Contains(header, parked) && bytes.Contains(g, watching)):
				busy++
			}
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d goroutines still busy: %w", busy, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// BenchmarkColdStart measures the time from calling serve, with a fresh data dir, to the fake Slack
// seeing the Socket Mode connection (coldstart-ms), and to the bot logging "connected to Slack"
// (ready-ms). One iteration is one start; the bot is stopped after each, outside the timer.
// mode=binary runs the program as it is deployed: the binary built with `go build`, started as a
// new process (exec and the Go runtime's start included) and stopped with SIGTERM; rss-connected-MB
// is its resident memory once connected, with no watch.
func BenchmarkColdStart(b *testing.B) {
	b.Run("mode=in-process", func(b *testing.B) {
		f := newBenchFakes(b, 10, qoverysim.ClusterSpec{})
		var connected, ready, qoveryOrg, authTest, opened []time.Duration
		for b.Loop() {
			vars := f.vars(b, 10*time.Second)
			vars["LOG_LEVEL"] = "info" // for the "connected to Slack" line
			logs, hl := &syncBuffer{}, &httpLog{}
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			t0 := time.Now()
			go func() {
				errc <- serve(ctx, env(vars), logs, benchNoPacing, func(o *appOptions) { o.wrapTransport = hl.wrap })
			}()
			if err := f.slack.WaitConnected(wctx); err != nil {
				b.Fatalf("no connection: %v\n%s", err, logs.String())
			}
			connected = append(connected, time.Since(t0))
			if err := logs.waitFor(wctx, `"message":"connected to Slack"`); err != nil {
				b.Fatalf("no connected line: %v\n%s", err, logs.String())
			}
			ready = append(ready, time.Since(t0))
			b.StopTimer()
			wcancel()
			org, auth, open := startPhases(hl.since(t0), t0)
			qoveryOrg, authTest, opened = append(qoveryOrg, org), append(authTest, auth), append(opened, open)
			cancel()
			if err := <-errc; err != nil {
				b.Fatalf("serve: %v", err)
			}
			dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := f.slack.WaitFor(dctx, func() bool { return f.slack.Connections() == 0 }); err != nil {
				b.Fatal("the connection outlived serve")
			}
			dcancel()
			b.StartTimer()
		}
		b.ReportMetric(meanMS(connected), "coldstart-ms")
		b.ReportMetric(ms(slices.Max(connected)), "coldstart-max-ms")
		b.ReportMetric(meanMS(ready), "ready-ms")
		b.ReportMetric(meanMS(qoveryOrg), "org-done-ms")
		b.ReportMetric(meanMS(authTest), "auth-done-ms")
		b.ReportMetric(meanMS(opened), "open-done-ms")
	})
	b.Run("mode=binary", func(b *testing.B) {
		bin := buildBot(b)
		f := newBenchFakes(b, 10, qoverysim.ClusterSpec{})
		var connected []time.Duration
		var rss uint64
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			t0 := time.Now()
			p, stderr := startBinary(b, bin, f.vars(b, 10*time.Second))
			if err := f.slack.WaitConnected(ctx); err != nil {
				b.Fatalf("no connection: %v\n%s", err, stderr.String())
			}
			connected = append(connected, time.Since(t0))
			b.StopTimer()
			rss = max(rss, procStatus(fmt.Sprintf("/proc/%d/status", p.Process.Pid))["VmRSS"])
			if err := p.Process.Signal(syscall.SIGTERM); err != nil {
				b.Fatal(err)
			}
			if err := p.Wait(); err != nil {
				b.Fatalf("the bot exited with %v after SIGTERM; want 0\n%s", err, stderr.String())
			}
			if err := f.slack.WaitFor(ctx, func() bool { return f.slack.Connections() == 0 }); err != nil {
				b.Fatal("the connection outlived the process")
			}
			cancel()
			b.StartTimer()
		}
		b.ReportMetric(meanMS(connected), "coldstart-ms")
		b.ReportMetric(ms(slices.Max(connected)), "coldstart-max-ms")
		b.ReportMetric(float64(rss)/(1<<20), "rss-connected-MB")
	})
}

// buildBot builds the program with `go build` into a temporary directory.
func buildBot(b *testing.B) string {
	b.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		b.Skipf("no go command to build the binary: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "qovery-slack-bot")
	out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary starts the built program with vars as its environment.
func startBinary(b *testing.B, bin string, vars map[string]string) (*exec.Cmd, *syncBuffer) {
	b.Helper()
	cmd := exec.Command(bin)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, out
}

// startPhases returns when, after t0, the start-up calls came back: the Qovery organizations, Slack's
// auth.test and apps.connections.open. (It is a function of its own because a tagless switch
// inside a b.Loop body crashes the Go 1.26.8 compiler.)
func startPhases(calls []httpCall, t0 time.Time) (org, auth, open time.Duration) {
	for _, c := range calls {
		switch {
		case strings.HasSuffix(c.path, "/organization"):
			org = c.end.Sub(t0)
		case strings.HasSuffix(c.path, "/auth.test"):
			auth = c.end.Sub(t0)
		case strings.HasSuffix(c.path, "/apps.connections.open"):
			open = c.end.Sub(t0)
		}
	}
	return org, auth, open
}

// BenchmarkMemoryPerWatch measures the memory of the bot with 1,000 active watches. The bot runs in
// a process of its own (TestBenchBotProcess), so that the fakes, which keep every message and
// request, are not counted: its heap and RSS are measured with no watch (connected, idle) and
// with the 1,000 watches established through the real flow and settled (every cluster STOPPING,
// polled every second). Each iteration is one measurement.
func BenchmarkMemoryPerWatch(b *testing.B) {
	const n = 1000
	f := newBenchFakes(b, n, qoverysim.ClusterSpec{StopScript: []qovery.State{qovery.StateStopping}})
	p := startBenchProcess(b, f.vars(b, time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.slack.WaitConnected(ctx); err != nil {
		b.Fatalf("no connection: %v\n%s", err, p.stderr.String())
	}
	base := p.mem(b)
	feed, unsubscribe := f.slack.Subscribe()
	defer unsubscribe()
	f.establishWatches(b, feed, 50)
	var after benchMem
	for b.Loop() {
		after = p.mem(b)
	}
	per := func(after, before uint64) float64 { return (float64(after) - float64(before)) / n }
	mb := func(v uint64) float64 { return float64(v) / (1 << 20) }
	b.ReportMetric(per(after.HeapAlloc, base.HeapAlloc)+per(after.StackInuse, base.StackInuse), "bytes/watch")
	b.ReportMetric(per(after.HeapAlloc, base.HeapAlloc), "heap-B/watch")
	b.ReportMetric(per(after.StackInuse, base.StackInuse), "stack-B/watch")
	b.ReportMetric(per(after.StackInuseFirstGC, base.StackInuse), "stack-1gc-B/watch")
	b.ReportMetric(float64(after.Goroutines-base.Goroutines)/n, "goroutines/watch")
	b.ReportMetric(mb(base.VmRSS), "rss-idle-MB")
	b.ReportMetric(mb(after.VmRSS), "rss-MB")
	b.ReportMetric(mb(after.VmRSSReleased), "rss-released-MB")
	b.ReportMetric(mb(after.VmHWM), "rss-peak-MB")
	b.ReportMetric(mb(after.HeapAlloc), "heap-MB")
	b.Logf("idle: %+v", base)
	b.Logf("with %d watches: %+v", n, after)
	p.stop()
}

// benchMem is what the bot process reports about its memory, after a GC.
type benchMem struct {
	HeapAlloc, HeapInuse, HeapSys, StackInuse, Sys uint64
	// StackInuseFirstGC is StackInuse after one collection, before the stacks settled.
	StackInuseFirstGC uint64
	Goroutines        int
	// From /proc/self/status, in bytes.
	VmRSS, VmHWM, RssAnon, RssFile uint64
	// VmRSSReleased is VmRSS once the free heap is returned to the system (debug.FreeOSMemory).
	VmRSSReleased uint64
}

// benchProcess is the bot running in a process of its own.
type benchProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *syncBuffer
	stop   func()
}

// startBenchProcess runs serve, with vars as its environment, in a new process of this test binary
// (TestBenchBotProcess), and stops it when the benchmark ends.
func startBenchProcess(tb testing.TB, vars map[string]string) *benchProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchBotProcess$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &benchProcess{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			_ = p.stdin.Close() // the process shuts down when its input ends
			_, _ = io.Copy(io.Discard, p.stdout)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("bot process: %v\n%s", err, p.stderr.String())
				}
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				tb.Errorf("the bot process did not exit within 15s of its input ending")
			}
		})
	}
	tb.Cleanup(p.stop)
	return p
}

// mem asks the bot process for its memory figures.
func (p *benchProcess) mem(tb testing.TB) benchMem {
	tb.Helper()
	if _, err := io.WriteString(p.stdin, "mem\n"); err != nil {
		tb.Fatalf("ask the bot process: %v", err)
	}
	for {
		line, err := p.stdout.ReadString('\n')
		if err != nil {
			tb.Fatalf("read the bot process: %v\n%s", err, p.stderr.String())
		}
		if rest, ok := strings.CutPrefix(line, "BENCHMEM "); ok {
			var m benchMem
			if err := json.Unmarshal([]byte(rest), &m); err != nil {
				tb.Fatalf("bot process answered %q: %v", line, err)
			}
			return m
		}
	}
}

// TestBenchBotProcess is the bot process of BenchmarkMemoryPerWatch: serve
// with the environment it was given, without pacing, until its input ends. Each "mem" line it reads
// is answered with its memory figures after a GC. It skips unless a benchmark started it.
func TestBenchBotProcess(t *testing.T) {
	if os.Getenv(benchChildEnv) != "1" {
		t.Skip("the bot process of BenchmarkMemoryPerWatch, which runs only when that benchmark starts it")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	setMemoryLimit(os.Getenv) // as main does
	go func() { errc <- serve(ctx, os.Getenv, os.Stderr, benchNoPacing) }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case err := <-errc:
			t.Fatalf("serve returned early: %v", err)
		case line, ok := <-lines:
			if !ok {
				cancel()
				if err := <-errc; err != nil {
					t.Fatalf("serve: %v", err)
				}
				return
			}
			if line == "mem" {
				idle, cancelIdle := context.WithTimeout(ctx, time.Minute)
				err := waitBotIdle(idle)
				cancelIdle()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(readBenchMem())
				fmt.Printf("BENCHMEM %s\n", b)
			}
		}
	}
}

func readBenchMem() benchMem {
	// A goroutine's stack is only shrunk by a garbage collection, by half at most: collect until
	// the stacks stop shrinking, as the collections of a bot running for a few minutes would.
	var st runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&st)
	firstStack := st.StackInuse
	for range 10 {
		prev := st.StackInuse
		runtime.GC()
		runtime.ReadMemStats(&st)
		if st.StackInuse >= prev {
			break
		}
	}
	ps := procStatus("/proc/self/status")
	m := benchMem{
		HeapAlloc: st.HeapAlloc, HeapInuse: st.HeapInuse, HeapSys: st.HeapSys, StackInuse: st.StackInuse,
		StackInuseFirstGC: firstStack, Sys: st.Sys, Goroutines: runtime.NumGoroutine(),
		VmRSS: ps["VmRSS"], VmHWM: ps["VmHWM"], RssAnon: ps["RssAnon"], RssFile: ps["RssFile"],
	}
	debug.FreeOSMemory()
	m.VmRSSReleased = procStatus("/proc/self/status")["VmRSS"]
	return m
}

// procStatus returns the sizes (in bytes) of a /proc/<pid>/status file, by name.
func procStatus(path string) map[string]uint64 {
	sizes := map[string]uint64{}
	status, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(status), "\n") {
		key, val, _ := strings.Cut(line, ":")
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		if kb, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
			sizes[key] = kb << 10
		}
	}
	return sizes
}

// BenchmarkEnvelopeLog measures what the bot does for every envelope between its ack and the next
// envelope: recording the envelope id in the data file (one bbolt transaction, synced to disk), on
// the file system of the benchmark's temporary directory.
func BenchmarkEnvelopeLog(b *testing.B) {
	s, err := boltstore.Open(filepath.Join(b.TempDir(), dataFileName))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.SeeEnvelope(ctx, uuid.NewString()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotificationFloor is the floor under BenchmarkNotificationDelay/clusters=1000 on this
// machine: no bot and no Qovery, only the two Slack calls of each final notice (the thread reply,
// then the parent's edit, with blocks of the same shape as the bot's), made by 1,000 goroutines at
// once through slack-go and the bot's connection pool to the same fake. delay-max-ms is when the
// last thread reply reached the fake.
func BenchmarkNotificationFloor(b *testing.B) {
	const n = 1000
	f := newBenchFakes(b, 0, qoverysim.ClusterSpec{})
	api := slack.New(botTok, slack.OptionAPIURL(f.slack.APIURL()), slack.OptionHTTPClient(&http.Client{Transport: connectionPool(nil)}))
	ctx := context.Background()
	type parent struct{ channel, ts string }
	parents := make([]parent, n)
	for i := range parents {
		ch := f.channels[i%len(f.channels)]
		_, ts, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText(fmt.Sprintf("Stop cluster bench-%04d", i), false))
		if err != nil {
			b.Fatal(err)
		}
		parents[i] = parent{ch, ts}
	}
	line := ":white_check_mark: `STOPPED` after 4 min 10 s · requested by <@U0ALICE>"
	thread := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, line, false, false), nil, nil),
		slack.NewActionBlock("follow_up_actions", slack.NewButtonBlockElement("qovery_follow_up", "op:cluster",
			slack.NewTextBlockObject(slack.PlainTextType, "Start again", false, false))),
	}
	parentBlocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*bench* is `STOPPED` · confirmed by <@U0ALICE>", false, false), nil, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "AWS eu-west-3 · stopped in 4 min 10 s", false, false)),
	}
	feed, unsubscribe := f.slack.Subscribe()
	defer unsubscribe()
	var delays []time.Duration
	for b.Loop() {
		t0 := time.Now()
		var wg sync.WaitGroup
		for _, p := range parents {
			wg.Go(func() {
				_, _, _ = api.PostMessageContext(ctx, p.channel, slack.MsgOptionTS(p.ts), slack.MsgOptionText(line, false), slack.MsgOptionBlocks(thread...))
				_, _, _, _ = api.UpdateMessageContext(ctx, p.channel, p.ts, slack.MsgOptionText("STOPPED", false), slack.MsgOptionBlocks(parentBlocks...))
			})
		}
		replies := 0
		var last time.Time
		rctx, cancel := context.WithTimeout(ctx, benchSetupTimeout)
		err := readFeed(rctx, feed, func(ev slacksim.Event) bool {
			if ev.Kind == slacksim.EventPosted && ev.Message.ThreadTS != "" {
				replies++
				last = time.Now()
			}
			return replies == n
		})
		cancel()
		if err != nil {
			b.Fatalf("%d of %d replies: %v", replies, n, err)
		}
		b.StopTimer()
		wg.Wait() // the parents' edits too, before the next round
		b.StartTimer()
		delays = append(delays, last.Sub(t0))
	}
	b.ReportMetric(ms(slices.Max(delays)), "delay-max-ms")
}
