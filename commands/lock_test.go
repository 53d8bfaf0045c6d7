package commands

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func TestParseLock(t *testing.T) {
	for _, tc := range []struct {
		text    string
		want    Command
		wantErr string
	}{
		{text: "lock staging 3d release freeze", want: Command{Verb: VerbLock, Cluster: "staging", LockDays: 3, Reason: "release freeze"}},
		{text: "lock staging load test tonight", want: Command{Verb: VerbLock, Cluster: "staging", Reason: "load test tonight"}},
		{text: "lock staging 3days", want: Command{Verb: VerbLock, Cluster: "staging", Reason: "3days"}},
		{text: "lock staging", wantErr: "Say why the cluster is locked"},
		{text: "lock staging 3d", wantErr: "Say why the cluster is locked"},
		{text: "lock staging 0d freeze", wantErr: "1 to 365 days"},
		{text: "lock", wantErr: "Which cluster, and why?"},
		{text: "unlock staging", want: Command{Verb: VerbUnlock, Cluster: "staging"}},
		{text: "unlock", wantErr: "Which cluster?"},
	} {
		got, err := Parse(tc.text)
		if tc.wantErr != "" {
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(ue.Msg.String(), tc.wantErr) || !strings.Contains(ue.Msg.String(), "Usage:") {
				t.Errorf("Parse(%q) = %v; want a usage error saying %q with an example", tc.text, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.text, got, err, tc.want)
		}
	}
}

// A lock is made at once for someone allowed to stop, and said in the channel; others are refused,
// and a locked cluster is not locked twice.
func TestLock(t *testing.T) {
	f := newFixture(t)
	r, err := f.handle(t, tRequest{UserID: "U9", ChannelID: "C1", Text: "lock staging 2d freeze"})
	var denied *DeniedError
	if !errors.As(err, &denied) || len(f.q.locks) != 0 {
		t.Fatalf("lock by a user not allowed = %+v, %v, %d calls; want a denial and no call", r, err, len(f.q.locks))
	}
	if _, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "lock staging 2d release freeze"}); err != nil {
		t.Fatal(err)
	}
	if len(f.q.locks) != 1 || f.q.locks[0] != "release freeze" || f.q.lockTTL == nil || *f.q.lockTTL != 2 {
		t.Fatalf("lock calls = %q, ttl %v; want one with the reason and 2 days", f.q.locks, f.q.lockTTL)
	}
	if len(f.n.announced) != 1 || !strings.Contains(f.n.announced[0], "<@U1> locked *staging* in Qovery for 2 days: “release freeze”") {
		t.Fatalf("announced = %q", f.n.announced)
	}
	f.q.statuses = []qovery.ClusterStatus{{Status: qovery.StateDeployed, ClusterLock: &qovery.ClusterLock{OwnerName: "Jane", Reason: "freeze", LockedAt: time.Now()}}}
	r, err = f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "lock staging again"})
	if err != nil || !strings.Contains(r.Text, "already locked") || len(f.q.locks) != 1 {
		t.Fatalf("second lock = %+v, %v; want 'already locked' and no call", r, err)
	}
	// A lock made in Slack refuses stops like any other.
	r, err = f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "stop staging"})
	if err != nil || r.Confirm != nil || !strings.Contains(r.Text, "is locked in Qovery") {
		t.Fatalf("stop of a locked cluster = %+v, %v", r, err)
	}
}

// Unlocking asks for a confirmation, then calls Qovery once and is done; an unlocked cluster has
// nothing to unlock; a protected one asks for its name.
func TestUnlock(t *testing.T) {
	f := newFixture(t)
	locked := qovery.ClusterStatus{Status: qovery.StateDeployed, ClusterLock: &qovery.ClusterLock{OwnerName: "Jane", Reason: "freeze", LockedAt: time.Now()}}
	f.q.statuses = []qovery.ClusterStatus{locked}
	r, err := f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "unlock staging"})
	if err != nil || r.Confirm == nil || r.Confirm.Action() != VerbUnlock || r.Confirm.Lock == nil || f.q.unlocks != 0 {
		t.Fatalf("unlock = %+v (%s, lock %v, %d unlocks), %v; want a confirmation showing the lock, no call yet", r, r.Confirm.Action(), r.Confirm.Lock, f.q.unlocks, err)
	}
	if r.Confirm.Impact.EnvironmentCount != 0 || f.q.insightRead != 0 {
		t.Errorf("an unlock read what the cluster runs: it takes nothing down")
	}
	if _, err := f.confirm(t, tclick{Ref: r.Confirm.Ref(), UserID: "U2"}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.h.Operation(t.Context(), r.Confirm.ID)
	if f.q.unlocks != 1 || got.Phase != PhaseSucceeded || f.h.Busy() {
		t.Fatalf("after the click: %d unlocks, phase %s; want one call, succeeded, nothing watched", f.q.unlocks, got.Phase)
	}
	if k := f.n.kinds(); k[len(k)-1] != EventSucceeded {
		t.Errorf("events = %v; want it to end succeeded", k)
	}

	f.q.statuses = []qovery.ClusterStatus{{Status: qovery.StateDeployed}}
	r, err = f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "unlock staging"})
	if err != nil || r.Confirm != nil || !strings.Contains(r.Text, "is not locked") {
		t.Fatalf("unlock of an unlocked cluster = %+v, %v", r, err)
	}

	f.q.statuses = []qovery.ClusterStatus{locked}
	r, _ = f.handle(t, tRequest{UserID: "U1", ChannelID: "C1", Text: "unlock production-eu"})
	if r.Confirm == nil || !r.Confirm.Protected {
		t.Fatalf("unlock of a protected cluster = %+v", r)
	}
	if a, _ := f.confirm(t, tclick{Ref: r.Confirm.Ref(), UserID: "U2"}); a.TypeName == nil || f.q.unlocks != 1 {
		t.Fatalf("click on a protected unlock = %+v; want its name asked, no call", a)
	}
	if p := f.typedNameProblem(t, r.Confirm.Ref(), "nope"); !strings.Contains(p, "to unlock it") {
		t.Errorf("wrong name problem = %q", p)
	}
}
