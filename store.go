package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/bot"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/boltstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/pgstore"
)

// dataFileName is the embedded store's file inside QOVERY_BOT_DATA_DIR.
const dataFileName = "qovery-bot.db"

// settledRetention is how long finished operations stay in the store, for the record.
const settledRetention = 30 * 24 * time.Hour

// storage is what the configuration chose to keep operations in: the data file (one replica), the
// database (several), or memory (the console).
type storage struct {
	store     commands.Store
	envelopes bot.EnvelopeLog // nil: the bot remembers envelopes in memory
	// fleet are the leases shared with the other replicas on the database; nil with the embedded
	// store, where this process is alone.
	fleet *pgstore.Leases
	// pruner drops long-finished operations; nil for memory.
	pruner pruner
	// replica names this process in the lease table; "" when alone.
	replica string
	close   func() error
}

// leases are the operations' leases: the fleet's, or nil when this process is alone.
func (s storage) leases() commands.Leases {
	if s.fleet == nil {
		return nil
	}
	return s.fleet
}

// openStorage opens the store the configuration names.
func openStorage(ctx context.Context, cfg config, o appOptions) (storage, error) {
	switch {
	case o.memoryStore:
		return storage{store: commands.NewMemoryStore(), close: func() error { return nil }}, nil
	case cfg.DatabaseURL != "":
		var popts []pgstore.Option
		if o.dial != nil {
			popts = append(popts, pgstore.WithDialFunc(o.dial))
		}
		ps, err := pgstore.Open(ctx, cfg.DatabaseURL, popts...)
		if err != nil {
			problem, fix := databaseProblem(err)
			return storage{}, explain(problem, fix, err)
		}
		replica := replicaID()
		return storage{store: ps, envelopes: ps, fleet: ps.Leases(replica, cfg.LeaseTimeout), pruner: ps,
			replica: replica, close: func() error { ps.Close(); return nil }}, nil
	default:
		path := filepath.Join(cfg.DataDir, dataFileName)
		bs, err := boltstore.Open(path)
		if err != nil {
			problem, fix := dataFileProblem(path, err)
			return storage{}, explain(problem, fix, err)
		}
		return storage{store: bs, envelopes: bs, pruner: bs, close: bs.Close}, nil
	}
}

// replicaID names this process run in the lease table: the host (the pod's name in Kubernetes) and
// a random suffix, so that a restarted process never mistakes its previous run's leases for its own.
func replicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + "-" + uuid.NewString()[:8]
}
