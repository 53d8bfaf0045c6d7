package commands

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// The read-only verbs (list, status) are open to every member of the workspace, but each costs the
// bot's Qovery budget: their answers come from a short cache, and each user's are throttled.
const (
	// DefaultReadCacheTTL is how long a listing of the clusters, or a cluster's status, answers
	// list, status and name resolution. What the bot does to a cluster forgets it at once.
	DefaultReadCacheTTL = 10 * time.Second
	// DefaultReadBurst and DefaultReadEvery throttle each user's list and status: a burst of
	// DefaultReadBurst, then one every DefaultReadEvery.
	DefaultReadBurst = 5
	DefaultReadEvery = 2 * time.Second
)

// ThrottledError refuses a read-only command asked too soon after the same user's previous ones.
type ThrottledError struct {
	UserID string
}

func (e *ThrottledError) Error() string {
	return "commands: user " + e.UserID + " is asking too quickly"
}

// throttledText answers a throttled user.
var throttledText = Say("You are asking quickly; try again in a few seconds.")

// clusters returns the organization's clusters, from the cache when it is fresh.
func (h *Handler) clusters(ctx context.Context) ([]qovery.Cluster, error) {
	return h.clusterList.get(ctx, func(ctx context.Context) ([]qovery.Cluster, error) {
		return h.q.Clusters(ctx, h.cfg.OrganizationID)
	})
}

// cachedStatus returns a cluster's status for the read-only verbs, from the cache when it is fresh.
// Acting on a cluster never uses it: the checks before a request and before the call read Qovery.
func (h *Handler) cachedStatus(ctx context.Context, clusterID uuid.UUID) (*qovery.ClusterStatus, error) {
	return h.statusCache.get(ctx, clusterID, func(ctx context.Context) (*qovery.ClusterStatus, error) {
		return h.q.ClusterStatus(ctx, h.cfg.OrganizationID, clusterID)
	})
}

// forgetCluster drops what the cache knows of a cluster whose state the bot changed or saw change,
// so that the bot's next answers about it are not older than what it did or saw.
func (h *Handler) forgetCluster(clusterID uuid.UUID) {
	h.statusCache.forget(clusterID)
	h.clusterList.forget()
}

// sawStatus drops what the cache knows of a cluster when a watch saw it in another state.
func (h *Handler) sawStatus(clusterID uuid.UUID, state qovery.State) {
	h.statusCache.forgetUnless(clusterID, state)
	h.clusterList.forgetUnless(clusterID, state)
}

// listCache shares one listing of the clusters between the commands of a few seconds, and one
// request between concurrent callers.
type listCache struct {
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	clusters []qovery.Cluster
	fetched  time.Time
	gen      int           // bumped by forget, so that a request under way then is not kept
	inflight chan struct{} // closed when the request under way ends
}

func (c *listCache) get(ctx context.Context, fetch func(context.Context) ([]qovery.Cluster, error)) ([]qovery.Cluster, error) {
	for {
		c.mu.Lock()
		if c.clusters != nil && c.now().Sub(c.fetched) < c.ttl {
			list := c.clusters
			c.mu.Unlock()
			return list, nil
		}
		if wait := c.inflight; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				continue // served by the request under way, or try ourselves if it failed
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		c.inflight = done
		gen := c.gen
		c.mu.Unlock()

		list, err := fetch(ctx)
		c.mu.Lock()
		if err == nil && gen == c.gen {
			c.clusters, c.fetched = list, c.now()
		}
		c.inflight = nil
		close(done)
		c.mu.Unlock()
		return list, err
	}
}

// forgetUnless forgets the listing unless it shows the cluster in state (or does not show it).
func (c *listCache) forgetUnless(id uuid.UUID, state qovery.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.clusters {
		if cl.ID == id && cl.Status != state {
			c.clusters = nil
			c.gen++
			return
		}
	}
}

func (c *listCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clusters = nil
	c.gen++
}

// statusCache keeps the clusters' statuses read for the status verb for a few seconds.
type statusCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[uuid.UUID]statusEntry
	gen     int // bumped by forget, so that a read under way then is not kept
}

type statusEntry struct {
	st      *qovery.ClusterStatus
	fetched time.Time
}

// maxCachedStatuses bounds the statuses kept; past it, the expired ones are dropped.
const maxCachedStatuses = 1024

func (c *statusCache) get(ctx context.Context, id uuid.UUID, fetch func(context.Context) (*qovery.ClusterStatus, error)) (*qovery.ClusterStatus, error) {
	c.mu.Lock()
	if e, ok := c.entries[id]; ok && c.now().Sub(e.fetched) < c.ttl {
		c.mu.Unlock()
		return e.st, nil
	}
	gen := c.gen
	c.mu.Unlock()

	st, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return st, nil
	}
	now := c.now()
	if c.entries == nil {
		c.entries = map[uuid.UUID]statusEntry{}
	}
	if len(c.entries) >= maxCachedStatuses {
		for k, e := range c.entries {
			if now.Sub(e.fetched) >= c.ttl {
				delete(c.entries, k)
			}
		}
	}
	c.entries[id] = statusEntry{st: st, fetched: now}
	return st, nil
}

// forgetUnless forgets the cluster's status unless it is state.
func (c *statusCache) forgetUnless(id uuid.UUID, state qovery.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && e.st.Status != state {
		delete(c.entries, id)
		c.gen++
	}
}

func (c *statusCache) forget(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
	c.gen++
}

// readThrottle limits each user's read-only commands: a burst, then one every interval.
type readThrottle struct {
	every time.Duration
	burst int

	mu    sync.Mutex
	users map[string]*rate.Limiter
}

// maxThrottledUsers bounds the users tracked; past it, those with a full burst are dropped (they
// would start afresh anyway).
const maxThrottledUsers = 4096

// allow reports whether user may run a read-only command at now.
func (t *readThrottle) allow(user string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	lim, ok := t.users[user]
	if !ok {
		if t.users == nil {
			t.users = map[string]*rate.Limiter{}
		}
		if len(t.users) >= maxThrottledUsers {
			for u, l := range t.users {
				if l.TokensAt(now) >= float64(t.burst) {
					delete(t.users, u)
				}
			}
		}
		lim = rate.NewLimiter(rate.Every(t.every), t.burst)
		t.users[user] = lim
	}
	return lim.AllowN(now, 1)
}
