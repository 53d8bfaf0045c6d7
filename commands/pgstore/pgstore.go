// Package pgstore is a [commands.Store] in PostgreSQL, for running several replicas of the bot
// against one shared database (QOVERY_BOT_DATABASE_URL). It keeps the same contract as the
// embedded store, and makes the database, not the process, enforce what must hold across
// replicas:
//
//   - a state transition is a row-locked read-modify-write (SELECT … FOR UPDATE), so the first
//     click wins whichever replica receives it;
//   - one active operation per cluster is a partial unique index, not a check-then-act;
//   - envelope dedupe is a unique insert.
//
// Operations are stored as JSON of [commands.Operation], beside the few columns the queries and
// constraints need. The schema is versioned in schema_migrations and migrated by [Open]; every
// migration is additive, so that the previous release keeps working on a migrated database during
// a rolling upgrade.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// Constraint names the store maps to errors.
const (
	constraintPrimaryKey   = "operations_pkey"
	constraintActiveHolder = "operations_one_active_per_cluster"
)

// sqlstateUniqueViolation is PostgreSQL's unique_violation.
const sqlstateUniqueViolation = "23505"

// migrationLock is the key of the advisory lock migrations run under, so that replicas starting
// together migrate one after the other. Any constant works; this one spells "qovery-b".
const migrationLock int64 = 0x716f766572792d62

// envelopeRetention is how long [Store.SeeEnvelope] remembers an id. Slack redelivers an envelope
// within minutes.
const envelopeRetention = 24 * time.Hour

// envelopeTrimEvery is how many new envelopes a store records between two trims of the old ones.
const envelopeTrimEvery = 1000

// migrations are the schema, in order: migrations[i] brings the schema to version i+1. They are
// only ever appended to, and each must keep the previous release working (add, never rename or
// drop what it reads).
var migrations = []string{
	1: `
CREATE TABLE operations (
	id          uuid PRIMARY KEY,
	cluster_id  uuid NOT NULL,
	active      boolean NOT NULL,
	settled     boolean NOT NULL,
	finished_at timestamptz,
	body        jsonb NOT NULL
);
CREATE UNIQUE INDEX operations_one_active_per_cluster ON operations (cluster_id) WHERE active;
CREATE INDEX operations_unsettled ON operations (id) WHERE NOT settled;
CREATE INDEX operations_settled_finished ON operations (finished_at) WHERE settled;
CREATE TABLE envelopes (
	id      text PRIMARY KEY,
	seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX envelopes_seen_at ON envelopes (seen_at);
`,
	2: `
CREATE TABLE leases (
	name       text PRIMARY KEY,
	owner      text NOT NULL,
	fence      bigint NOT NULL,
	expires_at timestamptz NOT NULL
);
`,
	3: `
CREATE TABLE schedules (
	id         text PRIMARY KEY,
	created_at timestamptz NOT NULL,
	body       jsonb NOT NULL
);
CREATE TABLE schedule_occurrences (
	schedule_id text NOT NULL,
	occurrence  timestamptz NOT NULL,
	outcome     text NOT NULL,
	PRIMARY KEY (schedule_id, occurrence)
);
`,
}[1:]

// SchemaVersion is the schema version this code migrates the database to.
func SchemaVersion() int {
	return len(migrations)
}

// Store is a [commands.Store] in a PostgreSQL database. It is safe for concurrent use, by
// goroutines and by other processes sharing the database.
type Store struct {
	pool *pgxpool.Pool
	// seen counts the envelopes this store recorded, to trim old ones every envelopeTrimEvery.
	seen atomic.Int64
}

var _ commands.Store = (*Store)(nil)

// Option tunes [Open].
type Option func(*pgxpool.Config)

// WithDialFunc makes every connection to the database through dial (tests cut a replica off the
// network with it, as a killed process would be).
func WithDialFunc(dial pgconn.DialFunc) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.DialFunc = dial }
}

// Open connects to the database at url (a postgres:// URL or key=value string, as libpq takes)
// and migrates its schema to [SchemaVersion]. The schema is created in the first schema of the
// connection's search_path.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	s, err := connect(ctx, url, opts...)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.pool); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// connect returns a store on the database at url, without migrating it.
func connect(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error of ParseConfig may quote the URL, password included: do not wrap it.
		return nil, errors.New("open store: the database URL is not valid")
	}
	for _, opt := range opts {
		opt(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the connections to the database.
func (s *Store) Close() {
	s.pool.Close()
}

// migrate applies the migrations the database lacks, each in its own transaction under an
// advisory lock. A database migrated further by a newer release is left as it is: the migrations
// that release added keep this one working.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	for i, stmt := range migrations {
		version := i + 1
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    integer PRIMARY KEY,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
				return err
			}
			var applied bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&applied); err != nil {
				return err
			}
			if applied {
				return nil
			}
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", version, err)
		}
	}
	return nil
}

// row is the columns of an operation.
type row struct {
	clusterID  uuid.UUID
	active     bool
	settled    bool
	finishedAt *time.Time
	body       string
}

func rowOf(op commands.Operation) (row, error) {
	raw, err := json.Marshal(op)
	if err != nil {
		return row{}, fmt.Errorf("encode operation %s: %w", op.ID, err)
	}
	r := row{clusterID: op.ClusterID, active: op.Phase.IsActive(), settled: op.Settled(), body: string(raw)}
	if !op.FinishedAt.IsZero() {
		t := op.FinishedAt
		r.finishedAt = &t
	}
	return r, nil
}

func decode(id uuid.UUID, raw []byte) (commands.Operation, error) {
	var op commands.Operation
	if err := json.Unmarshal(raw, &op); err != nil {
		return commands.Operation{}, fmt.Errorf("decode operation %s: %w", id, err)
	}
	return op, nil
}

// uniqueViolation returns the constraint a unique violation broke, or "" for any other error.
func uniqueViolation(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == sqlstateUniqueViolation {
		return pgErr.ConstraintName
	}
	return ""
}

// querier is what Store needs of a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// holder returns the *BusyError for the active operation on cluster, or nil if none holds it (it
// finished meanwhile).
func holder(ctx context.Context, q querier, cluster uuid.UUID) (*commands.BusyError, error) {
	var (
		id  uuid.UUID
		raw []byte
	)
	err := q.QueryRow(ctx, `SELECT id, body FROM operations WHERE cluster_id = $1 AND active`, cluster).Scan(&id, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	op, err := decode(id, raw)
	if err != nil {
		return nil, err
	}
	return &commands.BusyError{Existing: op}, nil
}

// busyRetries bounds how often Create and Update look again for the holder of a cluster that
// turns out to be free by the time they look: each time, another operation took and released it.
const busyRetries = 5

// Create implements [commands.Store]. Like the other stores, it refuses any operation, active or
// not, on a cluster an active operation holds; for an active one the partial unique index
// decides, so two replicas creating at once cannot both succeed.
func (s *Store) Create(ctx context.Context, op commands.Operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := rowOf(op)
	if err != nil {
		return fmt.Errorf("create operation %s: %w", op.ID, err)
	}
	for range busyRetries {
		tag, err := s.pool.Exec(ctx, `
			INSERT INTO operations (id, cluster_id, active, settled, finished_at, body)
			SELECT $1, $2, $3, $4, $5, $6
			WHERE NOT EXISTS (SELECT 1 FROM operations WHERE cluster_id = $2 AND active)`,
			op.ID, r.clusterID, r.active, r.settled, r.finishedAt, r.body)
		switch c := uniqueViolation(err); {
		case c == constraintPrimaryKey:
			return fmt.Errorf("create operation %s: id already used", op.ID)
		case err != nil && c != constraintActiveHolder:
			return fmt.Errorf("create operation %s: %w", op.ID, err)
		case err == nil && tag.RowsAffected() == 1:
			return nil
		}
		// The cluster is held: by the operation NOT EXISTS saw, or by one that won the index.
		busy, err := holder(ctx, s.pool, op.ClusterID)
		if err != nil {
			return fmt.Errorf("create operation %s: %w", op.ID, err)
		}
		if busy != nil {
			return busy
		}
	}
	return fmt.Errorf("create operation %s: cluster %s kept changing hands", op.ID, op.ClusterID)
}

// Get implements [commands.Store].
func (s *Store) Get(ctx context.Context, id uuid.UUID) (commands.Operation, error) {
	if err := ctx.Err(); err != nil {
		return commands.Operation{}, err
	}
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT body FROM operations WHERE id = $1`, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return commands.Operation{}, fmt.Errorf("get operation %s: %w", id, commands.ErrNotFound)
	}
	if err != nil {
		return commands.Operation{}, fmt.Errorf("get operation %s: %w", id, err)
	}
	op, err := decode(id, raw)
	if err != nil {
		return commands.Operation{}, fmt.Errorf("get operation %s: %w", id, err)
	}
	return op, nil
}

// errFn marks, inside Update's transaction, the error fn returned.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }

// Update implements [commands.Store]. The row is locked (SELECT … FOR UPDATE) from the read to
// the commit, so the read-modify-write is atomic against every other goroutine and replica: of two
// clicks racing on one request, the second sees what the first wrote. fn runs while the row is
// locked, so it should be quick and must not call the store.
//
// Beyond the contract, Update refuses to change the operation's id, and to make it active on a
// cluster another active operation holds (a *BusyError), as the embedded store does.
func (s *Store) Update(ctx context.Context, id uuid.UUID, fence *commands.Lease, fn func(*commands.Operation) error) (commands.Operation, error) {
	if err := ctx.Err(); err != nil {
		return commands.Operation{}, err
	}
	var (
		result  commands.Operation
		cluster uuid.UUID // the cluster the updated operation asked for, when the index refused it
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkFence(ctx, tx, fence); err != nil {
			return err
		}
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT body FROM operations WHERE id = $1 FOR UPDATE`, id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return commands.ErrNotFound
		}
		if err != nil {
			return err
		}
		op, err := decode(id, raw)
		if err != nil {
			return err
		}
		if ferr := fn(&op); ferr != nil {
			// fn may have changed op in place: decode the stored version again for the caller.
			if result, err = decode(id, raw); err != nil {
				return err
			}
			return errFn{ferr}
		}
		if op.ID != id {
			return fmt.Errorf("fn changed the id to %s", op.ID)
		}
		r, err := rowOf(op)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE operations SET cluster_id = $2, active = $3, settled = $4, finished_at = $5, body = $6
			WHERE id = $1`,
			id, r.clusterID, r.active, r.settled, r.finishedAt, r.body)
		if uniqueViolation(err) == constraintActiveHolder {
			cluster = op.ClusterID
		}
		if err != nil {
			return err
		}
		result = op
		return nil
	})
	if fe, ok := errors.AsType[errFn](err); ok {
		return result, fe.err
	}
	if err == nil {
		return result, nil
	}
	if cluster != uuid.Nil {
		// The transaction is gone with the violation: look for the holder outside it.
		busy, herr := holder(ctx, s.pool, cluster)
		if herr == nil && busy != nil {
			return commands.Operation{}, busy
		}
		if herr != nil {
			err = herr
		}
	}
	return commands.Operation{}, fmt.Errorf("update operation %s: %w", id, err)
}

// checkFence refuses a write made under lease l (nil for none) that is no longer its holder's:
// expired, handed back, or taken by another replica since. The lease row stays share-locked until
// the write commits, so a replica taking the lease over waits for the write rather than overtaking
// it.
func checkFence(ctx context.Context, tx pgx.Tx, l *commands.Lease) error {
	if l == nil {
		return nil
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM leases WHERE name = $1 AND owner = $2 AND fence = $3 AND expires_at > now() FOR SHARE`,
		l.Name, l.Owner, l.Fence).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("lease %s (fence %d): %w", l.Name, l.Fence, commands.ErrLeaseLost)
	}
	return err
}

// Active implements [commands.Store]. It lists the operations oldest request first.
func (s *Store) Active(ctx context.Context) ([]commands.Operation, error) {
	ops, err := s.list(ctx, `SELECT id, body FROM operations WHERE active`)
	if err != nil {
		return nil, fmt.Errorf("list active operations: %w", err)
	}
	return ops, nil
}

// Unsettled implements [commands.Store].
func (s *Store) Unsettled(ctx context.Context) ([]uuid.UUID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM operations WHERE NOT settled`)
	if err != nil {
		return nil, fmt.Errorf("list unsettled operations: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("list unsettled operations: %w", err)
	}
	return ids, nil
}

// list returns the operations query selects, as (id, body) rows.
func (s *Store) list(ctx context.Context, query string) ([]commands.Operation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	var ops []commands.Operation
	for rows.Next() {
		var (
			id  uuid.UUID
			raw []byte
		)
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return nil, err
		}
		op, err := decode(id, raw)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	commands.SortOldestFirst(ops)
	return ops, nil
}

// Prune deletes the settled operations that finished before finishedBefore, and the envelope ids
// older than the retention, and returns how many operations it deleted. A settled operation
// without a FinishedAt counts as finished long ago. Operations that are active or still have
// notices to deliver are kept whatever their age.
func (s *Store) Prune(ctx context.Context, finishedBefore time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM operations WHERE settled AND (finished_at IS NULL OR finished_at < $1)`, finishedBefore)
	if err != nil {
		return 0, fmt.Errorf("prune operations finished before %s: %w", finishedBefore.Format(time.RFC3339), err)
	}
	if err := s.trimEnvelopes(ctx); err != nil {
		return int(tag.RowsAffected()), err
	}
	return int(tag.RowsAffected()), nil
}
