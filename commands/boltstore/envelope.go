package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SeeEnvelope records the Slack envelope id and reports whether it was new, so that an envelope
// Slack delivers again, even after a restart, is acted on once. It remembers the most recent ids
// first seen, up to the capacity set by [WithEnvelopeCapacity]; seeing an id again does not make
// it more recent.
func (s *Store) SeeEnvelope(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if id == "" {
		return false, errors.New("see envelope: empty id")
	}
	fresh := false
	err := s.db.Batch(func(tx *bolt.Tx) error {
		fresh = false
		ids, seqs := tx.Bucket([]byte(bucketEnvelopes)), tx.Bucket([]byte(bucketEnvelopeSeq))
		if ids.Get([]byte(id)) != nil {
			return nil
		}
		seq, err := seqs.NextSequence()
		if err != nil {
			return err
		}
		k := binary.BigEndian.AppendUint64(nil, seq)
		if err := ids.Put([]byte(id), k); err != nil {
			return err
		}
		if err := seqs.Put(k, []byte(id)); err != nil {
			return err
		}
		fresh = true
		return trimEnvelopes(ids, seqs, seq, s.envelopeCapacity)
	})
	if err != nil {
		return false, fmt.Errorf("see envelope %q: %w", id, err)
	}
	return fresh, nil
}

// trimEnvelopes forgets the ids older than the capacity most recent, newest being the sequence
// number of the most recent. Sequence numbers are big-endian keys, so the oldest come first and
// trimming reads only what it deletes: usually one entry.
func trimEnvelopes(ids, seqs *bolt.Bucket, newest uint64, capacity int) error {
	if newest <= uint64(capacity) {
		return nil
	}
	last := newest - uint64(capacity) // the most recent sequence number to forget
	c := seqs.Cursor()
	for k, v := c.First(); k != nil && binary.BigEndian.Uint64(k) <= last; k, v = c.First() {
		if err := ids.Delete(v); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
