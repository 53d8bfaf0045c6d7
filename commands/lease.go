package commands

import (
	"context"
	"errors"
	"sync"

	"github.com/google/uuid"
)

// Leases gives one replica at a time the right to do a piece of work that must have a single
// owner: watching an organization's clusters (one status poll for the whole fleet), or carrying an
// operation forward (its stop call, its watch, its thread messages). A lease expires unless its
// holder renews it; implementations renew the leases they hand out until they are released, and
// close [Lease.Lost] when a renewal fails. A lone replica uses [LocalLeases]; replicas sharing a
// database use that database's leases, whose fencing counter the store checks on every write made
// under a lease (the fence given to [Store.Update]).
type Leases interface {
	// Acquire takes the named lease if nobody holds it, its holder released it, or its holder
	// stopped renewing it. It returns [ErrLeaseHeld] when another holder has it.
	Acquire(ctx context.Context, name string) (*Lease, error)
	// Held reports which of names someone holds now, this replica included.
	Held(ctx context.Context, names []string) (map[string]bool, error)
	// Released signals, coalesced, that a lease was handed back somewhere in the fleet: work may
	// be waiting for a new owner.
	Released() <-chan struct{}
}

var (
	// ErrLeaseHeld means another holder has the lease.
	ErrLeaseHeld = errors.New("lease held by another replica")
	// ErrLeaseLost means a write was made under a lease that has changed hands since: another
	// replica took the work over, and the write was refused.
	ErrLeaseLost = errors.New("lease lost to another replica")
)

// Lease is the right to one piece of work, until released or lost.
type Lease struct {
	Name string
	// Owner identifies the holder (one id per process run).
	Owner string
	// Fence grows every time the lease changes hands. A store refuses a write made under a lower
	// fence than the lease's current one, so a holder that stalled past its lease cannot undo the
	// work of the replica that took over.
	Fence int64
	// TookOver is set when the lease was taken from a holder that stopped renewing it (a dead or
	// stuck replica) rather than handed back.
	TookOver bool

	// lost ends when the lease is lost or released; a context rather than a channel, so that
	// watches bind to it with context.AfterFunc instead of a goroutine each.
	lost     context.Context
	markLost context.CancelFunc
	release  func(context.Context) error
}

// NewLease returns a lease for an implementation of [Leases] to hand out; release hands it back.
func NewLease(name, owner string, fence int64, tookOver bool, release func(context.Context) error) *Lease {
	lost, markLost := context.WithCancel(context.Background())
	return &Lease{Name: name, Owner: owner, Fence: fence, TookOver: tookOver, lost: lost, markLost: markLost, release: release}
}

// Lost is closed when the lease is lost (its renewal failed) or released.
func (l *Lease) Lost() <-chan struct{} { return l.lost.Done() }

// MarkLost closes Lost. Implementations call it when a renewal fails.
func (l *Lease) MarkLost() { l.markLost() }

// Release hands the lease back at once, so that another replica can take the work without
// waiting for it to expire.
func (l *Lease) Release(ctx context.Context) error {
	l.MarkLost()
	return l.release(ctx)
}

// Lease names.
func watchLeaseName(org uuid.UUID) string    { return "watch/" + org.String() }
func operationLeaseName(id uuid.UUID) string { return "operation/" + id.String() }

// LocalLeases are the [Leases] of a lone replica: held in process memory, never lost, since no
// other process shares the store.
type LocalLeases struct {
	mu   sync.Mutex
	held map[string]*Lease
}

var _ Leases = (*LocalLeases)(nil)

// NewLocalLeases returns leases for a single process.
func NewLocalLeases() *LocalLeases {
	return &LocalLeases{held: map[string]*Lease{}}
}

// Acquire implements [Leases].
func (ls *LocalLeases) Acquire(_ context.Context, name string) (*Lease, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if _, ok := ls.held[name]; ok {
		return nil, ErrLeaseHeld
	}
	// No fence is ever checked: no other process writes to the store.
	var l *Lease
	l = NewLease(name, "local", 1, false, func(context.Context) error {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		if ls.held[name] == l {
			delete(ls.held, name)
		}
		return nil
	})
	ls.held[name] = l
	return l, nil
}

// Held implements [Leases].
func (ls *LocalLeases) Held(_ context.Context, names []string) (map[string]bool, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	held := make(map[string]bool, len(names))
	for _, n := range names {
		if _, ok := ls.held[n]; ok {
			held[n] = true
		}
	}
	return held, nil
}

// Released implements [Leases]. It never fires: in a lone replica, whoever hands a lease back has
// done the work, and nobody else is waiting for it.
func (ls *LocalLeases) Released() <-chan struct{} { return nil }
