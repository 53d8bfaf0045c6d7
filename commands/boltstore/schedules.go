package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// Schedules live in two buckets, added to files of the same schema version (the buckets are
// created when missing, and older bots ignore them):
//   - schedules: schedule id → the schedule (JSON);
//   - occurrences: commands.OccurrenceKey → its outcome, one key per occurrence dealt with.
const (
	bucketSchedules   = "schedules"
	bucketOccurrences = "occurrences"
)

var _ commands.ScheduleStore = (*Store)(nil)

// AddSchedule implements [commands.ScheduleStore].
func (s *Store) AddSchedule(ctx context.Context, r commands.ScheduleRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode schedule %s: %w", r.ID, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSchedules))
		if b.Get([]byte(r.ID)) != nil {
			return commands.ErrScheduleExists
		}
		return b.Put([]byte(r.ID), raw)
	})
}

// Schedules implements [commands.ScheduleStore].
func (s *Store) Schedules(ctx context.Context) ([]commands.ScheduleRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	list := []commands.ScheduleRecord{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSchedules)).ForEach(func(k, v []byte) error {
			var r commands.ScheduleRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode schedule %s: %w", k, err)
			}
			list = append(list, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	commands.SortSchedules(list)
	return list, nil
}

// RemoveSchedule implements [commands.ScheduleStore].
func (s *Store) RemoveSchedule(ctx context.Context, id string) (commands.ScheduleRecord, error) {
	if err := ctx.Err(); err != nil {
		return commands.ScheduleRecord{}, err
	}
	var r commands.ScheduleRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if r, err = getSchedule(tx, id); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketSchedules)).Delete([]byte(id))
	})
	return r, err
}

// getSchedule reads schedule id in tx; commands.ErrNotFound when there is none.
func getSchedule(tx *bolt.Tx, id string) (commands.ScheduleRecord, error) {
	var r commands.ScheduleRecord
	raw := tx.Bucket([]byte(bucketSchedules)).Get([]byte(id))
	if raw == nil {
		return r, commands.ErrNotFound
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("decode schedule %s: %w", id, err)
	}
	return r, nil
}

// UpdateSchedule implements [commands.ScheduleStore] in one write transaction.
func (s *Store) UpdateSchedule(ctx context.Context, id string, fn func(*commands.ScheduleRecord) error) (commands.ScheduleRecord, error) {
	if err := ctx.Err(); err != nil {
		return commands.ScheduleRecord{}, err
	}
	var r commands.ScheduleRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if r, err = getSchedule(tx, id); err != nil {
			return err
		}
		next := r
		if err := fn(&next); err != nil {
			return err
		}
		enc, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("encode schedule %s: %w", id, err)
		}
		r = next
		return tx.Bucket([]byte(bucketSchedules)).Put([]byte(id), enc)
	})
	return r, err
}

// ClaimOccurrence implements [commands.ScheduleStore]: the write transaction makes the check and
// the record one step.
func (s *Store) ClaimOccurrence(ctx context.Context, id string, at time.Time, outcome string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	won := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		won = false
		b := tx.Bucket([]byte(bucketOccurrences))
		key := []byte(commands.OccurrenceKey(id, at))
		if b.Get(key) != nil {
			return nil
		}
		won = true
		return b.Put(key, []byte(outcome))
	})
	return won, err
}

// Occurrence implements [commands.ScheduleStore].
func (s *Store) Occurrence(ctx context.Context, id string, at time.Time) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var outcome []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		outcome = append([]byte(nil), tx.Bucket([]byte(bucketOccurrences)).Get([]byte(commands.OccurrenceKey(id, at)))...)
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(outcome) == 0 {
		return "", commands.ErrNotFound
	}
	return string(outcome), nil
}

// PruneOccurrences implements [commands.ScheduleStore].
func (s *Store) PruneOccurrences(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketOccurrences))
		var doomed [][]byte
		err := b.ForEach(func(k, _ []byte) error {
			if _, at, ok := commands.ParseOccurrenceKey(string(k)); ok && at.Before(before) {
				doomed = append(doomed, append([]byte(nil), k...)) // keys live only as long as the transaction
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune occurrences before %s: %w", before.Format(time.RFC3339), err)
	}
	return n, nil
}
