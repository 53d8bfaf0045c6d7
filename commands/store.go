package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"
)

// Store keeps operations. Every change goes through Update, a read-modify-write that the store makes
// atomic, so that two clicks racing on one request cannot both win.
type Store interface {
	// Create adds a new active operation. If another active operation holds the same cluster it
	// returns a *BusyError carrying that operation, and stores nothing.
	Create(ctx context.Context, op Operation) error
	// Get returns the operation with that id, or ErrNotFound.
	Get(ctx context.Context, id uuid.UUID) (Operation, error)
	// Update applies fn to the stored operation atomically and stores the result, unless fn returns
	// an error, which Update returns (wrapped or as is) with the operation unchanged. fn may be
	// called again on a fresher copy when another write came first, so it must only change the
	// operation it is given (what it computes for the caller, it sets anew each call).
	//
	// fence, when not nil, is the lease the write is made under: a store that replicas share
	// refuses the write with [ErrLeaseLost] once that lease has changed hands, so that a holder
	// that stalled past its lease cannot undo the work of the replica that took over. A store only
	// one process uses ignores it.
	Update(ctx context.Context, id uuid.UUID, fence *Lease, fn func(*Operation) error) (Operation, error)
	// Active lists the operations whose phase is active.
	Active(ctx context.Context) ([]Operation, error)
	// Unsettled lists the ids of the operations that are not [Operation.Settled]: active, or with
	// notices not yet delivered. They are what [Handler.Run] looks at for work to adopt, every few seconds: ids
	// only, so that looking stays cheap with a thousand operations under way.
	Unsettled(ctx context.Context) ([]uuid.UUID, error)
	// Schedules are kept beside the operations they start.
	ScheduleStore
}

// SortOldestFirst orders operations by request time, then id. Stores list them so: a restart resumes
// the oldest first, which is fairer, and logs compare from one run to the next.
func SortOldestFirst(ops []Operation) {
	slices.SortFunc(ops, func(a, b Operation) int {
		if c := a.RequestedAt.Compare(b.RequestedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
}

// ErrNotFound means no operation has the id asked for.
var ErrNotFound = errors.New("operation not found")

// BusyError means a cluster already has an active operation.
type BusyError struct {
	Existing Operation
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("cluster %s already has operation %s (%s)", e.Existing.ClusterID, e.Existing.ID, e.Existing.Phase)
}

// MemoryStore is a [Store] in process memory. Operations are lost when the process exits.
type MemoryStore struct {
	mu  sync.Mutex
	ops map[uuid.UUID]Operation
	// sched keeps the schedules, apart: schedules and operations never change together.
	sched memorySchedules
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty [MemoryStore].
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{ops: make(map[uuid.UUID]Operation)}
}

// Create implements [Store].
func (s *MemoryStore) Create(_ context.Context, op Operation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ops[op.ID]; ok {
		return fmt.Errorf("create operation %s: id already used", op.ID)
	}
	for _, other := range s.ops {
		if other.ClusterID == op.ClusterID && other.Phase.IsActive() {
			return &BusyError{Existing: other.clone()}
		}
	}
	s.ops[op.ID] = op.clone()
	return nil
}

// Get implements [Store].
func (s *MemoryStore) Get(_ context.Context, id uuid.UUID) (Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.ops[id]
	if !ok {
		return Operation{}, ErrNotFound
	}
	return op.clone(), nil
}

// Update implements [Store].
func (s *MemoryStore) Update(_ context.Context, id uuid.UUID, _ *Lease, fn func(*Operation) error) (Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.ops[id]
	if !ok {
		return Operation{}, ErrNotFound
	}
	next := op.clone()
	if err := fn(&next); err != nil {
		return op.clone(), err
	}
	s.ops[id] = next.clone()
	return next, nil
}

// Unsettled implements [Store].
func (s *MemoryStore) Unsettled(_ context.Context) ([]uuid.UUID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []uuid.UUID
	for id, op := range s.ops {
		if !op.Settled() {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Active implements [Store].
func (s *MemoryStore) Active(_ context.Context) ([]Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ops []Operation
	for _, op := range s.ops {
		if op.Phase.IsActive() {
			ops = append(ops, op.clone())
		}
	}
	SortOldestFirst(ops)
	return ops, nil
}
