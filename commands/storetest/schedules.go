package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// RunSchedules runs the subtests every [commands.ScheduleStore] must pass. open returns a new, empty
// store for the subtest it is given.
func RunSchedules(t *testing.T, open func(t *testing.T) commands.ScheduleStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s commands.ScheduleStore)
	}{
		{"RoundTrip", testScheduleRoundTrip},
		{"UsedID", testScheduleUsedID},
		{"Remove", testScheduleRemove},
		{"ClaimOnce", testClaimOnce},
		{"RacingClaims", testRacingClaims},
		{"Update", testScheduleUpdate},
		{"RacingActivation", testRacingActivation},
		{"PruneOccurrences", testPruneOccurrences},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func fullSchedule(id string, created time.Time) commands.ScheduleRecord {
	return commands.ScheduleRecord{ID: id, Verb: commands.VerbStop, ClusterID: uuid.New(), ClusterName: "staging ünïcode <x>",
		Hour: 19, Minute: 5, Days: commands.Weekdays, Zone: "Europe/Paris", CreatedBy: "U0ALICE", ChannelID: "C0OPS", CreatedAt: created}
}

func testScheduleRoundTrip(t *testing.T, s commands.ScheduleStore) {
	if list, err := s.Schedules(t.Context()); err != nil || len(list) != 0 {
		t.Fatalf("Schedules() of an empty store = %v, %v", list, err)
	}
	later, earlier := fullSchedule("b0000001", fixedTime(2)), fullSchedule("a0000002", fixedTime(1))
	for _, r := range []commands.ScheduleRecord{later, earlier} {
		if err := s.AddSchedule(t.Context(), r); err != nil {
			t.Fatalf("AddSchedule(%s) = %v", r.ID, err)
		}
	}
	list, err := s.Schedules(t.Context())
	if err != nil || len(list) != 2 {
		t.Fatalf("Schedules() = %v, %v; want 2", list, err)
	}
	for i, want := range []commands.ScheduleRecord{earlier, later} {
		got := list[i]
		if !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("schedule %d created %v; want %v (oldest first)", i, got.CreatedAt, want.CreatedAt)
		}
		got.CreatedAt = want.CreatedAt
		if got != want {
			t.Errorf("schedule %d = %+v; want %+v", i, got, want)
		}
	}
}

func testScheduleUsedID(t *testing.T, s commands.ScheduleStore) {
	if err := s.AddSchedule(t.Context(), fullSchedule("c0000001", fixedTime(0))); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSchedule(t.Context(), fullSchedule("c0000001", fixedTime(1))); !errors.Is(err, commands.ErrScheduleExists) {
		t.Fatalf("AddSchedule(used id) = %v; want ErrScheduleExists", err)
	}
}

func testScheduleRemove(t *testing.T, s commands.ScheduleStore) {
	r := fullSchedule("d0000001", fixedTime(0))
	if err := s.AddSchedule(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	got, err := s.RemoveSchedule(t.Context(), r.ID)
	if err != nil || got.ID != r.ID || got.ClusterName != r.ClusterName {
		t.Fatalf("RemoveSchedule = %+v, %v; want the schedule", got, err)
	}
	if _, err := s.RemoveSchedule(t.Context(), r.ID); !errors.Is(err, commands.ErrNotFound) {
		t.Fatalf("RemoveSchedule(again) = %v; want ErrNotFound", err)
	}
	if list, _ := s.Schedules(t.Context()); len(list) != 0 {
		t.Fatalf("Schedules() after the removal = %v", list)
	}
}

func testClaimOnce(t *testing.T, s commands.ScheduleStore) {
	at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	if ok, err := s.ClaimOccurrence(t.Context(), "e0000001", at, commands.OccurrenceRun); !ok || err != nil {
		t.Fatalf("first claim = %v, %v; want it won", ok, err)
	}
	// The same instant in another zone is the same occurrence.
	if ok, err := s.ClaimOccurrence(t.Context(), "e0000001", at.In(time.FixedZone("CET", 3600)), commands.OccurrenceSkipped); ok || err != nil {
		t.Fatalf("second claim = %v, %v; want it lost", ok, err)
	}
	if got, err := s.Occurrence(t.Context(), "e0000001", at); got != commands.OccurrenceRun || err != nil {
		t.Errorf("Occurrence = %q, %v; want the first claim's outcome", got, err)
	}
	if _, err := s.Occurrence(t.Context(), "e0000001", at.Add(time.Hour)); !errors.Is(err, commands.ErrNotFound) {
		t.Errorf("Occurrence(unclaimed) = %v; want ErrNotFound", err)
	}
	if ok, _ := s.ClaimOccurrence(t.Context(), "e0000001", at.Add(24*time.Hour), commands.OccurrenceRun); !ok {
		t.Error("the next day's occurrence was refused")
	}
	if ok, _ := s.ClaimOccurrence(t.Context(), "e0000002", at, commands.OccurrenceRun); !ok {
		t.Error("another schedule's occurrence at the same time was refused")
	}
}

func testRacingClaims(t *testing.T, s commands.ScheduleStore) {
	at := time.Date(2026, 12, 8, 18, 0, 0, 0, time.UTC)
	const n = 8
	if count := racers(n, func() bool {
		ok, err := s.ClaimOccurrence(t.Context(), "f0000001", at, commands.OccurrenceRun)
		if err != nil {
			t.Error(err)
		}
		return ok
	}); count != 1 {
		t.Fatalf("%d of %d racing claims won; want exactly 1", count, n)
	}
}

// racers runs try n times at once and returns how many of them won.
func racers(n int, try func() bool) int {
	var all sync.WaitGroup
	won := make(chan bool, n)
	for range n {
		all.Go(func() { won <- try() })
	}
	all.Wait()
	close(won)
	count := 0
	for ok := range won {
		if ok {
			count++
		}
	}
	return count
}

func testScheduleUpdate(t *testing.T, s commands.ScheduleStore) {
	r := fullSchedule("g0000001", fixedTime(0))
	r.State = commands.SchedulePending
	if err := s.AddSchedule(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	refuse := errors.New("refused")
	if got, err := s.UpdateSchedule(t.Context(), r.ID, func(*commands.ScheduleRecord) error { return refuse }); !errors.Is(err, refuse) || got.State != commands.SchedulePending {
		t.Fatalf("UpdateSchedule(refusing fn) = %+v, %v; want the schedule unchanged and the fn's error", got, err)
	}
	got, err := s.UpdateSchedule(t.Context(), r.ID, func(r *commands.ScheduleRecord) error {
		r.State, r.ConfirmedBy, r.MessageTS = commands.ScheduleActive, "U0BOB", "1700000000.000100"
		return nil
	})
	if err != nil || got.State != commands.ScheduleActive || got.ConfirmedBy != "U0BOB" {
		t.Fatalf("UpdateSchedule = %+v, %v; want it active, confirmed by U0BOB", got, err)
	}
	list, err := s.Schedules(t.Context())
	if err != nil || len(list) != 1 || list[0].State != commands.ScheduleActive || list[0].MessageTS != "1700000000.000100" {
		t.Fatalf("Schedules() after the update = %+v, %v", list, err)
	}
	if _, err := s.UpdateSchedule(t.Context(), "nothere", func(*commands.ScheduleRecord) error { return nil }); !errors.Is(err, commands.ErrNotFound) {
		t.Fatalf("UpdateSchedule(unknown) = %v; want ErrNotFound", err)
	}
}

// testRacingActivation: of racing read-modify-writes, each sees what the one before wrote, so
// exactly one moves the schedule from pending to active.
func testRacingActivation(t *testing.T, s commands.ScheduleStore) {
	r := fullSchedule("h0000001", fixedTime(0))
	r.State = commands.SchedulePending
	if err := s.AddSchedule(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	errNotPending := errors.New("not pending")
	const n = 8
	if count := racers(n, func() bool {
		_, err := s.UpdateSchedule(t.Context(), r.ID, func(r *commands.ScheduleRecord) error {
			if r.State != commands.SchedulePending {
				return errNotPending
			}
			r.State = commands.ScheduleActive
			return nil
		})
		if err != nil && !errors.Is(err, errNotPending) {
			t.Error(err)
		}
		return err == nil
	}); count != 1 {
		t.Fatalf("%d of %d racing activations won; want exactly 1", count, n)
	}
}

func testPruneOccurrences(t *testing.T, s commands.ScheduleStore) {
	old := time.Date(2026, 11, 1, 18, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	for _, id := range []string{"i0000001", "i0000001/heads-up"} {
		for _, at := range []time.Time{old, recent} {
			if ok, err := s.ClaimOccurrence(t.Context(), id, at, commands.OccurrenceRun); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
	}
	n, err := s.PruneOccurrences(t.Context(), recent.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneOccurrences = %d, %v; want the 2 old ones", n, err)
	}
	if _, err := s.Occurrence(t.Context(), "i0000001", old); !errors.Is(err, commands.ErrNotFound) {
		t.Errorf("an old occurrence is still kept: %v", err)
	}
	if got, err := s.Occurrence(t.Context(), "i0000001/heads-up", recent); got != commands.OccurrenceRun || err != nil {
		t.Errorf("a recent heads-up was pruned: %q, %v", got, err)
	}
}
