package qovery

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// StatusUpdate is one observation of a watched cluster: its status, or why it could not be read.
type StatusUpdate struct {
	Status *ClusterStatus
	Err    error
	At     time.Time
}

// WatcherConfig tunes a [Watcher].
type WatcherConfig struct {
	// Interval is the time between two polls once things have settled.
	Interval time.Duration
	// FastInterval is used for FastFor after a subscriber asks for it (an action was just
	// accepted: states change quickly and people are looking). Default 2s for 1m.
	FastInterval time.Duration
	FastFor      time.Duration
	// Floor is the shortest interval ever used, to protect the API. Default 1s.
	Floor time.Duration
}

// Watcher polls the statuses of the clusters of one organization that someone watches, with one
// request per interval for all of them (GET /organization/{organizationId}/cluster/status), and
// hands each subscriber its cluster's status. Subscribers of one cluster share its polling. When the
// organization-wide call fails, it falls back to one status call per watched cluster.
type Watcher struct {
	c   *Client
	org uuid.UUID
	cfg WatcherConfig

	mu   sync.Mutex
	subs map[uuid.UUID]*clusterWatch
	wake chan struct{}
}

// clusterWatch is one watched cluster and the channels of its subscribers.
type clusterWatch struct {
	listeners map[chan StatusUpdate]struct{}
	fastUntil time.Time
}

// subscriberBuffer is how many updates a slow subscriber may fall behind before the oldest are
// dropped. States change over minutes, so only a stuck subscriber ever drops anything.
const subscriberBuffer = 32

// NewWatcher returns a Watcher of org's clusters. Run must be running for it to poll.
func (c *Client) NewWatcher(org uuid.UUID, cfg WatcherConfig) *Watcher {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.FastInterval <= 0 {
		cfg.FastInterval = 2 * time.Second
	}
	if cfg.FastFor <= 0 {
		cfg.FastFor = time.Minute
	}
	if cfg.Floor <= 0 {
		cfg.Floor = time.Second
	}
	return &Watcher{c: c, org: org, cfg: cfg, subs: map[uuid.UUID]*clusterWatch{}, wake: make(chan struct{}, 1)}
}

// Subscribe starts delivering the status of a cluster, polled fast for a while when fast is set.
// The returned function ends the subscription.
func (w *Watcher) Subscribe(clusterID uuid.UUID, fast bool) (<-chan StatusUpdate, func()) {
	ch := make(chan StatusUpdate, subscriberBuffer)
	w.mu.Lock()
	cw, ok := w.subs[clusterID]
	if !ok {
		cw = &clusterWatch{listeners: map[chan StatusUpdate]struct{}{}}
		w.subs[clusterID] = cw
	}
	cw.listeners[ch] = struct{}{}
	if fast {
		cw.fastUntil = time.Now().Add(w.cfg.FastFor)
	}
	w.mu.Unlock()
	w.poke()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			delete(cw.listeners, ch)
			if len(cw.listeners) == 0 && w.subs[clusterID] == cw {
				delete(w.subs, clusterID)
			}
		})
	}
}

// Watched reports how many clusters are being watched.
func (w *Watcher) Watched() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.subs)
}

func (w *Watcher) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// NextInterval is the wait before the poll after now: fast while a cluster is in its fast window,
// never under the floor.
func (w *Watcher) NextInterval(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.cfg.Interval
	for _, cw := range w.subs {
		if now.Before(cw.fastUntil) && w.cfg.FastInterval < d {
			d = w.cfg.FastInterval
		}
	}
	return max(d, w.cfg.Floor)
}

// Run polls until ctx is done. With nothing watched it sends no request.
func (w *Watcher) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if w.Watched() == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-w.wake:
				continue
			}
		}
		timer.Reset(w.NextInterval(time.Now()))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			w.poll(ctx)
		case <-w.wake:
			// A new subscriber may want faster polling: recompute the wait. (Since Go 1.23 a
			// stopped timer delivers no stale tick, so there is nothing to drain.)
			timer.Stop()
		}
	}
}

// poll reads the watched clusters' statuses once and delivers them.
func (w *Watcher) poll(ctx context.Context) {
	w.mu.Lock()
	ids := make([]uuid.UUID, 0, len(w.subs))
	for id := range w.subs {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	statuses, err := w.c.ClusterStatuses(ctx, w.org)
	if err == nil {
		byID := make(map[uuid.UUID]*ClusterStatus, len(statuses))
		for i := range statuses {
			byID[statuses[i].ClusterID] = &statuses[i]
		}
		at := time.Now()
		var missing []uuid.UUID
		for _, id := range ids {
			if st, ok := byID[id]; ok {
				w.deliver(id, StatusUpdate{Status: st, At: at})
			} else {
				missing = append(missing, id)
			}
		}
		ids = missing // not in the list: ask for each (it may answer 404, which is news too)
	} else if ctx.Err() != nil {
		return
	}
	for _, id := range ids {
		st, err := w.c.ClusterStatus(ctx, w.org, id)
		if ctx.Err() != nil {
			return
		}
		w.deliver(id, StatusUpdate{Status: st, Err: err, At: time.Now()})
	}
}

// deliver hands an update to every subscriber of a cluster, dropping a stuck subscriber's oldest.
func (w *Watcher) deliver(id uuid.UUID, u StatusUpdate) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cw, ok := w.subs[id]
	if !ok {
		return
	}
	for ch := range cw.listeners {
		for {
			select {
			case ch <- u:
			default:
				select {
				case <-ch:
				default:
				}
				continue
			}
			break
		}
	}
}
