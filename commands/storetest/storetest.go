// Package storetest checks that an implementation of [commands.Store] keeps the contract the rest
// of the bot relies on. Like net/http/httptest it is an ordinary package meant for tests: each store
// calls [Run] from its own test, so the in-memory store and the durable ones are held to the same
// behaviour instead of each having its own, slowly diverging, tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Run runs the subtests every [commands.Store] must pass. open returns a new, empty store for the
// subtest it is given; it should register any cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) commands.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s commands.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"RoundTripMinimal", testRoundTripMinimal},
		{"GetUnknown", testGetUnknown},
		{"UpdateUnknown", testUpdateUnknown},
		{"CreateUsedID", testCreateUsedID},
		{"Busy", testBusy},
		{"OtherCluster", testOtherCluster},
		{"FinalFreesCluster", testFinalFreesCluster},
		{"LifecycleHoldsCluster", testLifecycleHoldsCluster},
		{"UpdateFnError", testUpdateFnError},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"RacingConfirm", testRacingConfirm},
		{"ActiveAndUnsettled", testActiveAndUnsettled},
		{"UnsettledFollowsUpdates", testUnsettledFollowsUpdates},
		{"ReturnsCopies", testReturnsCopies},
		{"BusyErrorIsCopy", testBusyErrorIsCopy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

// fixedTime returns distinct instants in a zone other than UTC and with nanoseconds, which is what
// a careless encoding (seconds only, or local time without the offset) would lose.
func fixedTime(minutes int) time.Time {
	zone := time.FixedZone("UTC+5:30", 5*3600+30*60)
	return time.Date(2025, time.March, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(minutes) * time.Minute)
}

// fullOperation returns an operation with every field set, so that a store that drops or mangles a
// field fails the round trip. checkAllSet keeps it honest when Operation grows.
func fullOperation(clusterID uuid.UUID) commands.Operation {
	return commands.Operation{
		ID:                uuid.New(),
		OrganizationID:    uuid.New(),
		ClusterID:         clusterID,
		ClusterName:       "production-eu",
		CloudProvider:     "AWS",
		Region:            "eu-west-3",
		Production:        true,
		Protected:         true,
		NeedsSecondPerson: true,
		StatusAtRequest:   qovery.StateDeployed,
		RequestedBy:       "U0REQUESTER",
		ChannelID:         "C0CHANNEL",
		MessageTS:         "1710425366.000100",
		RequestedAt:       fixedTime(0),
		ExpiresAt:         fixedTime(5),
		Phase:             commands.PhaseWatching,
		ConfirmedBy:       "U0CONFIRMER",
		ConfirmedAt:       fixedTime(1),
		CallHTTPStatus:    202,
		AcceptedAt:        fixedTime(2),
		SeenActionPhase:   true,
		UpSince:           fixedTime(4),
		OutageSince:       fixedTime(5),
		OutageNoted:       true,
		Retryable:         true,
		Verb:              commands.VerbStart,
		State:             qovery.StateStopping,
		LastExecutionID:   "exec-42",
		FinishedAt:        fixedTime(30),
		FinishedBy:        "U0FINISHER",
		Note:              commands.Say(commands.Link("https://example.com/?a=1&b=2", "a <link>"), commands.Strong("stopped"), " with ", commands.Code("care"), " — ünïcode & <escapes> ", commands.User("U1")),
		ConsoleURL:        "https://console.qovery.com/organization/o/clusters/c",
		Call:              commands.CallAnswered,
		Notices: []commands.Notice{
			{Seq: 1, Event: commands.Event{Kind: commands.EventConfirmed, State: qovery.StateDeployed, At: fixedTime(1), Since: fixedTime(0)}, State: commands.NoticePosted, Attempts: 1, RetryAt: fixedTime(3)},
			{Seq: 2, Event: commands.Event{Kind: commands.EventAccepted, State: qovery.StateStopQueued, At: fixedTime(2)}, State: commands.NoticeSending, Attempts: 2},
			{Seq: 3, Event: commands.Event{Kind: commands.EventState, State: qovery.StateStopping, At: fixedTime(3)}, State: commands.NoticePending},
			{Seq: 4, Event: commands.Event{Kind: commands.EventState, State: qovery.StateStopError, At: fixedTime(4)}, State: commands.NoticeAbandoned, Attempts: 5},
		},
	}
}

// newOperation returns a minimal operation in phase on clusterID.
func newOperation(clusterID uuid.UUID, phase commands.Phase) commands.Operation {
	return commands.Operation{
		ID:          uuid.New(),
		ClusterID:   clusterID,
		ClusterName: "cluster-" + clusterID.String()[:8],
		RequestedAt: fixedTime(0),
		Phase:       phase,
	}
}

// checkAllSet fails if v, a struct, has a zero field, looking into structs and the first element
// of slices. A field added to Operation then has to be added to fullOperation, or the round trip
// would silently not cover it.
func checkAllSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.IsZero() {
				t.Errorf("fullOperation: %s is zero; set it so the round trip covers it", path)
			}
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			checkAllSet(t, path+"."+f.Name, v.Field(i))
		}
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("fullOperation: %s is empty; set it so the round trip covers it", path)
			return
		}
		checkAllSet(t, path+"[0]", v.Index(0))
	default:
		if v.IsZero() {
			t.Errorf("fullOperation: %s is zero; set it so the round trip covers it", path)
		}
	}
}

// normalize returns op with every time in UTC without a monotonic reading, and empty slices nil:
// a store need only keep the instant (as time.Time.Equal compares it) and the elements.
func normalize(op commands.Operation) commands.Operation {
	v := reflect.ValueOf(&op).Elem()
	normalizeValue(v)
	return op
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Round(0).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalizeValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		// Copy before normalizing so that the caller's slice is left as it was.
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalizeValue(c.Index(i))
		}
		v.Set(c)
	}
}

// diff lists the fields in which got and want differ, after normalizing both.
func diff(got, want commands.Operation) []string {
	g, w := reflect.ValueOf(normalize(got)), reflect.ValueOf(normalize(want))
	var diffs []string
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			diffs = append(diffs, fmt.Sprintf("%s: got %+v, want %+v", g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface()))
		}
	}
	return diffs
}

// checkEqual fails the test if got and want differ in any field.
func checkEqual(t *testing.T, what string, got, want commands.Operation) {
	t.Helper()
	for _, d := range diff(got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

// mustCreate creates op or fails the test.
func mustCreate(t *testing.T, s commands.Store, op commands.Operation) {
	t.Helper()
	if err := s.Create(t.Context(), op); err != nil {
		t.Fatalf("Create(%s) = %v; want nil", op.ID, err)
	}
}

// mustGet returns the stored operation or fails the test.
func mustGet(t *testing.T, s commands.Store, id uuid.UUID) commands.Operation {
	t.Helper()
	op, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s) = %v; want nil", id, err)
	}
	return op
}

// mustUpdate applies fn or fails the test.
func mustUpdate(t *testing.T, s commands.Store, id uuid.UUID, fn func(*commands.Operation)) commands.Operation {
	t.Helper()
	op, err := s.Update(t.Context(), id, nil, func(op *commands.Operation) error {
		fn(op)
		return nil
	})
	if err != nil {
		t.Fatalf("Update(%s) = %v; want nil", id, err)
	}
	return op
}

// finish moves op to phase with every notice posted, so that it is settled.
func finish(phase commands.Phase) func(*commands.Operation) {
	return func(op *commands.Operation) {
		op.Phase = phase
		op.FinishedAt = fixedTime(10)
		for i := range op.Notices {
			op.Notices[i].State = commands.NoticePosted
		}
	}
}

// ids returns the sorted ids of ops.
func ids(ops []commands.Operation) []string {
	s := make([]string, 0, len(ops))
	for _, op := range ops {
		s = append(s, op.ID.String())
	}
	slices.Sort(s)
	return s
}

// checkLists fails unless Active and Unsettled list exactly the operations given.
func checkLists(t *testing.T, s commands.Store, active, unsettled []commands.Operation) {
	t.Helper()
	gotActive, err := s.Active(t.Context())
	if err != nil {
		t.Fatalf("Active() = %v; want nil", err)
	}
	if got, want := ids(gotActive), ids(active); !slices.Equal(got, want) {
		t.Errorf("Active() ids = %v; want %v", got, want)
	}
	gotUnsettled, err := s.Unsettled(t.Context())
	if err != nil {
		t.Fatalf("Unsettled() = %v; want nil", err)
	}
	got := make([]string, 0, len(gotUnsettled))
	for _, id := range gotUnsettled {
		got = append(got, id.String())
	}
	slices.Sort(got)
	if want := ids(unsettled); !slices.Equal(got, want) {
		t.Errorf("Unsettled() ids = %v; want %v", got, want)
	}
}

func testRoundTrip(t *testing.T, s commands.Store) {
	want := fullOperation(uuid.New())
	checkAllSet(t, "Operation", reflect.ValueOf(want))
	mustCreate(t, s, want)
	checkEqual(t, "Get after Create", mustGet(t, s, want.ID), want)

	// An Update that changes nothing must store and return the operation exactly as it was.
	got := mustUpdate(t, s, want.ID, func(*commands.Operation) {})
	checkEqual(t, "Update(no change) result", got, want)
	checkEqual(t, "Get after Update(no change)", mustGet(t, s, want.ID), want)

	// And one that changes everything it can must store all of it.
	want.Phase = commands.PhaseSucceeded
	want.State = qovery.StateStopped
	want.FinishedAt = fixedTime(31)
	want.Notices = append(want.Notices, commands.Notice{Seq: 5, Event: commands.Event{Kind: commands.EventSucceeded, State: qovery.StateStopped, At: fixedTime(31)}, State: commands.NoticePending})
	got = mustUpdate(t, s, want.ID, func(op *commands.Operation) {
		op.Phase = want.Phase
		op.State = want.State
		op.FinishedAt = want.FinishedAt
		op.Notices = append(op.Notices, want.Notices[len(want.Notices)-1])
	})
	checkEqual(t, "Update result", got, want)
	checkEqual(t, "Get after Update", mustGet(t, s, want.ID), want)
}

func testRoundTripMinimal(t *testing.T, s commands.Store) {
	// Zero times and no notices must come back zero and empty, not as some encoding's idea of
	// "unset" (year 1 in another zone, an empty but non-nil slice is fine).
	want := commands.Operation{ID: uuid.New(), ClusterID: uuid.New(), Phase: commands.PhasePending}
	mustCreate(t, s, want)
	got := mustGet(t, s, want.ID)
	checkEqual(t, "Get", got, want)
	if !got.RequestedAt.IsZero() || !got.FinishedAt.IsZero() {
		t.Errorf("Get: RequestedAt %v, FinishedAt %v; want zero times", got.RequestedAt, got.FinishedAt)
	}
}

func testGetUnknown(t *testing.T, s commands.Store) {
	mustCreate(t, s, newOperation(uuid.New(), commands.PhasePending))
	id := uuid.New()
	if _, err := s.Get(t.Context(), id); !errors.Is(err, commands.ErrNotFound) {
		t.Errorf("Get(unknown) = %v; want ErrNotFound", err)
	}
}

func testUpdateUnknown(t *testing.T, s commands.Store) {
	called := false
	_, err := s.Update(t.Context(), uuid.New(), nil, func(*commands.Operation) error {
		called = true
		return nil
	})
	if !errors.Is(err, commands.ErrNotFound) {
		t.Errorf("Update(unknown) = %v; want ErrNotFound", err)
	}
	if called {
		t.Errorf("Update(unknown) called fn; want it not called")
	}
}

func testCreateUsedID(t *testing.T, s commands.Store) {
	first := newOperation(uuid.New(), commands.PhasePending)
	mustCreate(t, s, first)
	// Another cluster, so that only the id can make it fail.
	second := newOperation(uuid.New(), commands.PhasePending)
	second.ID = first.ID
	if err := s.Create(t.Context(), second); err == nil {
		t.Fatalf("Create(used id) = nil; want an error")
	}
	checkEqual(t, "Get after Create(used id)", mustGet(t, s, first.ID), first)
	checkLists(t, s, []commands.Operation{first}, []commands.Operation{first})
}

func testBusy(t *testing.T, s commands.Store) {
	cluster := uuid.New()
	first := fullOperation(cluster)
	first.Phase = commands.PhasePending
	mustCreate(t, s, first)

	second := newOperation(cluster, commands.PhasePending)
	err := s.Create(t.Context(), second)
	var busy *commands.BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("Create(second on the same cluster) = %v; want a *BusyError", err)
	}
	checkEqual(t, "BusyError.Existing", busy.Existing, first)
	if _, err := s.Get(t.Context(), second.ID); !errors.Is(err, commands.ErrNotFound) {
		t.Errorf("Get(refused operation) = %v; want ErrNotFound: a refused Create stores nothing", err)
	}
	checkLists(t, s, []commands.Operation{first}, []commands.Operation{first})
}

func testOtherCluster(t *testing.T, s commands.Store) {
	first := newOperation(uuid.New(), commands.PhaseWatching)
	second := newOperation(uuid.New(), commands.PhasePending)
	mustCreate(t, s, first)
	mustCreate(t, s, second)
	checkLists(t, s, []commands.Operation{first, second}, []commands.Operation{first, second})
}

func testFinalFreesCluster(t *testing.T, s commands.Store) {
	finals := []commands.Phase{
		commands.PhaseSucceeded, commands.PhaseFailed, commands.PhaseNotStarted, commands.PhaseTimedOut,
		commands.PhaseAborted, commands.PhaseVoid, commands.PhaseRejected, commands.PhaseCancelled,
		commands.PhaseExpired, commands.PhaseDiscarded,
	}
	for _, phase := range finals {
		t.Run(string(phase), func(t *testing.T) {
			cluster := uuid.New()
			first := newOperation(cluster, commands.PhasePending)
			mustCreate(t, s, first)
			mustUpdate(t, s, first.ID, finish(phase))
			next := newOperation(cluster, commands.PhasePending)
			if err := s.Create(t.Context(), next); err != nil {
				t.Errorf("Create after the first became %s = %v; want nil", phase, err)
			}
		})
	}
}

func testLifecycleHoldsCluster(t *testing.T, s commands.Store) {
	cluster := uuid.New()
	op := newOperation(cluster, commands.PhasePending)
	mustCreate(t, s, op)
	for _, phase := range []commands.Phase{commands.PhasePending, commands.PhaseConfirmed, commands.PhaseWatching} {
		op = mustUpdate(t, s, op.ID, func(op *commands.Operation) { op.Phase = phase })
		var busy *commands.BusyError
		if err := s.Create(t.Context(), newOperation(cluster, commands.PhasePending)); !errors.As(err, &busy) || busy.Existing.ID != op.ID {
			t.Fatalf("Create while the first is %s = %v; want a *BusyError for %s", phase, err, op.ID)
		}
	}
	op = mustUpdate(t, s, op.ID, finish(commands.PhaseSucceeded))
	next := newOperation(cluster, commands.PhasePending)
	if err := s.Create(t.Context(), next); err != nil {
		t.Fatalf("Create after the first succeeded = %v; want nil", err)
	}
	checkLists(t, s, []commands.Operation{next}, []commands.Operation{next})
}

func testUpdateFnError(t *testing.T, s commands.Store) {
	want := fullOperation(uuid.New())
	mustCreate(t, s, want)
	errRefused := errors.New("refused")
	got, err := s.Update(t.Context(), want.ID, nil, func(op *commands.Operation) error {
		// Change everything an index depends on before refusing, so that a store which writes
		// before looking at the error, or updates its indexes early, is caught.
		op.Phase = commands.PhaseSucceeded
		op.ClusterID = uuid.New()
		op.Notices[0].State = commands.NoticePending
		op.Notices = append(op.Notices, commands.Notice{Seq: 99})
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Update(fn fails) = %v; want the error fn returned", err)
	}
	checkEqual(t, "Update(fn fails) result", got, want)
	checkEqual(t, "Get after Update(fn fails)", mustGet(t, s, want.ID), want)
	checkLists(t, s, []commands.Operation{want}, []commands.Operation{want})
	var busy *commands.BusyError
	if err := s.Create(t.Context(), newOperation(want.ClusterID, commands.PhasePending)); !errors.As(err, &busy) {
		t.Errorf("Create on the cluster after Update(fn fails) = %v; want a *BusyError: the cluster is still held", err)
	}
}

func testConcurrentUpdates(t *testing.T, s commands.Store) {
	op := newOperation(uuid.New(), commands.PhaseWatching)
	mustCreate(t, s, op)
	const n = 20
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			_, err := s.Update(t.Context(), op.ID, nil, func(op *commands.Operation) error {
				op.Notices = append(op.Notices, commands.Notice{Seq: len(op.Notices) + 1, State: commands.NoticePending})
				return nil
			})
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update = %v; want nil", err)
		}
	}
	got := mustGet(t, s, op.ID)
	seqs := make([]int, 0, len(got.Notices))
	for _, n := range got.Notices {
		seqs = append(seqs, n.Seq)
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(seqs, want) {
		t.Errorf("after %d concurrent appends, notice seqs = %v; want %v (an update was lost or saw a stale copy)", n, seqs, want)
	}
}

func testRacingConfirm(t *testing.T, s commands.Store) {
	op := newOperation(uuid.New(), commands.PhasePending)
	mustCreate(t, s, op)
	winner := RaceToConfirm(t, []commands.Store{s, s}, op.ID)
	got := mustGet(t, s, op.ID)
	if got.Phase != commands.PhaseConfirmed || got.ConfirmedBy != winner {
		t.Errorf("Get: phase %s confirmed by %q; want %s by %q", got.Phase, got.ConfirmedBy, commands.PhaseConfirmed, winner)
	}
}

// RaceToConfirm moves a pending operation to confirmed from one goroutine per store at once, each
// as a different user, with the guard a click uses, and checks that exactly one wins. It returns
// the winner's user id. Passing one store per replica checks exactly-once across replicas.
func RaceToConfirm(t *testing.T, stores []commands.Store, id uuid.UUID) string {
	t.Helper()
	errNotPending := errors.New("not pending")
	errs := make([]error, len(stores))
	user := func(i int) string { return fmt.Sprintf("U%07d", i) }
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			_, errs[i] = s.Update(t.Context(), id, nil, func(op *commands.Operation) error {
				if op.Phase != commands.PhasePending {
					return errNotPending
				}
				op.Phase = commands.PhaseConfirmed
				op.ConfirmedBy = user(i)
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner == "":
			winner = user(i)
		case err == nil:
			t.Fatalf("both %s and %s confirmed %s; want exactly one", winner, user(i), id)
		case !errors.Is(err, errNotPending):
			t.Fatalf("Update by %s = %v; want nil or the guard's error", user(i), err)
		}
	}
	if winner == "" {
		t.Fatalf("no click confirmed %s (errors %v); want exactly one", id, errs)
	}
	return winner
}

func testActiveAndUnsettled(t *testing.T, s commands.Store) {
	active := newOperation(uuid.New(), commands.PhaseWatching)
	active.Notices = []commands.Notice{{Seq: 1, State: commands.NoticePosted}}
	pendingNotice := newOperation(uuid.New(), commands.PhaseSucceeded)
	pendingNotice.Notices = []commands.Notice{{Seq: 1, State: commands.NoticePosted}, {Seq: 2, State: commands.NoticePending}}
	sendingNotice := newOperation(uuid.New(), commands.PhaseFailed)
	sendingNotice.Notices = []commands.Notice{{Seq: 1, State: commands.NoticeSending}}
	settled := newOperation(uuid.New(), commands.PhaseCancelled)
	settled.Notices = []commands.Notice{{Seq: 1, State: commands.NoticePosted}, {Seq: 2, State: commands.NoticePosted}}
	abandoned := newOperation(uuid.New(), commands.PhaseRejected)
	abandoned.Notices = []commands.Notice{{Seq: 1, State: commands.NoticePosted}, {Seq: 2, State: commands.NoticeAbandoned}}
	noNotices := newOperation(uuid.New(), commands.PhaseDiscarded)
	for _, op := range []commands.Operation{active, pendingNotice, sendingNotice, settled, abandoned, noNotices} {
		mustCreate(t, s, op)
	}
	checkLists(t, s, []commands.Operation{active}, []commands.Operation{active, pendingNotice, sendingNotice})

	// Active carries the operations themselves, not just their ids.
	active2, err := s.Active(t.Context())
	if err != nil || len(active2) != 1 {
		t.Fatalf("Active() = %d operations, %v; want 1, nil", len(active2), err)
	}
	checkEqual(t, "Active() element", active2[0], active)
}

func testUnsettledFollowsUpdates(t *testing.T, s commands.Store) {
	op := newOperation(uuid.New(), commands.PhasePending)
	mustCreate(t, s, op)
	checkLists(t, s, []commands.Operation{op}, []commands.Operation{op})

	// Final with a notice to deliver: no longer active, still to resume.
	op = mustUpdate(t, s, op.ID, func(op *commands.Operation) {
		op.Phase = commands.PhaseCancelled
		op.Notices = append(op.Notices, commands.Notice{Seq: 1, Event: commands.Event{Kind: commands.EventCancelled}, State: commands.NoticePending})
	})
	checkLists(t, s, nil, []commands.Operation{op})

	op = mustUpdate(t, s, op.ID, func(op *commands.Operation) { op.Notices[0].State = commands.NoticeSending })
	checkLists(t, s, nil, []commands.Operation{op})

	// Delivered: nothing left to do.
	op = mustUpdate(t, s, op.ID, func(op *commands.Operation) { op.Notices[0].State = commands.NoticePosted })
	checkLists(t, s, nil, nil)

	// A new notice on a settled operation makes it unsettled again.
	op = mustUpdate(t, s, op.ID, func(op *commands.Operation) {
		op.Notices = append(op.Notices, commands.Notice{Seq: 2, State: commands.NoticePending})
	})
	checkLists(t, s, nil, []commands.Operation{op})
}

func testReturnsCopies(t *testing.T, s commands.Store) {
	cluster := uuid.New()
	want := fullOperation(cluster)
	op := want
	op.Notices = slices.Clone(want.Notices)
	mustCreate(t, s, op)
	// The caller keeps its value after Create; changing it must not reach the store.
	op.Notices[0].State = commands.NoticePending
	op.Notices[0].Event.At = fixedTime(100)
	checkEqual(t, "Get after changing the created value", mustGet(t, s, want.ID), want)

	scribble := func(what string, op *commands.Operation) {
		t.Helper()
		if len(op.Notices) == 0 {
			t.Fatalf("%s returned an operation with no notices; want %d", what, len(want.Notices))
		}
		op.Notices[0].Seq = 1000
		op.Notices[len(op.Notices)-1].State = commands.NoticePosted
		op.Notices = append(op.Notices[:1], commands.Notice{Seq: 2000})
		checkEqual(t, "Get after changing what "+what+" returned", mustGet(t, s, want.ID), want)
	}

	got := mustGet(t, s, want.ID)
	scribble("Get", &got)

	var kept *commands.Operation
	got = mustUpdate(t, s, want.ID, func(op *commands.Operation) { kept = op })
	scribble("Update", &got)
	// fn may keep the pointer it was given; what it points at is not the stored operation either.
	scribble("Update's fn argument", kept)

	got, err := s.Update(t.Context(), want.ID, nil, func(*commands.Operation) error { return errors.New("no") })
	if err == nil {
		t.Fatalf("Update(fn fails) = nil; want an error")
	}
	scribble("a failed Update", &got)

	ops, err := s.Active(t.Context())
	if err != nil || len(ops) != 1 {
		t.Fatalf("Active() = %d operations, %v; want 1, nil", len(ops), err)
	}
	scribble("Active", &ops[0])
}

func testBusyErrorIsCopy(t *testing.T, s commands.Store) {
	want := fullOperation(uuid.New())
	mustCreate(t, s, want)
	var busy *commands.BusyError
	if err := s.Create(t.Context(), newOperation(want.ClusterID, commands.PhasePending)); !errors.As(err, &busy) {
		t.Fatalf("Create(same cluster) = %v; want a *BusyError", err)
	}
	busy.Existing.Notices[0].Seq = 1000
	busy.Existing.Notices[1].State = commands.NoticePosted
	checkEqual(t, "Get after changing BusyError.Existing (it must not share memory with the stored operation)", mustGet(t, s, want.ID), want)
}

// EnvelopeLog remembers which Slack envelopes were already handled, so that an envelope Slack
// delivers twice, possibly to another process after a restart, is acted on once.
type EnvelopeLog interface {
	// SeeEnvelope records id and reports whether it was seen for the first time.
	SeeEnvelope(ctx context.Context, id string) (bool, error)
}

// RunEnvelopes runs the subtests every [EnvelopeLog] must pass. open returns a new, empty log for
// the subtest it is given; it should remember at least 100 ids.
func RunEnvelopes(t *testing.T, open func(t *testing.T) EnvelopeLog) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, l EnvelopeLog)
	}{
		{"FirstSightOnly", testFirstSightOnly},
		{"ManyDistinct", testManyDistinct},
		{"Concurrent", testConcurrentSight},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

// see calls SeeEnvelope and checks its answer.
func see(t *testing.T, l EnvelopeLog, id string, want bool) {
	t.Helper()
	got, err := l.SeeEnvelope(t.Context(), id)
	if err != nil {
		t.Fatalf("SeeEnvelope(%q) = %v; want nil", id, err)
	}
	if got != want {
		t.Errorf("SeeEnvelope(%q) = %t; want %t", id, got, want)
	}
}

func testFirstSightOnly(t *testing.T, l EnvelopeLog) {
	see(t, l, "e-1", true)
	see(t, l, "e-1", false)
	see(t, l, "e-1", false)
	see(t, l, "e-2", true)
	see(t, l, "e-1", false)
}

func testManyDistinct(t *testing.T, l EnvelopeLog) {
	const n = 100
	for i := range n {
		see(t, l, fmt.Sprintf("envelope-%03d", i), true)
	}
	see(t, l, fmt.Sprintf("envelope-%03d", n-1), false)
	see(t, l, "envelope-000", false)
}

func testConcurrentSight(t *testing.T, l EnvelopeLog) {
	const n = 10
	start := make(chan struct{})
	type result struct {
		fresh bool
		err   error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			fresh, err := l.SeeEnvelope(t.Context(), "redelivered")
			results <- result{fresh, err}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	fresh := 0
	for r := range results {
		if r.err != nil {
			t.Errorf("SeeEnvelope = %v; want nil", r.err)
		}
		if r.fresh {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of %d concurrent SeeEnvelope calls for one id reported it new; want exactly 1", fresh, n)
	}
}
