package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Info is what [Inspect] learns of a database without changing it.
type Info struct {
	// ServerVersion is PostgreSQL's server_version, such as "15.14".
	ServerVersion string
	// SchemaVersion is the schema version the database is at: 0 before the first start-up.
	SchemaVersion int
	// CanCreate reports whether the connection's user may create tables in the schema the store
	// uses, which migrating needs.
	CanCreate bool
	// Schema is the schema the store's tables are (or will be) in.
	Schema string
	// Replicas is how many replicas hold live leases now.
	Replicas int
}

// Inspect connects to the database at url and reports what a start-up would find there; it
// changes nothing (`qovery-slack-bot doctor` uses it).
func Inspect(ctx context.Context, url string, opts ...Option) (Info, error) {
	var info Info
	s, err := connect(ctx, url, opts...)
	if err != nil {
		return info, err
	}
	defer s.Close()
	err = s.pool.QueryRow(ctx, `SELECT current_setting('server_version'), coalesce(current_schema(), ''),
		coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)`).Scan(&info.ServerVersion, &info.Schema, &info.CanCreate)
	if err != nil {
		return info, fmt.Errorf("inspect database: %w", err)
	}
	var migrated, leases bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL, to_regclass('leases') IS NOT NULL`).Scan(&migrated, &leases); err != nil {
		return info, fmt.Errorf("inspect database: %w", err)
	}
	if migrated {
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&info.SchemaVersion); err != nil {
			return info, fmt.Errorf("inspect database: %w", err)
		}
	}
	if leases {
		err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT owner) FROM leases WHERE owner <> '' AND expires_at > now()`).Scan(&info.Replicas)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return info, fmt.Errorf("inspect database: %w", err)
		}
	}
	return info, nil
}
