package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore/pgtest"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/storetest"
)

// database returns the URL of a fresh schema of the test database (see [pgtest.Database]).
func database(t *testing.T) string {
	t.Helper()
	return pgtest.Database(t)
}

// open opens a store at url and closes it when the test ends.
func open(t *testing.T, url string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open = %v; want nil", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) commands.Store { return open(t, database(t)) })
}

func TestEnvelopes(t *testing.T) {
	storetest.RunEnvelopes(t, func(t *testing.T) storetest.EnvelopeLog { return open(t, database(t)) })
}

// replicas opens n stores on one fresh schema: n replicas of the bot sharing a database.
func replicas(t *testing.T, n int) []*pgstore.Store {
	t.Helper()
	db := database(t)
	stores := make([]*pgstore.Store, n)
	for i := range stores {
		stores[i] = open(t, db)
	}
	return stores
}

func pending(cluster uuid.UUID) commands.Operation {
	return commands.Operation{ID: uuid.New(), ClusterID: cluster, ClusterName: "production", RequestedAt: time.Now(), Phase: commands.PhasePending}
}

// TestRacingConfirmAcrossReplicas clicks Confirm on one request through two replicas at once,
// many times: exactly one click must win each time.
func TestRacingConfirmAcrossReplicas(t *testing.T) {
	stores := replicas(t, 2)
	for range 20 {
		op := pending(uuid.New())
		if err := stores[0].Create(t.Context(), op); err != nil {
			t.Fatalf("Create = %v; want nil", err)
		}
		winner := storetest.RaceToConfirm(t, []commands.Store{stores[0], stores[1]}, op.ID)
		for _, s := range stores {
			got, err := s.Get(t.Context(), op.ID)
			if err != nil || got.Phase != commands.PhaseConfirmed || got.ConfirmedBy != winner {
				t.Fatalf("Get(%s) = %s by %q, %v; want %s by %q", op.ID, got.Phase, got.ConfirmedBy, err, commands.PhaseConfirmed, winner)
			}
		}
	}
}

// TestOneActivePerClusterAcrossReplicas creates operations on one cluster through several
// replicas at once: exactly one must be created, and every other refused with a *BusyError
// naming it.
func TestOneActivePerClusterAcrossReplicas(t *testing.T) {
	stores := replicas(t, 3)
	for range 10 {
		cluster := uuid.New()
		const n = 9
		ops := make([]commands.Operation, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			ops[i] = pending(cluster)
			wg.Go(func() {
				<-start
				errs[i] = stores[i%len(stores)].Create(t.Context(), ops[i])
			})
		}
		close(start)
		wg.Wait()
		var winner uuid.UUID
		for i, err := range errs {
			if err == nil {
				if winner != uuid.Nil {
					t.Fatalf("both %s and %s created on cluster %s; want exactly one", winner, ops[i].ID, cluster)
				}
				winner = ops[i].ID
			}
		}
		if winner == uuid.Nil {
			t.Fatalf("no Create succeeded on cluster %s (errors %v); want exactly one", cluster, errs)
		}
		for i, err := range errs {
			if err == nil {
				continue
			}
			busy, ok := errors.AsType[*commands.BusyError](err)
			if !ok || busy.Existing.ID != winner {
				t.Errorf("Create(%s) = %v; want a *BusyError for %s", ops[i].ID, err, winner)
			}
		}
		active, err := stores[1].Active(t.Context())
		if err != nil || len(active) != 1 || active[0].ID != winner {
			t.Fatalf("Active() = %d operations, %v; want only %s", len(active), err, winner)
		}
		// Finish it, so that the next round starts with no active operation.
		if _, err := stores[2].Update(t.Context(), winner, nil, func(op *commands.Operation) error {
			op.Phase = commands.PhaseCancelled
			return nil
		}); err != nil {
			t.Fatalf("Update = %v; want nil", err)
		}
	}
}

// TestMigrations opens a database several times, some at once as replicas starting together do:
// every Open must succeed, and the schema be migrated once.
func TestMigrations(t *testing.T) {
	db := database(t)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := pgstore.Open(t.Context(), db)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open = %v; want nil", err)
		}
	}
	s := open(t, db)
	op := pending(uuid.New())
	if err := s.Create(t.Context(), op); err != nil {
		t.Fatalf("Create = %v; want nil", err)
	}
	s.Close()
	// Reopening keeps the data and applies nothing again.
	s = open(t, db)
	if _, err := s.Get(t.Context(), op.ID); err != nil {
		t.Errorf("Get after reopening = %v; want nil", err)
	}

	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var count, version int
	if err := conn.QueryRow(t.Context(), "SELECT count(*), max(version) FROM schema_migrations").Scan(&count, &version); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if count != pgstore.SchemaVersion() || version != pgstore.SchemaVersion() {
		t.Errorf("schema_migrations has %d rows up to version %d; want %d up to %d", count, version, pgstore.SchemaVersion(), pgstore.SchemaVersion())
	}

	// A database a newer release migrated further still opens: its migrations are additive.
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version) VALUES (1000)"); err != nil {
		t.Fatalf("insert a newer version: %v", err)
	}
	open(t, db)
}

func TestOpenBadURL(t *testing.T) {
	const secret = "s3cr3t-password"
	_, err := pgstore.Open(t.Context(), "postgres://bot:"+secret+"@127.0.0.1:1/db?sslmode=nonsense")
	if err == nil {
		t.Fatalf("Open(bad URL) = nil; want an error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("Open(bad URL) = %q; want the password left out", err)
	}
}

// TestUpdateKeepsIndexes covers what the contract leaves open but the constraint needs: an Update
// may not make an operation active on a held cluster, nor change its id.
func TestUpdateKeepsIndexes(t *testing.T) {
	ctx := t.Context()
	s := open(t, database(t))
	holder := pending(uuid.New())
	done := pending(holder.ClusterID)
	done.Phase = commands.PhaseSucceeded
	for _, op := range []commands.Operation{done, holder} {
		if err := s.Create(ctx, op); err != nil {
			t.Fatalf("Create = %v; want nil", err)
		}
	}
	_, err := s.Update(ctx, done.ID, nil, func(op *commands.Operation) error {
		op.Phase = commands.PhasePending
		return nil
	})
	if busy, ok := errors.AsType[*commands.BusyError](err); !ok || busy.Existing.ID != holder.ID {
		t.Errorf("Update(reactivate on a held cluster) = %v; want a *BusyError for %s", err, holder.ID)
	}
	if _, err := s.Update(ctx, done.ID, nil, func(op *commands.Operation) error {
		op.ID = uuid.New()
		return nil
	}); err == nil {
		t.Errorf("Update(change the id) = nil; want an error")
	}
	if got, err := s.Get(ctx, done.ID); err != nil || got.Phase != done.Phase {
		t.Errorf("Get after the refused Updates = %s, %v; want %s, nil", got.Phase, err, done.Phase)
	}
}

func TestPrune(t *testing.T) {
	ctx := t.Context()
	s := open(t, database(t))
	cutoff := time.Now().Add(-24 * time.Hour)
	mk := func(phase commands.Phase, finished time.Time, notice commands.NoticeState) commands.Operation {
		op := pending(uuid.New())
		op.Phase = phase
		op.FinishedAt = finished
		op.Notices = []commands.Notice{{Seq: 1, State: notice}}
		return op
	}
	old := cutoff.Add(-time.Hour)
	oldSettled := mk(commands.PhaseSucceeded, old, commands.NoticePosted)
	oldNoFinish := mk(commands.PhaseDiscarded, time.Time{}, commands.NoticeAbandoned)
	oldUnsettled := mk(commands.PhaseFailed, old, commands.NoticePending)
	oldActive := mk(commands.PhaseWatching, time.Time{}, commands.NoticePosted)
	recent := mk(commands.PhaseCancelled, time.Now(), commands.NoticePosted)
	for _, op := range []commands.Operation{oldSettled, oldNoFinish, oldUnsettled, oldActive, recent} {
		if err := s.Create(ctx, op); err != nil {
			t.Fatalf("Create = %v; want nil", err)
		}
	}
	if n, err := s.Prune(ctx, cutoff); err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2, nil", n, err)
	}
	for _, tc := range []struct {
		op   commands.Operation
		kept bool
	}{{oldSettled, false}, {oldNoFinish, false}, {oldUnsettled, true}, {oldActive, true}, {recent, true}} {
		_, err := s.Get(ctx, tc.op.ID)
		if tc.kept && err != nil {
			t.Errorf("Get(%s, %s) after Prune = %v; want it kept", tc.op.ID, tc.op.Phase, err)
		}
		if !tc.kept && !errors.Is(err, commands.ErrNotFound) {
			t.Errorf("Get(%s, %s) after Prune = %v; want ErrNotFound", tc.op.ID, tc.op.Phase, err)
		}
	}
	if n, err := s.Prune(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
	}
}

func TestSeeEnvelopeEmptyID(t *testing.T) {
	s := open(t, database(t))
	if _, err := s.SeeEnvelope(t.Context(), ""); err == nil {
		t.Errorf(`SeeEnvelope("") = nil; want an error`)
	}
}

func TestCanceledContext(t *testing.T) {
	s := open(t, database(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Create(ctx, pending(uuid.New())); !errors.Is(err, context.Canceled) {
		t.Errorf("Create(canceled context) = %v; want context.Canceled", err)
	}
}

func TestScheduleContract(t *testing.T) {
	storetest.RunSchedules(t, func(t *testing.T) commands.ScheduleStore { return open(t, database(t)) })
}
