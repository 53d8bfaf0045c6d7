package commands

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// fakeQovery serves a fixed cluster list and a script of statuses, one per ClusterStatus call (the
// last one repeats).
type fakeQovery struct {
	mu          sync.Mutex
	clusters    []qovery.Cluster
	statuses    []qovery.ClusterStatus
	statusErr   error
	stopErr     error
	stopCalls   int
	deployCalls int
	// envs and cost answer the insight reads; envErr and costErr fail them, and block makes
	// them wait for their context to end (a Qovery that does not answer).
	envs        []qovery.ClusterEnvironment
	envErr      error
	cost        *qovery.CostRange
	costErr     error
	block       bool
	insightRead int
	logs        []qovery.ClusterLog
	logsErr     error
	// locks are the reasons LockCluster was called with; unlocks counts UnlockCluster calls.
	locks   []string
	lockTTL *int
	unlocks int
}

func (f *fakeQovery) LockCluster(_ context.Context, id uuid.UUID, reason string, ttl *int) (*qovery.ClusterLock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.locks, f.lockTTL = append(f.locks, reason), ttl
	return &qovery.ClusterLock{ClusterID: id, Reason: reason, TTLInDays: ttl}, nil
}

func (f *fakeQovery) UnlockCluster(context.Context, uuid.UUID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unlocks++
	return nil
}

func (f *fakeQovery) ClusterLogs(context.Context, uuid.UUID, uuid.UUID) ([]qovery.ClusterLog, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs, f.logsErr
}

var _ Qovery = (*fakeQovery)(nil)

func (f *fakeQovery) ClusterEnvironments(ctx context.Context, _ uuid.UUID) ([]qovery.ClusterEnvironment, error) {
	f.mu.Lock()
	f.insightRead++
	envs, err, block := f.envs, f.envErr, f.block
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return envs, err
}

func (f *fakeQovery) ClusterCost(ctx context.Context, _, _ uuid.UUID) (*qovery.CostRange, error) {
	f.mu.Lock()
	cost, err, block := f.cost, f.costErr, f.block
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if cost == nil && err == nil {
		return nil, &qovery.Error{StatusCode: 404}
	}
	return cost, err
}

func (f *fakeQovery) Clusters(context.Context, uuid.UUID) ([]qovery.Cluster, error) {
	return f.clusters, nil
}

func (f *fakeQovery) ClusterStatus(_ context.Context, _, id uuid.UUID) (*qovery.ClusterStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	st := f.statuses[0]
	if len(f.statuses) > 1 {
		f.statuses = f.statuses[1:]
	}
	st.ClusterID = id
	return &st, nil
}

func (f *fakeQovery) StopCluster(_ context.Context, _, id uuid.UUID) (*qovery.ActionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopCalls++
	if f.stopErr != nil {
		return nil, f.stopErr
	}
	return &qovery.ActionResponse{StatusCode: 202, Status: &qovery.ClusterStatus{ClusterID: id, Status: qovery.StateStopQueued}}, nil
}

func (f *fakeQovery) DeployCluster(_ context.Context, _, id uuid.UUID) (*qovery.ActionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deployCalls++
	return &qovery.ActionResponse{StatusCode: 201, Status: &qovery.ClusterStatus{ClusterID: id, Status: qovery.StateDeploymentQueued}}, nil
}

func (f *fakeQovery) script(states ...qovery.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses = nil
	for _, s := range states {
		f.statuses = append(f.statuses, qovery.ClusterStatus{Status: s, LastExecutionID: "exec-1"})
	}
}

// fakeGroups maps user-group ids to members; a group named "broken" fails.
type fakeGroups map[string][]string

func (g fakeGroups) GroupMembers(_ context.Context, id string) ([]string, error) {
	if id == "broken" {
		return nil, errors.New("slack: ratelimited")
	}
	return g[id], nil
}

// recorder is the chat and the audit trail of the tests: it records what the handler shows and
// says, and posts confirmations at once (ts postTS) unless postErr is set.
type recorder struct {
	mu     sync.Mutex
	events []Event
	ops    []Operation
	tells  []told
	asked  []NameAsk
	// schedMsgs are the schedule messages posted (ts "") and edited; schedEvents the schedule audit.
	schedMsgs   []schedMsg
	schedEvents []ScheduleEvent
	posted      []Operation
	denials     []string
	postErr     error
	// announced are the texts posted in channels for everyone.
	announced []string
	// duringPost, when set, runs while a confirmation is being posted (a click overtaking it).
	duringPost func(op Operation)
}

// told is one answer to one person.
type told struct {
	to   Actor
	text string
}

// postTS is the timestamp of every confirmation the recorder posts.
const postTS = "1700000000.000100"

var (
	_ Chat  = (*recorder)(nil)
	_ Audit = (*recorder)(nil)
)

func (r *recorder) Notify(_ context.Context, op Operation, n Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, n.Event)
	r.ops = append(r.ops, op)
	return nil
}

func (r *recorder) Delivered(context.Context, Operation, Notice) (bool, error) { return false, nil }

func (r *recorder) Permalink(_ context.Context, channelID, ts string) (string, error) {
	return "https://fake.slack.com/archives/" + channelID + "/p" + strings.ReplaceAll(ts, ".", ""), nil
}

func (r *recorder) PostConfirmation(_ context.Context, op Operation) (string, error) {
	r.mu.Lock()
	during, err := r.duringPost, r.postErr
	r.mu.Unlock()
	if during != nil {
		during(op)
	}
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posted = append(r.posted, op)
	return postTS, nil
}

func (r *recorder) Announce(_ context.Context, _ string, text Text) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.announced = append(r.announced, text.String())
	return nil
}

func (r *recorder) Tell(_ context.Context, to Actor, text Text) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tells = append(r.tells, told{to, text.String()})
	return nil
}

func (r *recorder) AskTypedName(_ context.Context, _ string, ask NameAsk) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, ask)
	return nil
}

// schedMsg is one schedule message posted (TS empty) or edited.
type schedMsg struct {
	TS string
	ScheduleMessage
}

func (r *recorder) PostSchedule(_ context.Context, m ScheduleMessage) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.postErr != nil {
		return "", r.postErr
	}
	r.schedMsgs = append(r.schedMsgs, schedMsg{ScheduleMessage: m})
	return fmt.Sprintf("1700000001.%06d", len(r.schedMsgs)), nil
}

func (r *recorder) EditSchedule(_ context.Context, ts string, m ScheduleMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.schedMsgs = append(r.schedMsgs, schedMsg{TS: ts, ScheduleMessage: m})
	return nil
}

func (r *recorder) Schedule(e ScheduleEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.schedEvents = append(r.schedEvents, e)
}

func (r *recorder) Requested(Operation)    {}
func (r *recorder) Event(Operation, Event) {}
func (r *recorder) Denied(_ Operation, _ Actor, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.denials = append(r.denials, reason)
}

// since returns how many tells, dialogs and posts were recorded so far.
func (r *recorder) since() (tells, asked, posted int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tells), len(r.asked), len(r.posted)
}

func (r *recorder) kinds() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ks []EventKind
	for _, e := range r.events {
		ks = append(ks, e.Kind)
	}
	return ks
}

func (r *recorder) states() []qovery.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ss []qovery.State
	for _, e := range r.events {
		if e.Kind == EventState {
			ss = append(ss, e.State)
		}
	}
	return ss
}

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var (
	orgID     = uuid.MustParse("11111111-1111-1111-1111-111111111111")
	stagingID = uuid.MustParse("22222222-2222-2222-2222-222222222222")
)

type fixture struct {
	groups fakeGroups
	q      *fakeQovery
	n      *recorder
	clock  *clock
	h      *Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		groups: fakeGroups{"S1": {"U5"}},
		q: &fakeQovery{clusters: []qovery.Cluster{
			{ID: stagingID, Name: "staging", CloudProvider: "AWS", Region: "eu-west-3"},
			{ID: uuid.New(), Name: "staging-us", CloudProvider: "AWS", Region: "us-east-2"},
			{ID: uuid.New(), Name: "production-eu", CloudProvider: "AWS", Region: "eu-west-3", Production: true},
			{ID: uuid.New(), Name: "<!channel>", CloudProvider: "GCP", Region: "europe-west1"},
		}},
		n:     &recorder{},
		clock: &clock{now: time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)},
	}
	f.q.script(qovery.StateDeployed)
	h, err := NewHandler(f.q, f.n, f.n, NewMemoryStore(), f.groups, Config{
		OrganizationID: orgID,
		Policy:         Policy{Users: []string{"U1", "U2"}, Groups: []string{"S1"}, Protected: []string{"prod-*"}},
		PollInterval:   time.Millisecond,
		WatchTimeout:   time.Hour,
		ConfirmTTL:     10 * time.Minute,
		StaleGrace:     2 * time.Minute,
		Now:            f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

// watch watches an accepted operation in its carrier, as goWatch does, and returns when the watch
// ends.
func (f *fixture) watch(ctx context.Context, id uuid.UUID) error {
	var err error
	if cerr := f.h.carry(id, false, func(l *Lease) { err = f.h.watchOp(ctx, id, l) }); cerr != nil {
		return cerr
	}
	return err
}

// userText is UserMessage as the tests read it.
func userText(err error) (string, bool) {
	msg, expected := UserMessage(err)
	return msg.String(), expected
}

// reply is what one call of the handler did, as the chat and the store saw it.
type reply struct {
	// Text is what the person who acted was told, when the call did not fail.
	Text string
	// Confirm is the confirmation the call posted; TypeName the operation whose name the person was
	// asked to type; Watch the operation the call got accepted by Qovery (and watched).
	Confirm, Watch *Operation
	TypeName       *NameAsk
}

// tclick is a press on an operation's button in the tests; Typed presses come from the dialog.
type tclick struct {
	Ref                  ActionRef
	UserID               string
	ChannelID, MessageTS string
	Typed                bool
	TypedName            string
}

// outcome collects what the handler did for user since the counts of before.
func (f *fixture) outcome(t *testing.T, user string, tells, asked, posted int, opID uuid.UUID, err error) (reply, error) {
	t.Helper()
	f.n.mu.Lock()
	var r reply
	if len(f.n.posted) > posted {
		if op, gerr := f.h.Operation(t.Context(), f.n.posted[len(f.n.posted)-1].ID); gerr == nil {
			r.Confirm = &op
		}
	}
	if err == nil {
		for _, tl := range f.n.tells[tells:] {
			if tl.to.UserID == user {
				r.Text = tl.text
			}
		}
	}
	if len(f.n.asked) > asked {
		ask := f.n.asked[len(f.n.asked)-1]
		r.TypeName = &ask
	}
	f.n.mu.Unlock()
	if opID != uuid.Nil && err == nil && r.Text == "" && r.TypeName == nil {
		if op, gerr := f.h.Operation(t.Context(), opID); gerr == nil && op.Phase == PhaseWatching {
			r.Watch = &op
		}
	}
	return r, err
}

// handle runs one slash command.
func (f *fixture) handle(t *testing.T, req tRequest) (reply, error) {
	t.Helper()
	tells, asked, posted := f.n.since()
	if req.ID == uuid.Nil {
		req.ID = uuid.New()
	}
	err := f.h.Handle(t.Context(), Request{ID: req.ID, By: Actor{UserID: req.UserID, ChannelID: req.ChannelID}, Text: req.Text})
	r, err := f.outcome(t, req.UserID, tells, asked, posted, uuid.Nil, err)
	if op, gerr := f.h.Operation(t.Context(), req.ID); gerr == nil {
		r.Confirm = &op
	}
	return r, err
}

// tRequest is a slash command in the tests.
type tRequest struct {
	ID                      uuid.UUID
	UserID, ChannelID, Text string
}

// press sends one button press (or, Typed, a dialog submission).
func (f *fixture) press(t *testing.T, action string, c tclick) (reply, error) {
	t.Helper()
	tells, asked, posted := f.n.since()
	by := Actor{UserID: c.UserID, ChannelID: c.ChannelID}
	var err error
	if c.Typed {
		err = f.h.SubmitTypedName(t.Context(), Submission{Value: c.Ref.String(), By: by, Typed: c.TypedName})
	} else {
		err = f.h.Click(t.Context(), Click{Action: action, Value: c.Ref.String(), By: by, MessageTS: c.MessageTS})
	}
	return f.outcome(t, c.UserID, tells, asked, posted, c.Ref.OperationID, err)
}

func (f *fixture) confirm(t *testing.T, c tclick) (reply, error) { return f.press(t, ActionConfirm, c) }
func (f *fixture) cancel(t *testing.T, c tclick) (reply, error)  { return f.press(t, ActionCancel, c) }
func (f *fixture) followUp(t *testing.T, c tclick) (reply, error) {
	return f.press(t, ActionFollowUp, c)
}

// typedNameProblem checks a name typed in the dialog of ref's operation.
func (f *fixture) typedNameProblem(t *testing.T, ref ActionRef, typed string) string {
	return f.h.CheckTypedName(t.Context(), Submission{Value: ref.String(), By: Actor{UserID: "U2"}, Typed: typed})
}

// requestStop runs `/qovery stop <name>` as U1 and returns the pending operation, its confirmation
// posted.
func (f *fixture) requestStop(t *testing.T, name string) Operation {
	t.Helper()
	r, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "stop " + name})
	if err != nil {
		t.Fatalf("Handle(stop %s) error = %v", name, err)
	}
	if r.Confirm == nil || r.Confirm.MessageTS != postTS {
		t.Fatalf("Handle(stop %s) = %+v; want a posted confirmation", name, r)
	}
	return *r.Confirm
}

func TestResolveCluster(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		typed   string
		want    string
		wantErr string
	}{
		{typed: "staging", want: "staging"},
		{typed: "  STAGING ", want: "staging"},
		{typed: stagingID.String(), want: "staging"},
		{typed: "Production-EU", want: "production-eu"},
		{typed: "stagin", wantErr: "No cluster named `stagin` in this organization. Did you mean `staging`, `staging-us`?"},
		{typed: "<b>x</b>", wantErr: "No cluster named `<b>x</b>`"},
		{typed: "zzzzzzzzzzzzzz", wantErr: "`/qovery list` shows them all."},
		{typed: "`staging`", wantErr: "No cluster named ``staging`` in this organization. Did you mean `staging`?"},
		{typed: "staging\u202e\x00x", wantErr: "No cluster named `stagingx` in this organization. Did you mean `staging`, `staging-us`?"},
		{typed: strings.Repeat("s", 5000), wantErr: "No cluster named `" + strings.Repeat("s", 79) + "…` in this organization. `/qovery list` shows them all."},
	} {
		t.Run(tc.typed, func(t *testing.T) {
			got, err := resolveCluster(f.q.clusters, tc.typed)
			if tc.wantErr != "" {
				msg, expected := userText(err)
				if !expected || !strings.Contains(msg, tc.wantErr) {
					t.Fatalf("resolveCluster(%q) error = %q; want it to contain %q", tc.typed, msg, tc.wantErr)
				}
				return
			}
			if err != nil || got.Name != tc.want {
				t.Fatalf("resolveCluster(%q) = %q, %v; want %q", tc.typed, got.Name, err, tc.want)
			}
		})
	}
}

// Only names that are actually close are suggested, whatever the script: lengths are counted in
// characters, not bytes.
func TestClosestNames(t *testing.T) {
	var clusters []qovery.Cluster
	for _, n := range []string{"staging", "staging-us", "production-eu", "preview", "dev", "qa", "прод-eu"} {
		clusters = append(clusters, qovery.Cluster{ID: uuid.New(), Name: n})
	}
	for _, tc := range []struct {
		typed string
		want  []string
	}{
		{"stagin", []string{"staging", "staging-us"}},
		{"stagign", []string{"staging"}},
		{"Staging-EU", []string{"staging", "staging-us"}},
		{"prod", []string{"production-eu"}},
		{"preveiw", []string{"preview"}},
		{"devv", []string{"dev"}},
		{"прод", []string{"прод-eu"}},
		{"nonexistent", nil},
		{"стейджинг", nil},
		{"продакшн-ру", nil},
		{"🚀🚀🚀", nil},
		{"🚀", nil},
		{"a", nil},
		{"eu", nil},
		{"qb", nil},
	} {
		if got := closestNames(clusters, tc.typed, maxSuggestions); !slices.Equal(got, tc.want) {
			t.Errorf("closestNames(%q) = %q; want %q", tc.typed, got, tc.want)
		}
	}
}

func TestResolveClusterAmbiguous(t *testing.T) {
	clusters := []qovery.Cluster{{ID: uuid.New(), Name: "Staging"}, {ID: uuid.New(), Name: "STAGING"}}
	_, err := resolveCluster(clusters, "staging")
	msg, _ := userText(err)
	if !strings.Contains(msg, "Several clusters match") || strings.Count(msg, "• ") != 2 {
		t.Fatalf("ambiguous resolve message = %q; want both candidates listed", msg)
	}
	// An exact match is not ambiguous.
	if got, err := resolveCluster(clusters, "STAGING"); err != nil || got.Name != "STAGING" {
		t.Fatalf("resolveCluster(STAGING) = %q, %v; want the exact match", got.Name, err)
	}
}

func TestStopRefusedStates(t *testing.T) {
	lockTTL := 2
	for _, tc := range []struct {
		name   string
		status qovery.ClusterStatus
		want   string
	}{
		{"stopped", qovery.ClusterStatus{Status: qovery.StateStopped}, "already `STOPPED`"},
		{"ready", qovery.ClusterStatus{Status: qovery.StateReady}, "never deployed"},
		{"queued", qovery.ClusterStatus{Status: qovery.StateDeploymentQueued}, "busy: an operation is in progress (`DEPLOYMENT_QUEUED`)"},
		{"stopping", qovery.ClusterStatus{Status: qovery.StateStopping}, "(`STOPPING`)"},
		{"dry run", qovery.ClusterStatus{Status: qovery.StateDryRun}, "(`DRY_RUN`)"},
		{"locked", qovery.ClusterStatus{Status: qovery.StateDeployed, ClusterLock: &qovery.ClusterLock{
			Reason: "load test <now>", OwnerName: "Jane", LockedAt: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC), TTLInDays: &lockTTL}},
			"Locked by Jane since 2026-11-26 09:30 UTC: “load test <now>” (lock TTL 2 days)"},
		{"deleted", qovery.ClusterStatus{Status: qovery.StateDeleted}, "a state from which the bot does not stop clusters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.q.statuses = []qovery.ClusterStatus{tc.status}
			reply, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "stop staging"})
			if err != nil {
				t.Fatalf("Handle error = %v", err)
			}
			if reply.Confirm != nil {
				t.Fatalf("Handle offered a confirmation for a %s cluster", tc.status.Status)
			}
			if !strings.Contains(reply.Text, tc.want) {
				t.Errorf("reply = %q; want it to contain %q", reply.Text, tc.want)
			}
		})
	}
}

func TestStopHappyPath(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	if op.Phase != PhasePending || op.StatusAtRequest != qovery.StateDeployed || op.ExpiresAt.Sub(op.RequestedAt) != 10*time.Minute {
		t.Fatalf("pending op = %+v", op)
	}
	// Confirmation re-read, then the watch reads: stale DEPLOYED, STOP_QUEUED, STOPPING, STOPPED.
	f.q.script(qovery.StateDeployed, qovery.StateDeployed, qovery.StateStopQueued, qovery.StateStopping, qovery.StateStopped)
	reply, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"})
	if err != nil || reply.Watch == nil || reply.Text != "" {
		t.Fatalf("Confirm = %+v, %v; want a watch and no text", reply, err)
	}
	if f.q.stopCalls != 1 {
		t.Fatalf("stop calls = %d; want 1", f.q.stopCalls)
	}
	if err := f.watch(t.Context(), op.ID); err != nil {
		t.Fatalf("Watch = %v", err)
	}
	wantKinds := []EventKind{EventConfirmed, EventAccepted, EventState, EventSucceeded}
	if got := f.n.kinds(); !equal(got, wantKinds) {
		t.Errorf("events = %v; want %v", got, wantKinds)
	}
	// STOP_QUEUED was already reported by the accepted event; the stale DEPLOYED reads say nothing.
	if got := f.n.states(); !equal(got, []qovery.State{qovery.StateStopping}) {
		t.Errorf("state events = %v; want [STOPPING]", got)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseSucceeded || got.State != qovery.StateStopped || got.ConfirmedBy != "U1" || got.LastExecutionID != "exec-1" {
		t.Errorf("final op = %+v", got)
	}
}

func TestConfirmOnce(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	_, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U3"})
	var denied *DeniedError
	if !errors.As(err, &denied) || denied.Reason != DenyUser || !strings.Contains(denied.Msg.String(), "(U3) to `QOVERY_BOT_ALLOWED_USERS`") {
		t.Fatalf("Confirm by a user who is not allowed = %v; want a denial naming the variable and the user id", err)
	}
	if f.q.stopCalls != 0 || len(f.n.kinds()) != 0 {
		t.Fatalf("a refused click called stop %d times and notified %v", f.q.stopCalls, f.n.kinds())
	}

	// Two allowed people click at once: exactly one stop call.
	var wg sync.WaitGroup
	replies := make([]reply, 2)
	for i, user := range []string{"U1", "U2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], _ = f.confirm(t, tclick{Ref: op.Ref(), UserID: user})
		}()
	}
	wg.Wait()
	if f.q.stopCalls != 1 {
		t.Fatalf("stop calls after a double click = %d; want 1", f.q.stopCalls)
	}
	watches, refusals := 0, 0
	for _, r := range replies {
		if r.Watch != nil {
			watches++
		}
		if strings.Contains(r.Text, "Already confirmed by <@U") && strings.Contains(r.Text, "at 21:00 UTC") {
			refusals++
		}
	}
	if watches != 1 || refusals != 1 {
		t.Fatalf("replies = %+v; want one watch and one 'already confirmed'", replies)
	}
	// Cancel after confirm changes nothing.
	reply, _ := f.cancel(t, tclick{Ref: op.Ref(), UserID: "U1"})
	if !strings.Contains(reply.Text, "Already confirmed") {
		t.Errorf("Cancel after confirm = %q", reply.Text)
	}
}

func TestAuthorization(t *testing.T) {
	for _, tc := range []struct {
		name        string
		policy      Policy
		user, chan_ string
		wantReason  string // "" = allowed
	}{
		{"nothing configured", Policy{}, "U1", "C1", DenyNotConfigured},
		{"listed user", Policy{Users: []string{"U1"}}, "U1", "C1", ""},
		{"unlisted user", Policy{Users: []string{"U1"}}, "U9", "C1", DenyUser},
		{"everyone", Policy{AllowEveryone: true}, "U9", "C1", ""},
		{"group member", Policy{Groups: []string{"S1"}}, "U5", "C1", ""},
		{"not a group member", Policy{Groups: []string{"S1"}}, "U6", "C1", DenyUser},
		{"group lookup fails closed", Policy{Groups: []string{"broken"}}, "U5", "C1", DenyGroupLookup},
		{"failed lookup, allowed by another group", Policy{Groups: []string{"broken", "S1"}}, "U5", "C1", ""},
		{"allowed channel", Policy{AllowEveryone: true, Channels: []string{"C1"}}, "U1", "C1", ""},
		{"other channel", Policy{AllowEveryone: true, Channels: []string{"C1"}}, "U1", "C2", DenyChannel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.h.cfg.Policy = tc.policy
			reply, err := f.handle(t, tRequest{UserID: tc.user, ChannelID: tc.chan_, Text: "stop staging"})
			var denied *DeniedError
			if tc.wantReason == "" {
				if err != nil || reply.Confirm == nil {
					t.Fatalf("Handle = %+v, %v; want a confirmation", reply, err)
				}
				return
			}
			if !errors.As(err, &denied) || denied.Reason != tc.wantReason {
				t.Fatalf("Handle error = %v; want a denial %q", err, tc.wantReason)
			}
			if msg, _ := userText(err); msg == "" || strings.Contains(msg, "slack:") {
				t.Errorf("denial message %q", msg)
			}
			// Read-only verbs stay open.
			if _, err := f.handle(t, tRequest{UserID: tc.user, ChannelID: tc.chan_, Text: "status staging"}); err != nil {
				t.Errorf("status denied: %v", err)
			}
		})
	}
}

func TestProtectedClusterNeedsTypedNameAndFourEyes(t *testing.T) {
	f := newFixture(t)
	f.h.cfg.Policy.FourEyes = true
	f.q.clusters = append(f.q.clusters, qovery.Cluster{ID: uuid.New(), Name: "prod-payments", CloudProvider: "AWS", Region: "eu-west-3"})
	for i, name := range []string{"production-eu", "prod-payments"} {
		op := f.requestStop(t, name)
		if !op.Protected {
			t.Fatalf("%s is not protected", name)
		}
		// The requester may not confirm under four-eyes, but may cancel.
		_, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"})
		var denied *DeniedError
		if !errors.As(err, &denied) || denied.Reason != DenyFourEyes || !strings.Contains(denied.Msg.String(), "needs a second person") {
			t.Fatalf("requester's confirm of %s = %v; want four-eyes denial", name, err)
		}
		reply, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U2"})
		if err != nil || reply.TypeName == nil || reply.TypeName.Value != op.Ref().String() || f.q.stopCalls != i {
			t.Fatalf("second person's click = %+v, %v; want a request to type the name, no stop call", reply, err)
		}
		if p := f.typedNameProblem(t, op.Ref(), strings.ToUpper(name)); !strings.Contains(p, "Type "+name+" exactly") {
			t.Errorf("wrong typed name problem = %q", p)
		}
		if p := f.typedNameProblem(t, ActionRef{OperationID: op.ID, ClusterID: uuid.New()}, name); !strings.Contains(p, "unknown") {
			t.Errorf("forged ref problem = %q", p)
		}
		if p := f.typedNameProblem(t, op.Ref(), " "+name+" "); p != "" {
			t.Errorf("right name refused: %q", p)
		}
		if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U2", Typed: true, TypedName: "nope"}); !errors.As(err, &denied) {
			t.Errorf("confirm with a wrong typed name = %v; want a denial", err)
		}
		f.q.script(qovery.StateDeployed)
		reply, err = f.confirm(t, tclick{Ref: op.Ref(), UserID: "U2", Typed: true, TypedName: name})
		if err != nil || reply.Watch == nil || reply.Watch.ConfirmedBy != "U2" {
			t.Fatalf("typed confirm = %+v, %v; want a watch confirmed by U2", reply, err)
		}
	}
	if f.q.stopCalls != 2 {
		t.Errorf("stop calls = %d; want 2", f.q.stopCalls)
	}
	// Unprotected clusters need neither.
	op := f.requestStop(t, "staging")
	if op.Protected {
		t.Fatal("staging is protected")
	}
	if reply, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil || reply.Watch == nil {
		t.Fatalf("requester confirm of an unprotected cluster = %+v, %v", reply, err)
	}
}

func TestForgedReferencesAreRefused(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	for _, ref := range []ActionRef{
		{OperationID: uuid.New(), ClusterID: op.ClusterID}, // unknown request
		{OperationID: op.ID, ClusterID: uuid.New()},        // another cluster
	} {
		_, err := f.confirm(t, tclick{Ref: ref, UserID: "U1"})
		var denied *DeniedError
		if !errors.As(err, &denied) || denied.Reason != "unknown_request" {
			t.Errorf("Confirm(%v) = %v; want unknown_request", ref, err)
		}
	}
	if f.q.stopCalls != 0 {
		t.Errorf("forged clicks made %d stop calls", f.q.stopCalls)
	}
}

func TestParseActionRef(t *testing.T) {
	ref := ActionRef{OperationID: uuid.New(), ClusterID: uuid.New()}
	if got, err := ParseActionRef(ref.String()); err != nil || got != ref {
		t.Fatalf("round trip = %v, %v; want %v", got, err, ref)
	}
	for _, bad := range []string{
		"", ":", ref.OperationID.String(), ref.String() + ":x", strings.ToUpper(ref.String()),
		"{" + ref.OperationID.String() + "}:" + ref.ClusterID.String(),
		uuid.Nil.String() + ":" + ref.ClusterID.String(),
		ref.String()[:40],
	} {
		if _, err := ParseActionRef(bad); !errors.Is(err, ErrBadActionRef) {
			t.Errorf("ParseActionRef(%q) = %v; want ErrBadActionRef", bad, err)
		}
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	if reply, err := f.cancel(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil || reply.Text != "" {
		t.Fatalf("Cancel = %+v, %v", reply, err)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseCancelled || got.FinishedBy != "U1" {
		t.Fatalf("op after cancel = %+v", got)
	}
	if k := f.n.kinds(); !equal(k, []EventKind{EventCancelled}) {
		t.Fatalf("events = %v; want [cancelled]", k)
	}
	reply, _ := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"})
	if !strings.Contains(reply.Text, "already cancelled by <@U1>") || f.q.stopCalls != 0 {
		t.Fatalf("Confirm after cancel = %q with %d stop calls", reply.Text, f.q.stopCalls)
	}
	// The cluster is free again.
	f.requestStop(t, "staging")
}

func TestOneActiveOperationPerCluster(t *testing.T) {
	f := newFixture(t)
	f.requestStop(t, "staging")
	reply, err := f.handle(t, tRequest{UserID: "U2", ChannelID: "C2", Text: "stop staging"})
	if err != nil || reply.Confirm != nil || !strings.Contains(reply.Text, "waiting for confirmation (requested by <@U1> in <#C1>: <https://fake.slack.com/archives/C1/p1700000000000100|follow it there>)") {
		t.Fatalf("second stop = %+v, %v; want a pointer to the first", reply, err)
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	f.clock.Advance(10 * time.Minute)
	reply, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"})
	if err != nil || !strings.Contains(reply.Text, "expired") || f.q.stopCalls != 0 {
		t.Fatalf("late Confirm = %+v, %v, %d stop calls; want an expiry and no call", reply, err, f.q.stopCalls)
	}
	if k := f.n.kinds(); !equal(k, []EventKind{EventExpired}) {
		t.Fatalf("events = %v; want [expired]", k)
	}

	// Expired without a click: the sweep removes the buttons.
	op2 := f.requestStop(t, "staging-us")
	if n, _ := f.h.ExpireDue(t.Context()); n != 0 {
		t.Fatalf("ExpireDue before the TTL expired %d", n)
	}
	f.clock.Advance(11 * time.Minute)
	if n, _ := f.h.ExpireDue(t.Context()); n != 1 {
		t.Fatalf("ExpireDue after the TTL expired %d; want 1", n)
	}
	got, _ := f.h.Operation(t.Context(), op2.ID)
	if got.Phase != PhaseExpired {
		t.Fatalf("phase = %s; want expired", got.Phase)
	}
}

func TestConfirmVoidWhenStatusChanged(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	f.q.script(qovery.StateStopped)
	reply, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"})
	if err != nil || reply.Watch != nil || f.q.stopCalls != 0 {
		t.Fatalf("Confirm = %+v, %v, %d stop calls; want void without a call", reply, err, f.q.stopCalls)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseVoid || !strings.Contains(got.Note.String(), "already `STOPPED`") {
		t.Fatalf("op = %+v; want void explaining the cluster is stopped", got)
	}
}

func TestStopCallFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stopErr   error
		after     qovery.State // status read after the failed call
		wantPhase Phase
		wantNote  string
		wantErr   bool
	}{
		{"409 already stopped", &qovery.Error{StatusCode: 409}, qovery.StateStopped, PhaseVoid, "already `STOPPED`", false},
		{"409 busy", &qovery.Error{StatusCode: 409}, qovery.StateDeploying, PhaseRejected, "an operation is in progress", false},
		{"503 but accepted", &qovery.Error{StatusCode: 503}, qovery.StateStopQueued, PhaseWatching, "", false},
		{"timeout, not accepted", context.DeadlineExceeded, qovery.StateDeployed, PhaseRejected, "Qovery is unavailable", true},
		{"403", &qovery.Error{StatusCode: 403}, qovery.StateDeployed, PhaseRejected, "refused access (403)", true},
		{"401", &qovery.Error{StatusCode: 401}, qovery.StateDeployed, PhaseRejected, "`QOVERY_API_TOKEN`", true},
		{"400 with detail", &qovery.Error{StatusCode: 400, Message: "bad <thing>"}, qovery.StateDeployed, PhaseRejected, "answered 400 when the bot tried to stop the cluster: bad <thing>", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			op := f.requestStop(t, "staging")
			f.q.script(qovery.StateDeployed, tc.after)
			f.q.stopErr = tc.stopErr
			_, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Confirm error = %v; want error %v", err, tc.wantErr)
			}
			if f.q.stopCalls != 1 {
				t.Fatalf("stop calls = %d; want exactly 1 (never retried)", f.q.stopCalls)
			}
			got, _ := f.h.Operation(t.Context(), op.ID)
			if got.Phase != tc.wantPhase || !strings.Contains(got.Note.String(), tc.wantNote) {
				t.Fatalf("op phase %s note %q; want %s containing %q", got.Phase, got.Note, tc.wantPhase, tc.wantNote)
			}
		})
	}
}

func TestWatchOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		script     []qovery.State
		advance    time.Duration // clock step per Notify-free poll is not needed: set once before Watch
		wantPhase  Phase
		wantStates []qovery.State
	}{
		{"stop error", []qovery.State{qovery.StateStopping, qovery.StateStopError}, 0, PhaseFailed, []qovery.State{qovery.StateStopping}},
		{"invalid credentials", []qovery.State{qovery.StateInvalidCredentials}, 0, PhaseFailed, nil},
		{"deleted", []qovery.State{qovery.StateStopping, qovery.StateDeleting}, 0, PhaseFailed, []qovery.State{qovery.StateStopping}},
		{"unknown state shown, then stopped", []qovery.State{"PAUSING_SOFTLY", qovery.StateStopped}, 0, PhaseSucceeded, []qovery.State{"PAUSING_SOFTLY"}},
		{"stale past grace", []qovery.State{qovery.StateDeployed}, 3 * time.Minute, PhaseNotStarted, nil},
		{"timeout", []qovery.State{qovery.StateStopping}, 2 * time.Hour, PhaseTimedOut, []qovery.State{qovery.StateStopping}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			op := f.requestStop(t, "staging")
			f.q.script(append([]qovery.State{qovery.StateDeployed}, tc.script...)...)
			if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(tc.advance)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := f.watch(ctx, op.ID); err != nil {
				t.Fatalf("Watch = %v", err)
			}
			got, _ := f.h.Operation(t.Context(), op.ID)
			if got.Phase != tc.wantPhase {
				t.Errorf("phase = %s; want %s", got.Phase, tc.wantPhase)
			}
			if s := f.n.states(); !equal(s, tc.wantStates) {
				t.Errorf("state events = %v; want %v", s, tc.wantStates)
			}
			if k := f.n.kinds(); !k[len(k)-1].IsFinal() {
				t.Errorf("last event %s is not final", k[len(k)-1])
			}
		})
	}
}

func TestWatchAbortsOnShutdownAndOn401(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	f.q.script(qovery.StateDeployed, qovery.StateStopping)
	if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := f.watch(ctx, op.ID); !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch on a cancelled context = %v; want context.Canceled", err)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseAborted || !strings.Contains(got.Note.String(), "shutting down") {
		t.Fatalf("op = %+v; want aborted with a shutdown note", got)
	}

	f = newFixture(t)
	op = f.requestStop(t, "staging")
	f.q.script(qovery.StateDeployed)
	if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	f.q.statusErr = &qovery.Error{StatusCode: 401}
	if err := f.watch(t.Context(), op.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseAborted || !strings.Contains(got.Note.String(), "`QOVERY_API_TOKEN`") {
		t.Fatalf("op = %+v; want aborted naming QOVERY_API_TOKEN", got)
	}
}

func TestReadOnlyVerbs(t *testing.T) {
	f := newFixture(t)
	reply, err := f.handle(t, tRequest{Text: "list"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*4 clusters*", "`<!channel>`", "`production-eu` · `UNKNOWN` · AWS eu-west-3 · production"} {
		if !strings.Contains(reply.Text, want) {
			t.Errorf("list reply = %q; want it to contain %q", reply.Text, want)
		}
	}
	reply, err = f.handle(t, tRequest{Text: "status staging"})
	if err != nil || !strings.Contains(reply.Text, "*staging* is `DEPLOYED`") || !strings.Contains(reply.Text, "https://console.qovery.com/organization/"+orgID.String()+"/cluster/"+stagingID.String()) {
		t.Fatalf("status reply = %q, %v", reply.Text, err)
	}
	reply, _ = f.handle(t, tRequest{Text: ""})
	if !strings.Contains(reply.Text, "/qovery stop <cluster>") {
		t.Fatalf("help = %q", reply.Text)
	}
	f.q.statusErr = &qovery.Error{StatusCode: 500}
	_, err = f.handle(t, tRequest{Text: "status production-eu"}) // staging's is cached
	if msg, expected := userText(err); !expected || !strings.Contains(msg, "Qovery is unavailable right now") {
		t.Fatalf("status on a 500 = %q; want the unavailable message", msg)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClickBeforeAttachLocatesTheMessage(t *testing.T) {
	f := newFixture(t)
	// The click overtakes the recording of the confirmation message: it carries the message's
	// location itself.
	f.n.duringPost = func(op Operation) {
		if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1", ChannelID: "C1", MessageTS: postTS}); err != nil {
			t.Error(err)
		}
	}
	reply, err := f.handle(t, tRequest{ID: uuid.New(), UserID: "U1", ChannelID: "C1", Text: "stop staging"})
	if err != nil || reply.Confirm == nil || reply.Confirm.Phase != PhaseWatching {
		t.Fatalf("Handle = %+v, %v; want the request confirmed while its message was posted", reply, err)
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if len(f.n.ops) == 0 {
		t.Fatal("nothing notified")
	}
	for _, op := range f.n.ops {
		if op.MessageTS != postTS {
			t.Errorf("%s notified without the message ts", op.Phase)
		}
	}
}

func TestWatchReportsALastingOutageOnce(t *testing.T) {
	f := newFixture(t)
	f.h.cfg.OutageNotice = 2 * time.Minute
	op := f.requestStop(t, "staging")
	f.q.script(qovery.StateDeployed, qovery.StateStopping)
	if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.h.Operation(t.Context(), op.ID)
	w := &watch{h: f.h, op: stored, upSince: stored.AcceptedAt}
	poll := func() {
		t.Helper()
		st, err := f.q.ClusterStatus(t.Context(), orgID, stored.ClusterID)
		if done, err := w.observe(t.Context(), st, err); done || err != nil {
			t.Fatalf("poll = %v, %v; want the watch to go on", done, err)
		}
	}
	poll() // STOPPING
	f.q.statusErr = &qovery.Error{StatusCode: 503}
	for range 5 { // a minute of failures: nothing said
		f.clock.Advance(12 * time.Second)
		poll()
	}
	for range 10 { // past two minutes: said once
		f.clock.Advance(12 * time.Second)
		poll()
	}
	f.q.statusErr = nil
	f.clock.Advance(12 * time.Second)
	poll() // back
	poll()
	var notes []EventKind
	for _, k := range f.n.kinds() {
		if k == EventQoveryUnreachable || k == EventQoveryBack {
			notes = append(notes, k)
		}
	}
	if !equal(notes, []EventKind{EventQoveryUnreachable, EventQoveryBack}) {
		t.Errorf("outage notes = %v; want one unreachable and one back", notes)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.OutageNoted || !got.OutageSince.IsZero() || got.Phase != PhaseWatching {
		t.Errorf("op after recovery = %+v", got)
	}
}

func TestStartLifecycle(t *testing.T) {
	f := newFixture(t)
	// Refused while running.
	reply, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "start staging"})
	if err != nil || reply.Confirm != nil || !strings.Contains(reply.Text, "is already `DEPLOYED`. Nothing to start.") {
		t.Fatalf("start of a running cluster = %+v, %v", reply, err)
	}
	f.q.script(qovery.StateStopped)
	reply, err = f.handle(t, tRequest{ID: uuid.New(), UserID: "U1", ChannelID: "C1", Text: "start staging"})
	if err != nil || reply.Confirm == nil || reply.Confirm.Action() != VerbStart {
		t.Fatalf("start of a stopped cluster = %+v, %v", reply, err)
	}
	op := *reply.Confirm
	// Confirmation re-read, then a stale STOPPED, then the deploy phase.
	f.q.script(qovery.StateStopped, qovery.StateStopped, qovery.StateDeploying, qovery.StateDeployed)
	reply, err = f.confirm(t, tclick{Ref: op.Ref(), UserID: "U2"})
	if err != nil || reply.Watch == nil {
		t.Fatalf("Confirm = %+v, %v", reply, err)
	}
	if f.q.deployCalls != 1 || f.q.stopCalls != 0 {
		t.Fatalf("calls: %d deploy, %d stop; want 1 deploy", f.q.deployCalls, f.q.stopCalls)
	}
	if err := f.watch(t.Context(), op.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseSucceeded || got.State != qovery.StateDeployed {
		t.Fatalf("start ended %s in %s; want succeeded in DEPLOYED", got.Phase, got.State)
	}
	if s := f.n.states(); !equal(s, []qovery.State{qovery.StateDeploying}) {
		t.Errorf("state events = %v; want [DEPLOYING] (the stale STOPPED said nothing)", s)
	}
	// The follow-up of a successful start is a stop request.
	f.q.script(qovery.StateDeployed)
	reply, err = f.followUp(t, tclick{Ref: op.Ref(), UserID: "U2"})
	if err != nil || reply.Confirm == nil || reply.Confirm.Action() != VerbStop || reply.Confirm.RequestedBy != "U2" {
		t.Fatalf("FollowUp = %+v, %v; want a stop request by U2", reply, err)
	}
}

func TestStartFailsOnDeploymentError(t *testing.T) {
	f := newFixture(t)
	f.q.script(qovery.StateStopped)
	reply, _ := f.handle(t, tRequest{ID: uuid.New(), UserID: "U1", ChannelID: "C1", Text: "start staging"})
	op := *reply.Confirm
	f.q.script(qovery.StateStopped, qovery.StateDeploying, qovery.StateDeploymentError)
	if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.watch(t.Context(), op.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseFailed || !strings.Contains(got.Note.String(), "Qovery could not start the cluster") {
		t.Fatalf("op = %s %q; want failed explaining the start", got.Phase, got.Note)
	}
}

// A request whose confirmation was never posted holds its cluster only until its TTL: then it
// expires (audited, nothing shown) and settles, and the cluster is free again.
func TestUnpostedRequestExpires(t *testing.T) {
	f := newFixture(t)
	// Recorded, never posted: the process died between the two.
	now := f.clock.Now()
	op := Operation{ID: uuid.New(), Verb: VerbStop, OrganizationID: orgID, ClusterID: stagingID, ClusterName: "staging",
		RequestedBy: "U1", ChannelID: "C1", RequestedAt: now, ExpiresAt: now.Add(10 * time.Minute), Phase: PhasePending}
	if err := f.h.store.Create(t.Context(), op); err != nil {
		t.Fatal(err)
	}
	busy, err := f.handle(t, tRequest{UserID: "U2", ChannelID: "C2", Text: "stop staging"})
	if err != nil || !strings.Contains(busy.Text, "has not been posted") || !strings.Contains(busy.Text, "lapses at 21:10 UTC") {
		t.Fatalf("second stop = %+v, %v; want to hear that the first was never posted and when it lapses", busy, err)
	}
	f.clock.Advance(10 * time.Minute)
	if n, err := f.h.ExpireDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("ExpireDue = %d, %v; want 1", n, err)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseExpired || !got.Settled() {
		t.Fatalf("operation = %s, settled %v; want expired and settled", got.Phase, got.Settled())
	}
	if k := f.n.kinds(); !equal(k, []EventKind{EventExpired}) {
		t.Fatalf("events = %v; want [expired]", k)
	}
	again, err := f.handle(t, tRequest{UserID: "U2", ChannelID: "C2", Text: "stop staging"})
	if err != nil || again.Confirm == nil {
		t.Fatalf("stop after the expiry = %+v, %v; want a confirmation", again, err)
	}

	// Its message shows up after all (a post held up past the TTL): it is edited to say how the
	// request ended.
	if err := f.h.attach(t.Context(), op.ID, "C1", "1700000000.000200"); err != nil {
		t.Fatal(err)
	}
	if k := f.n.kinds(); !equal(k, []EventKind{EventExpired, EventExpired}) {
		t.Fatalf("events = %v; want the expiry shown once more, in its message", k)
	}
	if last := f.n.ops[len(f.n.ops)-1]; last.MessageTS != "1700000000.000200" {
		t.Fatalf("expiry shown in message %q; want the late one", last.MessageTS)
	}
}

// A confirmation the chat cannot post withdraws its request, so that it does not hold the cluster,
// and the requester learns why.
func TestUnpostableConfirmationIsWithdrawn(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"not in channel", fmt.Errorf("%w (not_in_channel)", ErrCannotPost), "Invite it with `/invite @Qovery`"},
		{"chat down", errors.New("connection refused"), "could not post the confirmation message, so nothing will be stopped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.n.postErr = tc.err
			r, err := f.handle(t, tRequest{ID: uuid.New(), UserID: "U1", ChannelID: "C1", Text: "stop staging"})
			if msg, _ := userText(err); !strings.Contains(msg, tc.want) {
				t.Fatalf("answer = %q (%v); want %q", msg, err, tc.want)
			}
			if r.Confirm == nil || r.Confirm.Phase != PhaseDiscarded {
				t.Fatalf("request = %+v; want it withdrawn", r.Confirm)
			}
			f.n.postErr = nil
			if again := f.requestStop(t, "staging"); again.Phase != PhasePending {
				t.Fatalf("next stop = %s; want pending", again.Phase)
			}
		})
	}
}

// Run owns the watches of accepted operations: a confirmed stop is watched to its end without
// anyone calling for it, and when Run's context ends, a watch that nothing will resume (the store
// does not outlive the process) tells its thread, and Run returns only once it has.
func TestRunOwnsTheWatches(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.h.Run(ctx) }()

	op := f.requestStop(t, "staging")
	f.q.script(qovery.StateDeployed, qovery.StateStopping) // held in STOPPING
	if r, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil || r.Watch == nil {
		t.Fatalf("confirm = %+v, %v; want it watched", r, err)
	}
	for deadline := time.Now().Add(10 * time.Second); !f.h.Busy() || !equal(f.n.states(), []qovery.State{qovery.StateStopping}); {
		if time.Now().After(deadline) {
			t.Fatalf("the watch never reported STOPPING: events %v", f.n.kinds())
		}
		runtime.Gosched() // the watch sees STOPPING within a few polls of a millisecond
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if f.h.Busy() {
		t.Error("Run returned with a watch still running")
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	if got.Phase != PhaseAborted || !strings.Contains(got.Note.String(), "stopped watching because it is shutting down") {
		t.Fatalf("operation after shutdown = %s %q; want aborted, its thread told", got.Phase, got.Note)
	}
	if k := f.n.kinds(); k[len(k)-1] != EventAborted {
		t.Errorf("events = %v; want the abort shown last", k)
	}
	// A stop accepted after Run ended is not watched, and its thread is told.
	f.q.script(qovery.StateDeployed)
	op2 := f.requestStop(t, "staging-us")
	if _, err := f.confirm(t, tclick{Ref: op2.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.h.Operation(t.Context(), op2.ID); got.Phase != PhaseAborted {
		t.Errorf("stop accepted after Run ended = %s; want aborted", got.Phase)
	}
}
