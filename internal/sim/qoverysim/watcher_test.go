package qoverysim_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// fastWatcher polls every few milliseconds, so that tests see several polls at once.
func fastWatcher(s *qoverysim.Server, org uuid.UUID) *qovery.Watcher {
	return s.Client().NewWatcher(org, qovery.WatcherConfig{Interval: 2 * time.Millisecond, FastInterval: time.Millisecond, Floor: time.Millisecond})
}

func runWatcher(t *testing.T, w *qovery.Watcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// next waits for the next update on ch.
func next(t *testing.T, ch <-chan qovery.StatusUpdate) qovery.StatusUpdate {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no status update within 5s")
		return qovery.StatusUpdate{}
	}
}

func TestWatcherBatchesOneRequestPerPoll(t *testing.T) {
	s := qoverysim.NewServer(t)
	org := s.AddOrganization("Acme")
	var ids []uuid.UUID
	for i := range 10 {
		ids = append(ids, s.AddCluster(org, qoverysim.ClusterSpec{Name: fmt.Sprintf("c%d", i)}))
	}
	w := fastWatcher(s, org)
	var chans []<-chan qovery.StatusUpdate
	for _, id := range ids {
		ch, cancel := w.Subscribe(id, false)
		t.Cleanup(cancel)
		chans = append(chans, ch)
	}
	// A second operation on the first cluster shares its polling.
	shared, cancelShared := w.Subscribe(ids[0], false)
	t.Cleanup(cancelShared)
	runWatcher(t, w)

	for round := range 3 {
		for i, ch := range chans {
			u := next(t, ch)
			if u.Err != nil || u.Status == nil || u.Status.ClusterID != ids[i] || u.Status.Status != qovery.StateDeployed {
				t.Fatalf("round %d cluster %d: update %+v", round, i, u)
			}
		}
		if u := next(t, shared); u.Status == nil || u.Status.ClusterID != ids[0] {
			t.Fatalf("shared subscriber got %+v", u)
		}
	}
	s.Close() // freeze the log
	perCluster, orgWide := 0, 0
	for _, r := range s.Requests() {
		switch r.Route {
		case qoverysim.RouteClusterStatuses:
			orgWide++
		case qoverysim.RouteClusterStatus:
			perCluster++
		}
	}
	if orgWide < 3 || perCluster != 0 {
		t.Errorf("requests: %d org-wide, %d per-cluster; want only org-wide ones (one per poll for 11 subscriptions)", orgWide, perCluster)
	}
}

func TestWatcherFallsBackToPerClusterReads(t *testing.T) {
	s := qoverysim.NewServer(t)
	org := s.AddOrganization("Acme")
	a := s.AddCluster(org, qoverysim.ClusterSpec{Name: "a"})
	b := s.AddCluster(org, qoverysim.ClusterSpec{Name: "b", Status: qovery.StateStopped})
	s.FailNext(qoverysim.RouteClusterStatuses, 503, 100)
	w := fastWatcher(s, org)
	cha, ca := w.Subscribe(a, false)
	chb, cb := w.Subscribe(b, false)
	t.Cleanup(ca)
	t.Cleanup(cb)
	runWatcher(t, w)
	if u := next(t, cha); u.Err != nil || u.Status.Status != qovery.StateDeployed {
		t.Errorf("a: %+v", u)
	}
	if u := next(t, chb); u.Err != nil || u.Status.Status != qovery.StateStopped {
		t.Errorf("b: %+v", u)
	}
	// A cluster Qovery no longer knows is reported as an error.
	gone := uuid.New()
	chg, cg := w.Subscribe(gone, false)
	t.Cleanup(cg)
	if u := next(t, chg); u.Err == nil || !qovery.IsNotFound(u.Err) {
		t.Errorf("unknown cluster: %+v; want a 404 error", u)
	}
}

func TestWatcherForgetsClustersNobodyWatches(t *testing.T) {
	s := qoverysim.NewServer(t)
	org := s.AddOrganization("Acme")
	id := s.AddCluster(org, qoverysim.ClusterSpec{Name: "a"})
	w := fastWatcher(s, org)
	ch1, cancel1 := w.Subscribe(id, false)
	ch2, cancel2 := w.Subscribe(id, false)
	runWatcher(t, w)
	next(t, ch1)
	next(t, ch2)
	if n := w.Watched(); n != 1 {
		t.Fatalf("Watched() = %d with two subscribers of one cluster; want 1", n)
	}
	cancel1()
	if n := w.Watched(); n != 1 {
		t.Fatalf("Watched() = %d with one subscriber left; want 1", n)
	}
	cancel2()
	cancel2() // idempotent
	if n := w.Watched(); n != 0 {
		t.Fatalf("Watched() = %d after the last subscriber left; want 0", n)
	}
}

func TestWatcherIntervals(t *testing.T) {
	s := qoverysim.NewServer(t)
	org := s.AddOrganization("Acme")
	id := s.AddCluster(org, qoverysim.ClusterSpec{Name: "a"})
	w := s.Client().NewWatcher(org, qovery.WatcherConfig{Interval: 10 * time.Second, FastInterval: 2 * time.Second, FastFor: time.Minute, Floor: 3 * time.Second})
	_, cancel := w.Subscribe(id, true)
	defer cancel()
	now := time.Now()
	if got := w.NextInterval(now); got != 3*time.Second {
		t.Errorf("interval in the fast window = %v; want the 3s floor (fast is 2s)", got)
	}
	if got := w.NextInterval(now.Add(2 * time.Minute)); got != 10*time.Second {
		t.Errorf("interval after the fast window = %v; want 10s", got)
	}
}
