package commands

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// otherReplica is the Leases of a fleet in which another replica holds some leases.
type otherReplica struct {
	*LocalLeases
	mu     sync.Mutex
	theirs map[string]bool
}

func newOtherReplica() *otherReplica {
	return &otherReplica{LocalLeases: NewLocalLeases(), theirs: map[string]bool{}}
}

func (o *otherReplica) Acquire(ctx context.Context, name string) (*Lease, error) {
	o.mu.Lock()
	theirs := o.theirs[name]
	o.mu.Unlock()
	if theirs {
		return nil, ErrLeaseHeld
	}
	return o.LocalLeases.Acquire(ctx, name)
}

func (o *otherReplica) Held(ctx context.Context, names []string) (map[string]bool, error) {
	held, err := o.LocalLeases.Held(ctx, names)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range names {
		if o.theirs[n] {
			held[n] = true
		}
	}
	return held, err
}

func (o *otherReplica) set(name string, theirs bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.theirs[name] = theirs
}

// TestOnlyTheWatchingReplicaWatches: while another replica holds the organization's watch lease,
// an accepted stop is left to it; once it hands the lease back, this replica adopts the watch.
func TestOnlyTheWatchingReplicaWatches(t *testing.T) {
	f := newFixture(t)
	fleet := newOtherReplica()
	fleet.set(watchLeaseName(orgID), true)
	f.h.leases = fleet

	op := f.requestStop(t, "staging")
	f.q.script(qovery.StateDeployed, qovery.StateStopping, qovery.StateStopped)
	reply, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"})
	if err != nil || reply.Watch == nil {
		t.Fatalf("Confirm = %+v, %v; want a watch", reply, err)
	}
	if err := f.watch(t.Context(), op.ID); err != nil {
		t.Fatalf("Watch = %v", err)
	}
	if got, _ := f.h.Operation(t.Context(), op.ID); got.Phase != PhaseWatching || got.State != qovery.StateStopQueued {
		t.Fatalf("after Watch on a replica that does not watch: %s %s; want watching STOP_QUEUED, untouched", got.Phase, got.State)
	}
	if f.h.watchesOrganization() {
		t.Fatal("WatchesOrganization = true while another replica holds the lease")
	}
	if w, err := f.h.adopt(t.Context()); err != nil || len(w) != 0 {
		t.Fatalf("Adopt = %d operations, %v; want none to watch here", len(w), err)
	}

	fleet.set(watchLeaseName(orgID), false) // the watching replica shut down
	w, err := f.h.adopt(t.Context())
	if err != nil || len(w) != 1 || w[0].ID != op.ID || !f.h.watchesOrganization() {
		t.Fatalf("Adopt after the hand-back = %v, %v (watches: %v); want the operation", w, err, f.h.watchesOrganization())
	}
	if err := f.watch(t.Context(), op.ID); err != nil {
		t.Fatalf("Watch = %v", err)
	}
	if got, _ := f.h.Operation(t.Context(), op.ID); got.Phase != PhaseSucceeded {
		t.Fatalf("phase = %s; want succeeded", got.Phase)
	}
	if f.q.stopCalls != 1 {
		t.Errorf("stop calls = %d; want 1", f.q.stopCalls)
	}
}

// TestAdoptLeavesWorkItsOwnerCarries: a confirmation whose stop call was not sent is another
// replica's work while its lease is held; once the lease is free (that replica died), it is voided,
// never called blindly.
func TestAdoptLeavesWorkItsOwnerCarries(t *testing.T) {
	f := newFixture(t)
	fleet := newOtherReplica()
	f.h.leases = fleet
	op := f.requestStop(t, "staging")
	fleet.set(operationLeaseName(op.ID), true)
	if _, err := f.h.store.Update(t.Context(), op.ID, nil, func(o *Operation) error {
		o.Phase, o.ConfirmedBy, o.ConfirmedAt = PhaseConfirmed, "U1", f.clock.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.adopt(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.h.Operation(t.Context(), op.ID); got.Phase != PhaseConfirmed {
		t.Fatalf("phase = %s after Adopt while its owner lives; want confirmed, untouched", got.Phase)
	}

	fleet.set(operationLeaseName(op.ID), false)
	if _, err := f.h.adopt(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.h.Operation(t.Context(), op.ID); got.Phase != PhaseVoid {
		t.Fatalf("phase = %s after its owner died; want void", got.Phase)
	}
	if f.q.stopCalls != 0 {
		t.Errorf("stop calls = %d; want none", f.q.stopCalls)
	}
	if got := f.n.kinds(); !equal(got, []EventKind{EventVoided}) {
		t.Errorf("events = %v; want [voided]", got)
	}
}

// TestRefusedNoticeWaitsForItsRetry: a notice Slack refused is tried again by Adopt only once its
// back-off has passed, not at every look.
func TestRefusedNoticeWaitsForItsRetry(t *testing.T) {
	f := newFixture(t)
	op := f.requestStop(t, "staging")
	now := f.clock.Now()
	if _, err := f.h.store.Update(t.Context(), op.ID, nil, func(o *Operation) error {
		o.Phase, o.FinishedAt = PhaseCancelled, now
		o.Notices = []Notice{{Seq: 1, Event: Event{Kind: EventCancelled, At: now}, State: NoticePending, Attempts: 1, RetryAt: now.Add(retryBackoff(1))}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.adopt(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.n.kinds(); len(got) != 0 {
		t.Fatalf("events before the retry time = %v; want none", got)
	}
	f.clock.Advance(retryBackoff(1))
	if _, err := f.h.adopt(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.n.kinds(); !equal(got, []EventKind{EventCancelled}) {
		t.Fatalf("events after the retry time = %v; want [cancelled]", got)
	}
	if got, _ := f.h.Operation(t.Context(), op.ID); !got.Settled() {
		t.Errorf("operation not settled after delivery: %+v", got.Notices)
	}
}

func TestRetryBackoff(t *testing.T) {
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := retryBackoff(i + 1); got != w {
			t.Errorf("retryBackoff(%d) = %v; want %v", i+1, got, w)
		}
	}
}

// TestLocalLeases: a lone replica's leases are exclusive within the process and freed by Release.
func TestLocalLeases(t *testing.T) {
	ls := NewLocalLeases()
	name := operationLeaseName(uuid.New())
	l, err := ls.Acquire(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Acquire(t.Context(), name); err != ErrLeaseHeld {
		t.Fatalf("second Acquire = %v; want ErrLeaseHeld", err)
	}
	if held, _ := ls.Held(t.Context(), []string{name, "other"}); !held[name] || held["other"] {
		t.Fatalf("Held = %v", held)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost():
	default:
		t.Fatal("a released lease is not marked lost to its holder")
	}
	if _, err := ls.Acquire(t.Context(), name); err != nil {
		t.Fatalf("Acquire after Release = %v", err)
	}
}

// countingLeases counts acquisitions and holds each one until released is closed, as a slow
// database would.
type countingLeases struct {
	*LocalLeases
	mu       sync.Mutex
	acquired int
	gate     chan struct{}
}

func (c *countingLeases) Acquire(ctx context.Context, name string) (*Lease, error) {
	<-c.gate
	c.mu.Lock()
	c.acquired++
	c.mu.Unlock()
	return c.LocalLeases.Acquire(ctx, name)
}

// TestCarrierTakesTheLeaseOnce: goroutines of one process giving steps of the same operation at
// once take its lease once, without holding the handler's lock through the (slow) acquisition; the
// steps run one at a time, and the lease is handed back once, after the last.
func TestCarrierTakesTheLeaseOnce(t *testing.T) {
	f := newFixture(t)
	leases := &countingLeases{LocalLeases: NewLocalLeases(), gate: make(chan struct{})}
	f.h.leases = leases
	id := uuid.New()
	const n = 8
	var running, overlaps, ran atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := f.h.carry(id, false, func(l *Lease) {
				if running.Add(1) > 1 {
					overlaps.Add(1)
				}
				if l == nil || l.Name != operationLeaseName(id) {
					t.Errorf("step got lease %+v", l)
				}
				runtime.Gosched()
				running.Add(-1)
				ran.Add(1)
			})
			if err != nil {
				t.Errorf("carry = %v", err)
			}
		})
	}
	// While the acquisition is stuck in the database, the handler's lock is free: the steps queue
	// (enqueue would block for good otherwise), and carries reports the operation being carried.
	queued := func() int {
		f.h.mu.Lock()
		defer f.h.mu.Unlock()
		if c := f.h.carriers[id]; c != nil {
			return len(c.steps)
		}
		return 0
	}
	for deadline := time.Now().Add(10 * time.Second); queued() < n || !f.h.carries(id); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(leases.gate)
			wg.Wait()
			t.Fatalf("%d of %d steps queued within 10s", queued(), n)
		}
	}
	close(leases.gate)
	wg.Wait()
	if leases.acquired != 1 || ran.Load() != n || overlaps.Load() != 0 {
		t.Fatalf("acquisitions = %d, steps run = %d, overlapping = %d; want 1, %d, 0", leases.acquired, ran.Load(), overlaps.Load(), n)
	}
	for deadline := time.Now().Add(10 * time.Second); f.h.carries(id); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the carrier never ended after its last step")
		}
	}
	if held, _ := leases.Held(t.Context(), []string{operationLeaseName(id)}); held[operationLeaseName(id)] {
		t.Error("the lease is still held after the last step")
	}
}

// slowReleases are leases whose hand-back waits for a gate: the moment between a carrier's last
// step and the lease being free.
type slowReleases struct {
	*LocalLeases
	gate chan struct{}
}

func (s *slowReleases) Acquire(ctx context.Context, name string) (*Lease, error) {
	l, err := s.LocalLeases.Acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	return NewLease(l.Name, l.Owner, l.Fence, false, func(ctx context.Context) error {
		<-s.gate
		return l.Release(ctx)
	}), nil
}

// A step given while the carrier hands the lease back (a watch started by the click that got the
// stop accepted, as the click's step ends) runs under the lease taken anew, rather than being told
// another replica holds it.
func TestCarrierStepDuringHandBack(t *testing.T) {
	f := newFixture(t)
	f.h.leases = &slowReleases{LocalLeases: NewLocalLeases(), gate: make(chan struct{})}
	id := uuid.New()
	if err := f.h.carry(id, false, func(*Lease) {}); err != nil {
		t.Fatal(err)
	}
	if !f.h.carries(id) {
		t.Fatal("the carrier ended before handing its lease back")
	}
	got := make(chan error, 1)
	ran := false
	go func() { got <- f.h.carry(id, false, func(*Lease) { ran = true }) }()
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		f.h.mu.Lock()
		queued := f.h.carriers[id] != nil && len(f.h.carriers[id].steps) == 1
		f.h.mu.Unlock()
		if queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second step was never queued")
		}
	}
	close(f.h.leases.(*slowReleases).gate)
	if err := <-got; err != nil || !ran {
		t.Fatalf("a step given during the hand-back: carry = %v, ran = %v; want it run under the lease taken anew", err, ran)
	}
}

// signalledReleases are leases whose hand-back, for an operation's lease, says it began, then
// waits for a gate.
type signalledReleases struct {
	*LocalLeases
	began, gate chan struct{}
}

func (s *signalledReleases) Acquire(ctx context.Context, name string) (*Lease, error) {
	l, err := s.LocalLeases.Acquire(ctx, name)
	if err != nil || !strings.HasPrefix(name, "operation/") {
		return l, err
	}
	return NewLease(l.Name, l.Owner, l.Fence, false, func(ctx context.Context) error {
		s.began <- struct{}{}
		<-s.gate
		return l.Release(ctx)
	}), nil
}

// Run returns only once the carriers have handed their leases back: a shutdown does not leave
// another replica waiting for them to expire.
func TestRunWaitsForCarriersToHandBack(t *testing.T) {
	f := newFixture(t)
	leases := &signalledReleases{LocalLeases: NewLocalLeases(), began: make(chan struct{}, 1), gate: make(chan struct{})}
	f.h.leases = leases
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.h.Run(ctx) }()
	id := uuid.New()
	if err := f.h.carry(id, false, func(*Lease) {}); err != nil {
		t.Fatal(err)
	}
	<-leases.began // the carrier is handing the lease back
	cancel()
	// Run must not return while the hand-back waits at the gate. A wait that sees nothing cannot
	// fail the test spuriously; a Run that does not wait returns within microseconds.
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a carrier was still handing its lease back", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(leases.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f.h.carries(id) {
		t.Error("a carrier is left after Run returned")
	}
}
