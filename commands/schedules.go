package commands

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// ScheduleRecord is a schedule as the store keeps it: who made it, where, and when it runs.
type ScheduleRecord struct {
	// ID is short, for people to type (`/qovery unschedule 3f2a9c1e`).
	ID          string
	Verb        Verb
	ClusterID   uuid.UUID
	ClusterName string
	// Hour and Minute are the time of day in Zone (an IANA name), on Days.
	Hour, Minute int
	Days         Days
	Zone         string
	CreatedBy    string
	ChannelID    string
	CreatedAt    time.Time
	// State is pending while the creation waits for its confirmation (the message at MessageTS,
	// actionable until ExpiresAt), then active: only active schedules run.
	State     ScheduleState
	MessageTS string
	ExpiresAt time.Time
	// Protected is set when the cluster's name had to be typed to create the schedule; Production
	// when Qovery marks the cluster production (which protects it).
	Protected, Production bool
	// ConfirmedBy is who clicked Create schedule, at ActiveSince: occurrences before then never run.
	ConfirmedBy string
	ActiveSince time.Time
}

// ScheduleState is where a schedule stands.
type ScheduleState string

// The states of a [ScheduleRecord].
const (
	SchedulePending   ScheduleState = "pending"
	ScheduleActive    ScheduleState = "active"
	ScheduleCancelled ScheduleState = "cancelled" // ended before it was created: removed soon after
	ScheduleExpired   ScheduleState = "expired"   // nobody confirmed it in time: removed soon after
)

// Occurrence outcomes: what became of one run of a schedule.
const (
	OccurrenceRun     = "run"
	OccurrenceSkipped = "skipped"
	OccurrenceMissed  = "missed"
)

// ErrScheduleExists means a schedule with that id is already kept.
var ErrScheduleExists = errors.New("a schedule with this id exists")

// ScheduleStore keeps schedules and what became of each of their occurrences, so that an
// occurrence is dealt with once across restarts and replicas. The three stores implement it.
type ScheduleStore interface {
	// AddSchedule keeps a new schedule; [ErrScheduleExists] when its id is taken.
	AddSchedule(ctx context.Context, s ScheduleRecord) error
	// Schedules lists the schedules, oldest first.
	Schedules(ctx context.Context) ([]ScheduleRecord, error)
	// RemoveSchedule removes a schedule and returns it; [ErrNotFound] when there is none.
	RemoveSchedule(ctx context.Context, id string) (ScheduleRecord, error)
	// UpdateSchedule applies fn to the stored schedule atomically and stores the result, unless fn
	// returns an error, which it returns with the schedule unchanged; [ErrNotFound] when there is
	// none. Like [Store.Update], fn may run again on a fresher copy.
	UpdateSchedule(ctx context.Context, id string, fn func(*ScheduleRecord) error) (ScheduleRecord, error)
	// ClaimOccurrence records outcome for the occurrence at of schedule id and reports true, or
	// reports false when that occurrence was already claimed: of racing claimers, exactly one
	// wins.
	ClaimOccurrence(ctx context.Context, id string, at time.Time, outcome string) (bool, error)
	// Occurrence returns the outcome the occurrence at of schedule id was claimed with;
	// [ErrNotFound] when it was not claimed.
	Occurrence(ctx context.Context, id string, at time.Time) (string, error)
	// PruneOccurrences forgets the occurrences (heads-ups included) before before and returns how
	// many; the scheduler never looks back further than a day, so old ones only take room.
	PruneOccurrences(ctx context.Context, before time.Time) (int, error)
}

// SortSchedules orders schedules oldest first, then by id, as the stores list them.
func SortSchedules(s []ScheduleRecord) {
	slices.SortFunc(s, func(a, b ScheduleRecord) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// OccurrenceKey names an occurrence of a schedule in the stores: the schedule's id and the
// occurrence's instant, in UTC to the second.
func OccurrenceKey(id string, at time.Time) string {
	return id + "@" + at.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// memorySchedules is the [ScheduleStore] part of [MemoryStore].
type memorySchedules struct {
	mu        sync.Mutex
	schedules map[string]ScheduleRecord
	claimed   map[string]string
}

var _ ScheduleStore = (*MemoryStore)(nil)

// AddSchedule implements [ScheduleStore].
func (s *MemoryStore) AddSchedule(_ context.Context, r ScheduleRecord) error {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	if s.sched.schedules == nil {
		s.sched.schedules, s.sched.claimed = map[string]ScheduleRecord{}, map[string]string{}
	}
	if _, ok := s.sched.schedules[r.ID]; ok {
		return ErrScheduleExists
	}
	s.sched.schedules[r.ID] = r
	return nil
}

// Schedules implements [ScheduleStore].
func (s *MemoryStore) Schedules(context.Context) ([]ScheduleRecord, error) {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	list := make([]ScheduleRecord, 0, len(s.sched.schedules))
	for _, r := range s.sched.schedules {
		list = append(list, r)
	}
	SortSchedules(list)
	return list, nil
}

// RemoveSchedule implements [ScheduleStore].
func (s *MemoryStore) RemoveSchedule(_ context.Context, id string) (ScheduleRecord, error) {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	r, ok := s.sched.schedules[id]
	if !ok {
		return ScheduleRecord{}, ErrNotFound
	}
	delete(s.sched.schedules, id)
	return r, nil
}

// UpdateSchedule implements [ScheduleStore].
func (s *MemoryStore) UpdateSchedule(_ context.Context, id string, fn func(*ScheduleRecord) error) (ScheduleRecord, error) {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	r, ok := s.sched.schedules[id]
	if !ok {
		return ScheduleRecord{}, ErrNotFound
	}
	next := r
	if err := fn(&next); err != nil {
		return r, err
	}
	s.sched.schedules[id] = next
	return next, nil
}

// ClaimOccurrence implements [ScheduleStore].
func (s *MemoryStore) ClaimOccurrence(_ context.Context, id string, at time.Time, outcome string) (bool, error) {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	if s.sched.claimed == nil {
		s.sched.schedules, s.sched.claimed = map[string]ScheduleRecord{}, map[string]string{}
	}
	key := OccurrenceKey(id, at)
	if _, ok := s.sched.claimed[key]; ok {
		return false, nil
	}
	s.sched.claimed[key] = outcome
	return true, nil
}

// Occurrence implements [ScheduleStore].
func (s *MemoryStore) Occurrence(_ context.Context, id string, at time.Time) (string, error) {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	outcome, ok := s.sched.claimed[OccurrenceKey(id, at)]
	if !ok {
		return "", ErrNotFound
	}
	return outcome, nil
}

// PruneOccurrences implements [ScheduleStore].
func (s *MemoryStore) PruneOccurrences(_ context.Context, before time.Time) (int, error) {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	n := 0
	for key := range s.sched.claimed {
		if _, at, ok := ParseOccurrenceKey(key); ok && at.Before(before) {
			delete(s.sched.claimed, key)
			n++
		}
	}
	return n, nil
}

// ParseOccurrenceKey reads an [OccurrenceKey] back; it accepts only the form OccurrenceKey writes.
func ParseOccurrenceKey(key string) (id string, at time.Time, ok bool) {
	i := strings.LastIndexByte(key, '@')
	if i <= 0 {
		return "", time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339, key[i+1:])
	if err != nil || OccurrenceKey(key[:i], at) != key {
		return "", time.Time{}, false
	}
	return key[:i], at, true
}
