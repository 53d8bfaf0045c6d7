package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// releasedChannel is the LISTEN/NOTIFY channel a lease handed back is announced on, so that the
// other replicas take its work over at once rather than at their next periodic look.
const releasedChannel = "qovery_bot_lease_released"

// acquireTimeout bounds taking a lease.
const acquireTimeout = 5 * time.Second

// Leases are [commands.Leases] kept in the store's database, shared by every replica using it. A
// lease row holds its owner, its expiry (on the database's clock, so replicas' clocks do not
// matter) and a fencing counter that grows every time the lease changes hands; the store's Update
// checks it for writes made under a lease (the fence given to [Store.Update]).
//
// A lease lasts 4/5 of the takeover time and is renewed every 1/5 of it, all held leases in one
// statement: a replica that dies loses its leases at most 4/5 of the takeover time after its last
// renewal, and a replica looking every 1/5 of it (the bot's AdoptEvery) takes them within the
// takeover time.
type Leases struct {
	s     *Store
	owner string
	ttl   time.Duration
	renew time.Duration

	mu   sync.Mutex
	held map[string]*commands.Lease
	// renewed is when the last renewal succeeded; past ttl without one, every lease is taken
	// for lost, since the database has let them expire.
	renewed  time.Time
	tookOver map[string]int64
	released chan struct{}
	// listening is closed once the first LISTEN is in place.
	listening     chan struct{}
	listeningOnce sync.Once
}

var _ commands.Leases = (*Leases)(nil)

// Leases returns the leases of one process run, identified by owner (unique per run: a restarted
// process waits for its previous run's leases to expire, or to be handed back). takeover bounds how
// long work stays with a replica that stopped renewing its leases. [Leases.Run] must be running for
// leases to be renewed.
func (s *Store) Leases(owner string, takeover time.Duration) *Leases {
	return &Leases{
		s: s, owner: owner, ttl: takeover * 4 / 5, renew: takeover / 5,
		held: map[string]*commands.Lease{}, renewed: time.Now(), tookOver: map[string]int64{},
		released: make(chan struct{}, 1), listening: make(chan struct{}),
	}
}

// Acquire implements [commands.Leases].
func (ls *Leases) Acquire(ctx context.Context, name string) (*commands.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Once begun, the transaction is not cut short by ctx: a cancellation landing on its commit
	// would leave a lease taken in the database that this process does not know it holds, so that
	// nobody could work on it until it expired.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), acquireTimeout)
	defer cancel()
	var (
		fence    int64
		previous string
		taken    bool // by another holder
	)
	err := pgx.BeginFunc(ctx, ls.s.pool, func(tx pgx.Tx) error {
		var live bool
		err := tx.QueryRow(ctx, `SELECT owner, fence, expires_at > now() FROM leases WHERE name = $1 FOR UPDATE`, name).
			Scan(&previous, &fence, &live)
		if errors.Is(err, pgx.ErrNoRows) {
			tag, err := tx.Exec(ctx, `INSERT INTO leases (name, owner, fence, expires_at)
				VALUES ($1, $2, 1, now() + make_interval(secs => $3)) ON CONFLICT (name) DO NOTHING`,
				name, ls.owner, ls.ttl.Seconds())
			fence, taken = 1, err == nil && tag.RowsAffected() == 0 // created by another replica meanwhile
			return err
		}
		if err != nil {
			return err
		}
		if previous != "" && live {
			taken = true
			return nil
		}
		return tx.QueryRow(ctx, `UPDATE leases SET owner = $2, fence = fence + 1, expires_at = now() + make_interval(secs => $3)
			WHERE name = $1 RETURNING fence`, name, ls.owner, ls.ttl.Seconds()).Scan(&fence)
	})
	if err != nil {
		return nil, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	if taken {
		return nil, commands.ErrLeaseHeld
	}
	tookOver := previous != "" // it had an owner that did not hand it back: that replica died or stalled
	var l *commands.Lease
	l = commands.NewLease(name, ls.owner, fence, tookOver, func(ctx context.Context) error { return ls.release(ctx, l) })
	ls.mu.Lock()
	ls.held[name] = l
	if tookOver {
		ls.tookOver[leaseKind(name)]++
	}
	ls.mu.Unlock()
	return l, nil
}

// release hands a lease back and announces it to the other replicas.
func (ls *Leases) release(ctx context.Context, l *commands.Lease) error {
	ls.mu.Lock()
	if ls.held[l.Name] == l {
		delete(ls.held, l.Name)
	}
	ls.mu.Unlock()
	_, err := ls.s.pool.Exec(ctx, `WITH r AS (
			UPDATE leases SET owner = '', expires_at = now() WHERE name = $1 AND owner = $2 AND fence = $3 RETURNING name
		) SELECT pg_notify($4, name) FROM r`, l.Name, ls.owner, l.Fence, releasedChannel)
	if err != nil {
		return fmt.Errorf("release lease %s: %w", l.Name, err)
	}
	return nil
}

// Held implements [commands.Leases].
func (ls *Leases) Held(ctx context.Context, names []string) (map[string]bool, error) {
	held := make(map[string]bool)
	if len(names) == 0 {
		return held, nil
	}
	rows, err := ls.s.pool.Query(ctx, `SELECT name FROM leases WHERE name = ANY($1) AND owner <> '' AND expires_at > now()`, names)
	if err != nil {
		return nil, fmt.Errorf("look up leases: %w", err)
	}
	names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up leases: %w", err)
	}
	for _, n := range names {
		held[n] = true
	}
	return held, nil
}

// Released implements [commands.Leases]: it is signalled by the database's notifications while
// [Leases.Run] runs.
func (ls *Leases) Released() <-chan struct{} { return ls.released }

// Listening is closed once this replica hears the leases handed back (Run's LISTEN is in place).
// Work should be looked for after that, so that no hand-back falls between the look and the
// LISTEN.
func (ls *Leases) Listening() <-chan struct{} { return ls.listening }

// Run renews the held leases and listens for leases handed back anywhere, until ctx is done; it
// returns once its listener has stopped too.
func (ls *Leases) Run(ctx context.Context) error {
	var listener sync.WaitGroup
	listener.Go(func() { ls.listen(ctx) })
	defer listener.Wait()
	t := time.NewTicker(ls.renew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		ls.renewAll(ctx)
	}
}

// renewAll extends every held lease in one statement. A lease the database no longer gives this
// owner is lost; when renewals fail for longer than a lease lasts, all are.
func (ls *Leases) renewAll(ctx context.Context) {
	ls.mu.Lock()
	names := make([]string, 0, len(ls.held))
	for n := range ls.held {
		names = append(names, n)
	}
	ls.mu.Unlock()
	if len(names) == 0 {
		ls.mu.Lock()
		ls.renewed = time.Now()
		ls.mu.Unlock()
		return
	}
	rctx, cancel := context.WithTimeout(ctx, ls.renew)
	defer cancel()
	start := time.Now()
	rows, err := ls.s.pool.Query(rctx, `UPDATE leases SET expires_at = now() + make_interval(secs => $3)
		WHERE owner = $1 AND name = ANY($2) AND expires_at > now() RETURNING name`, ls.owner, names, ls.ttl.Seconds())
	var kept []string
	if err == nil {
		kept, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if err != nil {
		if time.Since(ls.renewed) < ls.ttl {
			return // try again at the next tick
		}
		kept = nil
	} else {
		ls.renewed = start
	}
	keep := make(map[string]bool, len(kept))
	for _, n := range kept {
		keep[n] = true
	}
	for _, n := range names {
		if l := ls.held[n]; l != nil && !keep[n] {
			delete(ls.held, n)
			l.MarkLost()
		}
	}
}

// listen turns the database's notifications of handed-back leases into Released signals, on a
// connection of its own, reconnecting after a failure; the periodic look covers any gap.
func (ls *Leases) listen(ctx context.Context) {
	for ctx.Err() == nil {
		ls.listenOnce(ctx) // it returns when its connection fails: wait, then reconnect
		t := time.NewTimer(ls.renew)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (ls *Leases) listenOnce(ctx context.Context) {
	pc, err := ls.s.pool.Acquire(ctx)
	if err != nil {
		return
	}
	conn := pc.Hijack() // a listening connection never goes back to the pool
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+releasedChannel); err != nil {
		return
	}
	ls.listeningOnce.Do(func() { close(ls.listening) })
	// A lease handed back while the connection was down went unheard: look for work once.
	select {
	case ls.released <- struct{}{}:
	default:
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		select {
		case ls.released <- struct{}{}:
		default:
		}
	}
}

// Close hands every held lease back, so that other replicas take the work over at once.
func (ls *Leases) Close(ctx context.Context) error {
	ls.mu.Lock()
	held := make([]*commands.Lease, 0, len(ls.held))
	for _, l := range ls.held {
		held = append(held, l)
	}
	ls.mu.Unlock()
	var errs []error
	for _, l := range held {
		errs = append(errs, l.Release(ctx))
	}
	return errors.Join(errs...)
}

// Stats returns how many leases this process holds and how many it took over from a replica that
// stopped renewing them, by kind (the part of the name before the first "/": watch, operation,
// schedules).
func (ls *Leases) Stats() (held, tookOver map[string]int64) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	held = map[string]int64{}
	for n := range ls.held {
		held[leaseKind(n)]++
	}
	tookOver = make(map[string]int64, len(ls.tookOver))
	for k, v := range ls.tookOver {
		tookOver[k] = v
	}
	return held, tookOver
}

func leaseKind(name string) string {
	kind, _, _ := strings.Cut(name, "/")
	return kind
}
