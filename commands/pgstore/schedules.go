package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

var _ commands.ScheduleStore = (*Store)(nil)

// AddSchedule implements [commands.ScheduleStore].
func (s *Store) AddSchedule(ctx context.Context, r commands.ScheduleRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode schedule %s: %w", r.ID, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO schedules (id, created_at, body) VALUES ($1, $2, $3)`, r.ID, r.CreatedAt, raw)
	if uniqueViolation(err) != "" {
		return commands.ErrScheduleExists
	}
	if err != nil {
		return fmt.Errorf("add schedule %s: %w", r.ID, err)
	}
	return nil
}

// Schedules implements [commands.ScheduleStore].
func (s *Store) Schedules(ctx context.Context) ([]commands.ScheduleRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT body FROM schedules`)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	list := []commands.ScheduleRecord{}
	for rows.Next() {
		var raw []byte
		var r commands.ScheduleRecord
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("decode a schedule: %w", err)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	commands.SortSchedules(list)
	return list, nil
}

// RemoveSchedule implements [commands.ScheduleStore].
func (s *Store) RemoveSchedule(ctx context.Context, id string) (commands.ScheduleRecord, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `DELETE FROM schedules WHERE id = $1 RETURNING body`, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return commands.ScheduleRecord{}, commands.ErrNotFound
	}
	if err != nil {
		return commands.ScheduleRecord{}, fmt.Errorf("remove schedule %s: %w", id, err)
	}
	var r commands.ScheduleRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return commands.ScheduleRecord{}, fmt.Errorf("decode schedule %s: %w", id, err)
	}
	return r, nil
}

// ClaimOccurrence implements [commands.ScheduleStore]: the primary key makes one insert win.
func (s *Store) ClaimOccurrence(ctx context.Context, id string, at time.Time, outcome string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO schedule_occurrences (schedule_id, occurrence, outcome) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, id, at.UTC().Truncate(time.Second), outcome)
	if err != nil {
		return false, fmt.Errorf("claim occurrence %s: %w", commands.OccurrenceKey(id, at), err)
	}
	return tag.RowsAffected() == 1, nil
}

// UpdateSchedule implements [commands.ScheduleStore]: the row is locked (SELECT … FOR UPDATE)
// from the read to the commit, so that of two racing clicks the second sees what the first wrote.
func (s *Store) UpdateSchedule(ctx context.Context, id string, fn func(*commands.ScheduleRecord) error) (commands.ScheduleRecord, error) {
	var result commands.ScheduleRecord
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT body FROM schedules WHERE id = $1 FOR UPDATE`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return commands.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read schedule %s: %w", id, err)
		}
		var r commands.ScheduleRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode schedule %s: %w", id, err)
		}
		result = r
		next := r
		if err := fn(&next); err != nil {
			return errFn{err}
		}
		enc, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("encode schedule %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE schedules SET body = $2 WHERE id = $1`, id, enc); err != nil {
			return fmt.Errorf("update schedule %s: %w", id, err)
		}
		result = next
		return nil
	})
	var fe errFn
	if errors.As(err, &fe) {
		return result, fe.err
	}
	return result, err
}

// Occurrence implements [commands.ScheduleStore].
func (s *Store) Occurrence(ctx context.Context, id string, at time.Time) (string, error) {
	var outcome string
	err := s.pool.QueryRow(ctx, `SELECT outcome FROM schedule_occurrences WHERE schedule_id = $1 AND occurrence = $2`,
		id, at.UTC().Truncate(time.Second)).Scan(&outcome)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", commands.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read occurrence %s: %w", commands.OccurrenceKey(id, at), err)
	}
	return outcome, nil
}

// PruneOccurrences implements [commands.ScheduleStore].
func (s *Store) PruneOccurrences(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM schedule_occurrences WHERE occurrence < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune occurrences before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}
