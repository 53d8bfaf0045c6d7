package pgstore

import (
	"context"
	"errors"
	"fmt"
)

// SeeEnvelope records the Slack envelope id and reports whether it was new, so that an envelope
// Slack delivers again, to any replica, is acted on once. Ids are remembered for a day.
func (s *Store) SeeEnvelope(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if id == "" {
		return false, errors.New("see envelope: empty id")
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO envelopes (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, id)
	if err != nil {
		return false, fmt.Errorf("see envelope %q: %w", id, err)
	}
	fresh := tag.RowsAffected() == 1
	if fresh && s.seen.Add(1)%envelopeTrimEvery == 0 {
		// The id is recorded whatever happens here, and the next trim catches up on a failed one
		// ([Store.Prune] reports its errors): failing the envelope for it would drop a command.
		_ = s.trimEnvelopes(ctx)
	}
	return fresh, nil
}

// trimEnvelopes forgets the envelope ids older than the retention.
func (s *Store) trimEnvelopes(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM envelopes WHERE seen_at < now() - make_interval(secs => $1)`, envelopeRetention.Seconds())
	if err != nil {
		return fmt.Errorf("trim envelopes: %w", err)
	}
	return nil
}
