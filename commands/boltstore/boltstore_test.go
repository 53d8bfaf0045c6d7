package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/boltstore"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/storetest"
)

// open opens a store at path and closes it when the test ends.
func open(t testing.TB, path string, opts ...boltstore.Option) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open(%s) = %v; want nil", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	return s
}

// tempPath returns a path for a store file in a directory that does not exist yet.
func tempPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "data", "bot.db")
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) commands.Store { return open(t, tempPath(t)) })
}

func TestEnvelopes(t *testing.T) {
	storetest.RunEnvelopes(t, func(t *testing.T) storetest.EnvelopeLog { return open(t, tempPath(t)) })
}

func operation(phase commands.Phase, notices ...commands.NoticeState) commands.Operation {
	op := commands.Operation{
		ID:          uuid.New(),
		ClusterID:   uuid.New(),
		ClusterName: "staging",
		RequestedAt: time.Now(),
		Phase:       phase,
	}
	for i, st := range notices {
		op.Notices = append(op.Notices, commands.Notice{Seq: i + 1, Event: commands.Event{Kind: commands.EventState, At: time.Now()}, State: st})
	}
	if !phase.IsActive() {
		op.FinishedAt = time.Now()
	}
	return op
}

func sortedIDs(ops []commands.Operation) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(ops))
	for _, op := range ops {
		ids = append(ids, op.ID)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return ids
}

func idsOf(ops ...commands.Operation) []uuid.UUID {
	return sortedIDs(ops)
}

func TestPersistence(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open = %v; want nil", err)
	}
	active := operation(commands.PhaseWatching, commands.NoticePosted)
	unsettled := operation(commands.PhaseSucceeded, commands.NoticePosted, commands.NoticePending)
	settled := operation(commands.PhaseCancelled, commands.NoticePosted)
	for _, op := range []commands.Operation{active, unsettled, settled} {
		if err := s.Create(ctx, op); err != nil {
			t.Fatalf("Create = %v; want nil", err)
		}
	}
	if _, err := s.SeeEnvelope(ctx, "env-1"); err != nil {
		t.Fatalf("SeeEnvelope = %v; want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v; want nil", err)
	}

	s = open(t, path)
	for _, want := range []commands.Operation{active, unsettled, settled} {
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get(%s) after reopening = %v; want nil", want.ID, err)
		}
		if got.Phase != want.Phase || len(got.Notices) != len(want.Notices) || !got.RequestedAt.Equal(want.RequestedAt) {
			t.Errorf("Get(%s) after reopening = %+v; want %+v", want.ID, got, want)
		}
	}
	gotActive, err := s.Active(ctx)
	if err != nil {
		t.Fatalf("Active = %v; want nil", err)
	}
	if got, want := sortedIDs(gotActive), idsOf(active); !slices.Equal(got, want) {
		t.Errorf("Active after reopening = %v; want %v", got, want)
	}
	gotUnsettled, err := s.Unsettled(ctx)
	if err != nil {
		t.Fatalf("Unsettled = %v; want nil", err)
	}
	slices.SortFunc(gotUnsettled, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	if got, want := gotUnsettled, idsOf(active, unsettled); !slices.Equal(got, want) {
		t.Errorf("Unsettled after reopening = %v; want %v", got, want)
	}
	// The cluster index survived too: the active operation still holds its cluster.
	next := operation(commands.PhasePending)
	next.ClusterID = active.ClusterID
	if err := s.Create(ctx, next); !errors.As(err, new(*commands.BusyError)) {
		t.Errorf("Create on a held cluster after reopening = %v; want a *BusyError", err)
	}
	if fresh, err := s.SeeEnvelope(ctx, "env-1"); err != nil || fresh {
		t.Errorf("SeeEnvelope(seen before the restart) = %t, %v; want false, nil", fresh, err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := tempPath(t)
	open(t, path)
	start := time.Now()
	s, err := boltstore.Open(path, boltstore.WithLockTimeout(50*time.Millisecond))
	if err == nil {
		s.Close()
		t.Fatalf("second Open of %s = nil; want an error: the file is locked", path)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("second Open took %v; want it to give up after about the 50ms lock timeout", elapsed)
	}
	// The message is what an operator who started a second replica reads: it must say what to do.
	for _, want := range []string{path, "locked", "QOVERY_BOT_DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open = %q; want it to mention %q", err, want)
		}
	}
}

func TestModes(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "state", "qovery-bot", "bot.db")
	open(t, path)
	tests := []struct {
		path string
		want fs.FileMode
	}{
		{filepath.Join(root, "state"), fs.ModeDir | 0o700},
		{filepath.Join(root, "state", "qovery-bot"), fs.ModeDir | 0o700},
		{path, 0o600},
	}
	for _, tc := range tests {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatalf("Stat(%s) = %v; want nil", tc.path, err)
		}
		if got := fi.Mode(); got != tc.want {
			t.Errorf("mode of %s = %v; want %v", tc.path, got, tc.want)
		}
	}
}

func TestSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string
		want    string // in the error; empty when Open must succeed
	}{
		{"current", "1", ""},
		{"newer", "2", "newer"},
		{"much newer", "17", "newer"},
		{"zero", "0", "not valid"},
		{"garbage", "one", "not valid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			s, err := boltstore.Open(path)
			if err != nil {
				t.Fatalf("Open = %v; want nil", err)
			}
			s.Close()
			setVersion(t, path, tc.version)

			s, err = boltstore.Open(path)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open(schema version %s) = %v; want nil", tc.version, err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open(schema version %s) = nil; want an error", tc.version)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open(schema version %s) = %q; want it to name the file and say %q", tc.version, err, tc.want)
			}
			// Refusing must leave the file as it was, for the bot that understands it.
			if got := version(t, path); got != tc.version {
				t.Errorf("schema version after the refused Open = %q; want %q", got, tc.version)
			}
		})
	}
}

// setVersion writes the schema version straight into the file, as a newer bot would.
func setVersion(t *testing.T, path, v string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open = %v; want nil", err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte(v))
	})
	if err != nil {
		t.Fatalf("set schema version = %v; want nil", err)
	}
}

// version reads the schema version straight from the file.
func version(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("bolt.Open = %v; want nil", err)
	}
	defer db.Close()
	var v string
	err = db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket([]byte("meta")).Get([]byte("schema_version")))
		return nil
	})
	if err != nil {
		t.Fatalf("read schema version = %v; want nil", err)
	}
	return v
}

func TestOptionsValidated(t *testing.T) {
	tests := []struct {
		name string
		opt  boltstore.Option
	}{
		{"zero lock timeout", boltstore.WithLockTimeout(0)},
		{"negative lock timeout", boltstore.WithLockTimeout(-time.Second)},
		{"zero envelope capacity", boltstore.WithEnvelopeCapacity(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			if s, err := boltstore.Open(path, tc.opt); err == nil {
				s.Close()
				t.Errorf("Open with %s = nil; want an error", tc.name)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Stat(%s) after a refused Open = %v; want no file created", path, err)
			}
		})
	}
}

func TestEnvelopeCapacity(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s := open(t, path, boltstore.WithEnvelopeCapacity(3))
	see := func(id string, want bool) {
		t.Helper()
		got, err := s.SeeEnvelope(ctx, id)
		if err != nil || got != want {
			t.Errorf("SeeEnvelope(%q) = %t, %v; want %t, nil", id, got, err, want)
		}
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		see(id, true)
	}
	// The three most recent are remembered; seeing them again does not change the window.
	see("e", false)
	see("c", false)
	see("d", false)
	// The first two were forgotten, so they are new again, each pushing out the oldest.
	see("a", true)
	see("b", true)
	see("e", false)
	see("c", true)

	// The log stays bounded: the file holds exactly the capacity.
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v; want nil", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("bolt.Open = %v; want nil", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{"envelopes", "envelope_seq"} {
			if got := tx.Bucket([]byte(name)).Stats().KeyN; got != 3 {
				t.Errorf("bucket %s holds %d keys; want 3", name, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View = %v; want nil", err)
	}
}

func TestSeeEnvelopeEmptyID(t *testing.T) {
	s := open(t, tempPath(t))
	if _, err := s.SeeEnvelope(t.Context(), ""); err == nil {
		t.Errorf(`SeeEnvelope("") = nil; want an error`)
	}
}

func TestPrune(t *testing.T) {
	ctx := t.Context()
	s := open(t, tempPath(t))
	cutoff := time.Now().Add(-24 * time.Hour)
	old := func(op commands.Operation) commands.Operation {
		op.RequestedAt = cutoff.Add(-2 * time.Hour)
		op.FinishedAt = cutoff.Add(-time.Hour)
		return op
	}
	oldSettled := old(operation(commands.PhaseSucceeded, commands.NoticePosted, commands.NoticeAbandoned))
	oldNoFinish := old(operation(commands.PhaseDiscarded))
	oldNoFinish.FinishedAt = time.Time{}
	oldUnsettled := old(operation(commands.PhaseFailed, commands.NoticePosted, commands.NoticePending))
	oldActive := old(operation(commands.PhaseWatching))
	recentSettled := operation(commands.PhaseCancelled, commands.NoticePosted)
	for _, op := range []commands.Operation{oldSettled, oldNoFinish, oldUnsettled, oldActive, recentSettled} {
		if err := s.Create(ctx, op); err != nil {
			t.Fatalf("Create = %v; want nil", err)
		}
	}

	n, err := s.Prune(ctx, cutoff)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2, nil", n, err)
	}
	for _, tc := range []struct {
		op   commands.Operation
		kept bool
	}{
		{oldSettled, false},
		{oldNoFinish, false},
		{oldUnsettled, true},
		{oldActive, true},
		{recentSettled, true},
	} {
		_, err := s.Get(ctx, tc.op.ID)
		if tc.kept && err != nil {
			t.Errorf("Get(%s, %s) after Prune = %v; want it kept", tc.op.ID, tc.op.Phase, err)
		}
		if !tc.kept && !errors.Is(err, commands.ErrNotFound) {
			t.Errorf("Get(%s, %s) after Prune = %v; want ErrNotFound", tc.op.ID, tc.op.Phase, err)
		}
	}
	if n, err := s.Prune(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
	}
	// Once delivered, the old unsettled operation goes too.
	if _, err := s.Update(ctx, oldUnsettled.ID, nil, func(op *commands.Operation) error {
		op.Notices[1].State = commands.NoticePosted
		return nil
	}); err != nil {
		t.Fatalf("Update = %v; want nil", err)
	}
	if n, err := s.Prune(ctx, cutoff); err != nil || n != 1 {
		t.Errorf("Prune after delivery = %d, %v; want 1, nil", n, err)
	}
}

// TestUpdateKeepsIndexes covers what the contract leaves open but the indexes need: an Update
// may not make an operation active on a held cluster, nor change its id.
func TestUpdateKeepsIndexes(t *testing.T) {
	ctx := t.Context()
	s := open(t, tempPath(t))
	holder := operation(commands.PhaseWatching)
	done := operation(commands.PhaseSucceeded)
	done.ClusterID = holder.ClusterID
	// done first: Create refuses any operation, even a finished one, on a held cluster.
	for _, op := range []commands.Operation{done, holder} {
		if err := s.Create(ctx, op); err != nil {
			t.Fatalf("Create = %v; want nil", err)
		}
	}
	tests := []struct {
		name  string
		fn    func(*commands.Operation)
		check func(error) bool
	}{
		{"reactivate on a held cluster", func(op *commands.Operation) { op.Phase = commands.PhasePending }, func(err error) bool {
			busy, ok := errors.AsType[*commands.BusyError](err)
			return ok && busy.Existing.ID == holder.ID
		}},
		{"change the id", func(op *commands.Operation) { op.ID = uuid.New() }, func(err error) bool { return err != nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Update(ctx, done.ID, nil, func(op *commands.Operation) error {
				tc.fn(op)
				return nil
			})
			if !tc.check(err) {
				t.Errorf("Update(%s) = %v; want it refused", tc.name, err)
			}
			got, err := s.Get(ctx, done.ID)
			if err != nil || got.Phase != done.Phase {
				t.Errorf("Get after the refused Update = %s, %v; want %s, nil", got.Phase, err, done.Phase)
			}
			active, err := s.Active(ctx)
			if err != nil || !slices.Equal(sortedIDs(active), idsOf(holder)) {
				t.Errorf("Active after the refused Update = %v, %v; want %v", sortedIDs(active), err, idsOf(holder))
			}
		})
	}

	// Moving an active operation to another cluster moves its hold.
	other := uuid.New()
	if _, err := s.Update(ctx, holder.ID, nil, func(op *commands.Operation) error {
		op.ClusterID = other
		return nil
	}); err != nil {
		t.Fatalf("Update(move cluster) = %v; want nil", err)
	}
	for _, tc := range []struct {
		cluster uuid.UUID
		busy    bool
	}{{holder.ClusterID, false}, {other, true}} {
		op := operation(commands.PhasePending)
		op.ClusterID = tc.cluster
		err := s.Create(ctx, op)
		if _, busy := errors.AsType[*commands.BusyError](err); busy != tc.busy || (!tc.busy && err != nil) {
			t.Errorf("Create on cluster %s after the move = %v; want busy %t", tc.cluster, err, tc.busy)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	s := open(t, tempPath(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Create(ctx, operation(commands.PhasePending)); !errors.Is(err, context.Canceled) {
		t.Errorf("Create(canceled context) = %v; want context.Canceled", err)
	}
}

// BenchmarkUpdate measures one durable write: an Update of a single operation, each committed
// (and fsynced) on its own, as every state change of a stop is.
func BenchmarkUpdate(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bot.db"))
	op := operation(commands.PhaseWatching, commands.NoticePosted, commands.NoticePosted, commands.NoticePending)
	if err := s.Create(b.Context(), op); err != nil {
		b.Fatalf("Create = %v; want nil", err)
	}
	i := 0
	for b.Loop() {
		i++
		_, err := s.Update(b.Context(), op.ID, nil, func(op *commands.Operation) error {
			op.LastExecutionID = fmt.Sprintf("exec-%d", i)
			op.Notices[2].Attempts = i
			return nil
		})
		if err != nil {
			b.Fatalf("Update = %v; want nil", err)
		}
	}
}

func TestScheduleContract(t *testing.T) {
	storetest.RunSchedules(t, func(t *testing.T) commands.ScheduleStore { return open(t, tempPath(t)) })
}
