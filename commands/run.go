package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

// Metrics counts what the handler carries forward; *metrics.Metrics implements it.
type Metrics interface {
	WatchStarted()
	WatchEnded()
	// Schedules is how many schedules are active, as the scheduler last counted.
	Schedules(n int)
	// ScheduleRun counts what became of one occurrence of a schedule.
	ScheduleRun(outcome string)
}

type noMetrics struct{}

func (noMetrics) WatchStarted()      {}
func (noMetrics) WatchEnded()        {}
func (noMetrics) Schedules(int)      {}
func (noMetrics) ScheduleRun(string) {}

// adoptTimeout bounds one look for work nobody carries forward.
const adoptTimeout = 2 * time.Minute

// Run carries forward the work that is nobody's click, until ctx is done: it expires the
// confirmations nobody answered (every ExpirySweep), runs the schedules (scheduler.go), adopts the operations a previous run or
// another replica left (at once, every AdoptEvery, and whenever a lease is handed back), and owns
// the watches of accepted operations. When ctx ends, the watches end with it (a durable operation
// is left for the next run; otherwise its thread is told); Run waits for them, hands the
// organization's watch lease back so that another replica takes over at once, and returns nil.
// Before that, the carriers whose last step has run have handed their operations' leases back.
func (h *Handler) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.running != nil || h.ran {
		h.mu.Unlock()
		return errors.New("commands: Handler.Run called twice")
	}
	h.running = ctx
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running, h.ran = nil, true
		h.mu.Unlock()
		h.watches.Wait()
		h.carriersDone(releaseTimeout)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		h.handback(ctx)
	}()
	var g errgroup.Group
	g.Go(func() error { h.sweepExpired(ctx); return nil })
	g.Go(func() error { h.supervise(ctx); return nil })
	g.Go(func() error { h.runSchedules(ctx); return nil })
	return g.Wait()
}

// sweepExpired expires the confirmations whose TTL has passed, at once (they may have expired while
// the bot was down) and then every ExpirySweep.
func (h *Handler) sweepExpired(ctx context.Context) {
	t := time.NewTicker(h.cfg.ExpirySweep)
	defer t.Stop()
	for {
		if n, err := h.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			h.cfg.Log.Error().Err(err).Msg("expire confirmations")
		} else if n > 0 {
			h.cfg.Log.Debug().Int("count", n).Msg("expired confirmations")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// supervise adopts the operations nobody carries forward: those of a previous run at start-up, then
// those of replicas that shut down or died, every AdoptEvery and whenever a lease is handed back.
func (h *Handler) supervise(ctx context.Context) {
	t := time.NewTicker(h.cfg.AdoptEvery)
	defer t.Stop()
	watcher := false
	for {
		actx, cancel := context.WithTimeout(ctx, adoptTimeout)
		ops, err := h.adopt(actx)
		cancel()
		if err != nil && ctx.Err() == nil {
			h.cfg.Log.Error().Err(err).Msg("adopt operations")
		}
		if w := h.watchesOrganization(); w != watcher {
			watcher = w
			if w {
				h.cfg.Log.Info().Msg("this replica now watches the organization: it polls Qovery and follows accepted operations for every replica")
			} else {
				h.cfg.Log.Warn().Msg("this replica no longer watches the organization (its lease was lost); another replica takes over")
			}
		}
		for _, op := range ops {
			h.opLog(op).Info().Str("state", string(op.State)).Msg("watching an adopted operation")
			h.goWatch(nil, op.ID)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.leases.Released():
		}
	}
}

// goWatch watches an accepted operation in its carrier; Run waits for the watch. Before Run
// starts, the watch is left for its first adoption; after Run has ended, for the next run's,
// unless the store does not outlive the process: then the thread is told the bot stopped watching.
//
// l is the operation's lease when the caller is a step of its carrier (the click that got it
// accepted), else nil.
func (h *Handler) goWatch(l *Lease, id uuid.UUID) {
	h.mu.Lock()
	ctx, ended := h.running, h.ran
	if ctx != nil {
		h.watches.Add(1)
	}
	h.mu.Unlock()
	if ctx == nil {
		if ended && !h.cfg.Durable {
			h.stoppedWatching(context.Background(), l, id)
		}
		return
	}
	h.cfg.Metrics.WatchStarted()
	h.watchesUnderWay.Add(1)
	over := func() {
		h.cfg.Metrics.WatchEnded()
		h.watchesUnderWay.Add(-1)
		h.watches.Done()
	}
	// The watch is a step of the operation's carrier (no goroutine of its own): after the click's
	// step, whose lease it goes on under; or, when another replica holds the lease, dropped.
	h.enqueue(id, false, step{
		run: func(l *Lease) {
			defer over()
			if err := h.watchOp(ctx, id, l); err != nil && !errors.Is(err, context.Canceled) {
				h.cfg.Log.Error().Err(err).Str("request_id", id.String()).Msg("watch ended with an error")
			}
		},
		drop: func(error) { over() }, // that replica watches it, or hands it to the one that does
	})
}

// stoppedWatching ends a watched operation that the bot can no longer follow, because it is
// shutting down and nothing will resume the watch, and tells its thread. l is the operation's
// lease, when the caller holds it.
func (h *Handler) stoppedWatching(ctx context.Context, l *Lease, id uuid.UUID) {
	// The notice must still go out while the process shuts down.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	op, err := h.store.Get(ctx, id)
	if err != nil {
		return
	}
	h.finish(ctx, l, id, PhaseAborted, EventAborted, "", Say("The bot stopped watching because it is shutting down. The "+op.spec().noun+" itself goes on in Qovery; check the cluster in the Qovery console."))
}

// Busy reports whether the handler is watching an operation, from the moment Qovery accepted it.
func (h *Handler) Busy() bool { return h.watchesUnderWay.Load() > 0 }
