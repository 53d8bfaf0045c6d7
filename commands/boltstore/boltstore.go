// Package boltstore is the default durable [commands.Store]: one bbolt file in a data directory,
// so that a restart resumes the operations in flight and never repeats a stop call. One file serves
// one process; several replicas need a shared database instead.
//
// The file holds these buckets:
//
//	meta             schema_version → the layout version, as decimal text
//	operations       operation id → JSON of [commands.Operation]
//	active_clusters  cluster id → id of the active operation holding it
//	unsettled        operation id → nothing, for every operation that is not Settled
//	envelopes        envelope id → its sequence number (8 bytes, big-endian)
//	envelope_seq     sequence number → envelope id, oldest first, for trimming
//	schedules        schedule id → JSON of [commands.ScheduleRecord]
//	occurrences      schedule id@occurrence (UTC, RFC 3339) → what became of it (run, skipped, missed)
//
// Ids are keys in their text form, so that the file can be read with the bbolt command-line tool.
// Every write keeps the indexes in the same transaction as the operation, so that they cannot
// disagree after a crash.
package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// SchemaVersion is the layout of the file this code reads and writes. A file with a newer version
// was written by a newer bot and is refused rather than misread.
const SchemaVersion = 1

// Bucket and key names. They are strings, not []byte variables, so that no package state is
// mutable.
const (
	bucketMeta           = "meta"
	bucketOperations     = "operations"
	bucketActiveClusters = "active_clusters"
	bucketUnsettled      = "unsettled"
	bucketEnvelopes      = "envelopes"
	bucketEnvelopeSeq    = "envelope_seq"
	keySchemaVersion     = "schema_version"
)

const (
	defaultLockTimeout      = time.Second
	defaultEnvelopeCapacity = 10000
)

// Store is a [commands.Store] in a bbolt file. It is safe for concurrent use.
type Store struct {
	db               *bolt.DB
	path             string
	envelopeCapacity int
}

var _ commands.Store = (*Store)(nil)

// options are what [Option]s set.
type options struct {
	lockTimeout      time.Duration
	envelopeCapacity int
}

// Option configures [Open].
type Option func(*options) error

// WithLockTimeout sets how long [Open] waits for the file lock another process holds before giving
// up (default 1s). It must be positive: bbolt would wait forever on zero.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("lock timeout %v: must be positive", d)
		}
		o.lockTimeout = d
		return nil
	}
}

// WithEnvelopeCapacity sets how many envelope ids [Store.SeeEnvelope] remembers (default 10000).
// Slack redelivers an envelope within minutes, so the most recent few thousand are enough.
func WithEnvelopeCapacity(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("envelope capacity %d: must be at least 1", n)
		}
		o.envelopeCapacity = n
		return nil
	}
}

// Open opens the store in the file at path, creating the file and its directory (mode 0700) if
// they are missing. The file is locked for as long as the store is open: a second process opening
// it waits up to the lock timeout (see [WithLockTimeout]) and then fails.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{lockTimeout: defaultLockTimeout, envelopeCapacity: defaultEnvelopeCapacity}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	// 0700 and 0600: the file holds who asked to stop which cluster, and Slack message ids.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: the file is locked by another process (another bot running on the same data directory?); "+
			"one file serves one process only, so to run several replicas set QOVERY_BOT_DATABASE_URL to a shared database instead: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.Update(initialize); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// A lone write waits at most this long for others to share its fsync.
	db.MaxBatchDelay = 2 * time.Millisecond
	return &Store{db: db, path: path, envelopeCapacity: o.envelopeCapacity}, nil
}

// initialize checks the schema version of the file, then creates the buckets a new file lacks.
func initialize(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
	if err != nil {
		return err
	}
	if raw := meta.Get([]byte(keySchemaVersion)); raw != nil {
		v, err := strconv.Atoi(string(raw))
		switch {
		case err != nil || v < 1:
			return fmt.Errorf("schema version %q is not valid: the file is not a bot store, or is damaged", raw)
		case v > SchemaVersion:
			return fmt.Errorf("schema version %d is newer than this bot understands (%d): the file was written by a newer version of the bot; run that version, or move the file aside", v, SchemaVersion)
		}
	} else if err := meta.Put([]byte(keySchemaVersion), []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return err
	}
	for _, name := range []string{bucketOperations, bucketActiveClusters, bucketUnsettled, bucketEnvelopes, bucketEnvelopeSeq,
		bucketSchedules, bucketOccurrences} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the file and releases its lock.
func (s *Store) Close() error {
	return s.db.Close()
}

// Path is the file the store is in.
func (s *Store) Path() string {
	return s.path
}

// buckets are the buckets of one transaction.
type buckets struct {
	ops, active, unsettled *bolt.Bucket
}

func bucketsOf(tx *bolt.Tx) buckets {
	return buckets{
		ops:       tx.Bucket([]byte(bucketOperations)),
		active:    tx.Bucket([]byte(bucketActiveClusters)),
		unsettled: tx.Bucket([]byte(bucketUnsettled)),
	}
}

// key is the key of an id in every bucket.
func key(id uuid.UUID) []byte {
	return []byte(id.String())
}

// get decodes the operation with id, or returns [commands.ErrNotFound].
func (b buckets) get(id uuid.UUID) (commands.Operation, error) {
	raw := b.ops.Get(key(id))
	if raw == nil {
		return commands.Operation{}, commands.ErrNotFound
	}
	return decode(id, raw)
}

func decode(id uuid.UUID, raw []byte) (commands.Operation, error) {
	var op commands.Operation
	if err := json.Unmarshal(raw, &op); err != nil {
		return commands.Operation{}, fmt.Errorf("decode operation %s: %w", id, err)
	}
	return op, nil
}

func encode(op commands.Operation) ([]byte, error) {
	raw, err := json.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("encode operation %s: %w", op.ID, err)
	}
	return raw, nil
}

// put stores op, encoded as raw, and brings the indexes in line with it. wasActive and oldCluster
// describe the stored version it replaces (false for a new operation). It refuses, with a
// *BusyError, to make op active on a cluster another active operation holds: the uniqueness of
// active operations is kept here, for every write, not only by Create.
func (b buckets) put(op commands.Operation, raw []byte, wasActive bool, oldCluster uuid.UUID) error {
	id := key(op.ID)
	if wasActive {
		if bytes.Equal(b.active.Get(key(oldCluster)), id) {
			if err := b.active.Delete(key(oldCluster)); err != nil {
				return err
			}
		}
	}
	if op.Phase.IsActive() {
		if holder := b.active.Get(key(op.ClusterID)); holder != nil && !bytes.Equal(holder, id) {
			return b.busy(holder)
		}
		if err := b.active.Put(key(op.ClusterID), id); err != nil {
			return err
		}
	}
	if op.Settled() {
		if err := b.unsettled.Delete(id); err != nil {
			return err
		}
	} else if err := b.unsettled.Put(id, []byte{}); err != nil {
		return err
	}
	return b.ops.Put(id, raw)
}

// has reports whether bucket b has key k. Get cannot tell: it returns nil for an empty value
// written in the same transaction, and the unsettled index has only empty values.
func has(b *bolt.Bucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return bytes.Equal(got, k)
}

// busy returns the *BusyError for the operation whose id key is holder.
func (b buckets) busy(holder []byte) error {
	id, err := uuid.ParseBytes(holder)
	if err != nil {
		return fmt.Errorf("index active_clusters holds a bad id %q: %w", holder, err)
	}
	existing, err := b.get(id)
	if err != nil {
		return fmt.Errorf("index active_clusters: %w", err)
	}
	return &commands.BusyError{Existing: existing}
}

// Create implements [commands.Store].
func (s *Store) Create(ctx context.Context, op commands.Operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := encode(op)
	if err != nil {
		return fmt.Errorf("create operation %s: %w", op.ID, err)
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		if b.ops.Get(key(op.ID)) != nil {
			return errors.New("id already used")
		}
		// Any op, active or not, is refused on a held cluster, as the memory store does.
		if holder := b.active.Get(key(op.ClusterID)); holder != nil {
			return b.busy(holder)
		}
		return b.put(op, raw, false, uuid.Nil)
	})
	if _, ok := errors.AsType[*commands.BusyError](err); ok || err == nil {
		return err
	}
	return fmt.Errorf("create operation %s: %w", op.ID, err)
}

// Get implements [commands.Store].
func (s *Store) Get(ctx context.Context, id uuid.UUID) (commands.Operation, error) {
	if err := ctx.Err(); err != nil {
		return commands.Operation{}, err
	}
	var op commands.Operation
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		op, err = bucketsOf(tx).get(id)
		return err
	})
	if err != nil {
		return commands.Operation{}, fmt.Errorf("get operation %s: %w", id, err)
	}
	return op, nil
}

// Update implements [commands.Store], as an optimistic read-modify-write: the operation is read and
// decoded, changed by fn and encoded outside any write transaction, so that concurrent updates do
// that work in parallel; the write transaction then stores the result only if the stored bytes are
// still the ones read, and otherwise the whole is done again on what changed meanwhile. Of two
// clicks racing on one request, the second therefore sees what the first wrote. Another process
// cannot write at all, since it cannot open the locked file. fn may run more than once, so it must
// only change the operation it is given; it must not call the store.
//
// Beyond the contract, Update refuses to change the operation's id, and to make it active on a
// cluster another active operation holds (a *BusyError): either would corrupt the indexes.
func (s *Store) Update(ctx context.Context, id uuid.UUID, _ *commands.Lease, fn func(*commands.Operation) error) (commands.Operation, error) {
	for {
		if err := ctx.Err(); err != nil {
			return commands.Operation{}, err
		}
		var read []byte
		err := s.db.View(func(tx *bolt.Tx) error {
			raw := tx.Bucket([]byte(bucketOperations)).Get(key(id))
			if raw == nil {
				return commands.ErrNotFound
			}
			read = bytes.Clone(raw) // bbolt's bytes live only as long as the transaction
			return nil
		})
		if err != nil {
			return commands.Operation{}, fmt.Errorf("update operation %s: %w", id, err)
		}
		op, err := decode(id, read)
		if err != nil {
			return commands.Operation{}, fmt.Errorf("update operation %s: %w", id, err)
		}
		wasActive, oldCluster := op.Phase.IsActive(), op.ClusterID
		if ferr := fn(&op); ferr != nil {
			// fn may have changed op in place: decode the stored version again for the caller.
			stored, err := decode(id, read)
			if err != nil {
				return commands.Operation{}, err
			}
			return stored, ferr
		}
		if op.ID != id {
			return commands.Operation{}, fmt.Errorf("update operation %s: fn changed the id to %s", id, op.ID)
		}
		raw, err := encode(op)
		if err != nil {
			return commands.Operation{}, fmt.Errorf("update operation %s: %w", id, err)
		}
		var changed bool
		// Batch groups the writes of concurrent callers into one transaction and one fsync (when
		// 1,000 watches report STOPPED at once, that is the difference between seconds and
		// milliseconds). It may run this function more than once.
		err = s.db.Batch(func(tx *bolt.Tx) error {
			b := bucketsOf(tx)
			changed = !bytes.Equal(b.ops.Get(key(id)), read)
			if changed {
				return nil // written meanwhile: start again from what is there now
			}
			return b.put(op, raw, wasActive, oldCluster)
		})
		if _, ok := errors.AsType[*commands.BusyError](err); ok {
			return commands.Operation{}, err
		}
		if err != nil {
			return commands.Operation{}, fmt.Errorf("update operation %s: %w", id, err)
		}
		if !changed {
			return op, nil
		}
	}
}

// Active implements [commands.Store]. It reads the active_clusters index rather than every
// operation, and lists the operations oldest request first.
func (s *Store) Active(ctx context.Context) ([]commands.Operation, error) {
	ops, err := s.list(ctx, bucketActiveClusters, func(_, v []byte) []byte { return v })
	if err != nil {
		return nil, fmt.Errorf("list active operations: %w", err)
	}
	return ops, nil
}

// Unsettled implements [commands.Store]. It reads the unsettled index only.
func (s *Store) Unsettled(ctx context.Context) ([]uuid.UUID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketUnsettled)).ForEach(func(k, _ []byte) error {
			id, err := uuid.ParseBytes(k)
			if err != nil {
				return fmt.Errorf("index %s holds a bad id %q: %w", bucketUnsettled, k, err)
			}
			ids = append(ids, id)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list unsettled operations: %w", err)
	}
	return ids, nil
}

// list returns the operations whose ids an index holds, as idOf picks them from its entries.
func (s *Store) list(ctx context.Context, index string, idOf func(k, v []byte) []byte) ([]commands.Operation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ops []commands.Operation
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		return tx.Bucket([]byte(index)).ForEach(func(k, v []byte) error {
			raw := idOf(k, v)
			id, err := uuid.ParseBytes(raw)
			if err != nil {
				return fmt.Errorf("index %s holds a bad id %q: %w", index, raw, err)
			}
			op, err := b.get(id)
			if err != nil {
				return fmt.Errorf("index %s: %w", index, err)
			}
			ops = append(ops, op)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	commands.SortOldestFirst(ops)
	return ops, nil
}

// Prune deletes the settled operations that finished before finishedBefore, so that the file does
// not grow forever, and returns how many it deleted. A settled operation without a FinishedAt
// counts as finished long ago. Operations that are active or still have notices to deliver are
// kept whatever their age.
func (s *Store) Prune(ctx context.Context, finishedBefore time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		var doomed [][]byte
		err := b.ops.ForEach(func(k, v []byte) error {
			// The index spares decoding the operations that must stay anyway.
			if has(b.unsettled, k) {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			var op commands.Operation
			if err := json.Unmarshal(v, &op); err != nil {
				return fmt.Errorf("decode operation %s: %w", k, err)
			}
			if op.Settled() && op.FinishedAt.Before(finishedBefore) {
				// Keys are only valid during the transaction, and deleting while ForEach runs is
				// not allowed: collect copies, delete afterwards.
				doomed = append(doomed, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.ops.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune operations finished before %s: %w", finishedBefore.Format(time.RFC3339), err)
	}
	return n, nil
}
