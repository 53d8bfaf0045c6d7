package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

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
