package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// pruner deletes the operations that finished before a time, and the records of schedule
// occurrences older than it (both stores do).
type pruner interface {
	Prune(ctx context.Context, before time.Time) (int, error)
	PruneOccurrences(ctx context.Context, before time.Time) (int, error)
}

// pruneInterval is how often finished operations older than settledRetention are deleted, so that
// a bot that runs for months keeps its store bounded without a restart.
const pruneInterval = time.Hour

// pruneSettled deletes the operations finished more than retention ago: at once, then every
// interval until ctx is done.
func pruneSettled(ctx context.Context, log zerolog.Logger, p pruner, every, retention time.Duration, now func() time.Time) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := p.Prune(ctx, now().Add(-retention)); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("prune old operations")
		} else if n > 0 {
			log.Info().Int("count", n).Msg("pruned old operations")
		}
		if n, err := p.PruneOccurrences(ctx, now().Add(-retention)); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("prune old schedule occurrences")
		} else if n > 0 {
			log.Info().Int("count", n).Msg("pruned old schedule occurrences")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
