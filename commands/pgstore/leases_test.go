package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
)

// runLeases runs ls's renewal and listener until the test ends.
func runLeases(t *testing.T, ls *pgstore.Leases) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = ls.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// eventually retries f every 10 ms until it reports true, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLeaseExclusiveAndHandedBack(t *testing.T) {
	stores := replicas(t, 2)
	a, b := stores[0].Leases("a", time.Minute), stores[1].Leases("b", time.Minute)
	runLeases(t, b) // b listens for handed-back leases
	ctx := t.Context()

	la, err := a.Acquire(ctx, "watch/org")
	if err != nil || la.Fence != 1 || la.TookOver || la.Owner != "a" {
		t.Fatalf("a.Acquire = %+v, %v; want fence 1, not taken over, owner a", la, err)
	}
	if _, err := b.Acquire(ctx, "watch/org"); !errors.Is(err, commands.ErrLeaseHeld) {
		t.Fatalf("b.Acquire of a held lease = %v; want ErrLeaseHeld", err)
	}
	if _, err := a.Acquire(ctx, "watch/org"); !errors.Is(err, commands.ErrLeaseHeld) {
		t.Fatalf("a.Acquire of its own lease again = %v; want ErrLeaseHeld", err)
	}
	held, err := b.Held(ctx, []string{"watch/org", "operation/x"})
	if err != nil || !held["watch/org"] || held["operation/x"] {
		t.Fatalf("Held = %v, %v; want watch/org only", held, err)
	}
	if h, _ := a.Stats(); h["watch"] != 1 {
		t.Fatalf("a.Stats held = %v; want watch: 1", h)
	}

	if err := la.Release(ctx); err != nil {
		t.Fatalf("Release = %v", err)
	}
	select {
	case <-la.Lost():
	default:
		t.Fatal("a released lease is not marked lost to its holder")
	}
	// b hears of it through the database's notification, not by polling.
	select {
	case <-b.Released():
	case <-time.After(10 * time.Second):
		t.Fatal("b was not told that a lease was handed back")
	}
	lb, err := b.Acquire(ctx, "watch/org")
	if err != nil || lb.Fence != 2 || lb.TookOver {
		t.Fatalf("b.Acquire after release = %+v, %v; want fence 2, not taken over (handed back)", lb, err)
	}
	if h, _ := a.Stats(); h["watch"] != 0 {
		t.Fatalf("a.Stats held after release = %v; want none", h)
	}
}

// TestLeaseTakeoverFencesTheFormerHolder lets a lease expire (its holder stopped renewing, as a
// killed replica does), has another replica take it, and checks that the former holder's writes are
// refused from then on while the new holder's go through.
func TestLeaseTakeoverFencesTheFormerHolder(t *testing.T) {
	stores := replicas(t, 2)
	const takeover = 500 * time.Millisecond
	a, b := stores[0].Leases("a", takeover), stores[1].Leases("b", takeover) // a's Run never runs: it renews nothing
	ctx := t.Context()
	op := pending(uuid.New())
	if err := stores[0].Create(ctx, op); err != nil {
		t.Fatal(err)
	}
	name := "operation/" + op.ID.String()
	la, err := a.Acquire(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	write := func(s *pgstore.Store, l *commands.Lease, by string) error {
		_, err := s.Update(ctx, op.ID, l, func(o *commands.Operation) error { o.ConfirmedBy = by; return nil })
		return err
	}
	if err := write(stores[0], la, "a"); err != nil {
		t.Fatalf("write under a live lease = %v; want nil", err)
	}

	var lb *commands.Lease
	eventually(t, 10*time.Second, "b takes the expired lease over", func() bool {
		lb, err = b.Acquire(ctx, name)
		if err != nil && !errors.Is(err, commands.ErrLeaseHeld) {
			t.Fatalf("b.Acquire = %v", err)
		}
		return err == nil
	})
	if !lb.TookOver || lb.Fence != la.Fence+1 {
		t.Fatalf("b's lease = fence %d, took over %v; want fence %d, taken over", lb.Fence, lb.TookOver, la.Fence+1)
	}
	if _, took := b.Stats(); took["operation"] != 1 {
		t.Fatalf("b.Stats took over = %v; want operation: 1", took)
	}
	if err := write(stores[0], la, "a-late"); !errors.Is(err, commands.ErrLeaseLost) {
		t.Fatalf("write under the former lease = %v; want ErrLeaseLost", err)
	}
	if err := write(stores[1], lb, "b"); err != nil {
		t.Fatalf("write under the new lease = %v; want nil", err)
	}
	got, _ := stores[0].Get(ctx, op.ID)
	if got.ConfirmedBy != "b" {
		t.Fatalf("stored ConfirmedBy = %q; want b (a's late write refused)", got.ConfirmedBy)
	}
	// A release by the former holder changes nothing.
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if held, _ := a.Held(ctx, []string{name}); !held[name] {
		t.Fatal("the former holder's release freed the new holder's lease")
	}
}

// TestLeaseRenewal: a running holder keeps its lease past its lifetime; a lease taken from it
// behind its back is reported lost at the next renewal.
func TestLeaseRenewal(t *testing.T) {
	db := database(t)
	// Two seconds, so that renewals delayed by a loaded machine (one comes every fifth of it, and
	// the lease lasts four fifths) do not pass for missing ones.
	const takeover = 2 * time.Second
	a, b := open(t, db).Leases("a", takeover), open(t, db).Leases("b", takeover)
	runLeases(t, a)
	ctx := t.Context()
	la, err := a.Acquire(ctx, "watch/org")
	if err != nil {
		t.Fatal(err)
	}
	// Two lease lifetimes: without renewals b would get it after one.
	for end := time.Now().Add(2 * takeover); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := b.Acquire(ctx, "watch/org"); !errors.Is(err, commands.ErrLeaseHeld) {
			t.Fatalf("b.Acquire of a renewed lease = %v; want ErrLeaseHeld", err)
		}
	}
	// Taken behind a's back (an operator, or a's renewals stalled past expiry): a must notice.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `UPDATE leases SET owner = 'c', fence = fence + 1 WHERE name = 'watch/org'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("a did not notice that it lost its lease")
	}
	if h, _ := a.Stats(); h["watch"] != 0 {
		t.Fatalf("a.Stats held after loss = %v; want none", h)
	}
}

func TestLeasesClose(t *testing.T) {
	stores := replicas(t, 1)
	a := stores[0].Leases("a", time.Minute)
	ctx := t.Context()
	names := []string{"watch/org", "operation/1", "operation/2"}
	for _, n := range names {
		if _, err := a.Acquire(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("Close = %v", err)
	}
	held, err := a.Held(ctx, names)
	if err != nil || len(held) != 0 {
		t.Fatalf("Held after Close = %v, %v; want none", held, err)
	}
}
