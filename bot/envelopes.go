package bot

import (
	"context"
	"sync"
)

// envelopeSet remembers the most recent envelope ids, so that an envelope Slack delivers twice is
// acted on once. It forgets the oldest id beyond its capacity.
type envelopeSet struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
	next  int
}

func newEnvelopeSet(capacity int) *envelopeSet {
	return &envelopeSet{ids: make(map[string]struct{}, capacity), order: make([]string, capacity)}
}

// SeeEnvelope implements EnvelopeLog.
func (s *envelopeSet) SeeEnvelope(_ context.Context, id string) (bool, error) { return s.add(id), nil }

// add records id and reports whether it was new.
func (s *envelopeSet) add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	if old := s.order[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.order[s.next] = id
	s.next = (s.next + 1) % len(s.order)
	s.ids[id] = struct{}{}
	return true
}
