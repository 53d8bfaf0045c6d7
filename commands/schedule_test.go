package commands

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseSchedule(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	s, err := parseSchedule("stop staging at 19:00 on weekdays tz Europe/Paris")
	if err != nil || s.Verb != VerbStop || s.Cluster != "staging" || s.Hour != 19 || s.Minute != 0 || s.Days != Weekdays || s.Zone.String() != "Europe/Paris" {
		t.Fatalf("parseSchedule = %+v, %v", s, err)
	}
	if got := s.Describe(); got != "every weekday at 19:00 Europe/Paris" {
		t.Errorf("Describe = %q", got)
	}
	s, err = parseSchedule("START preview at 7:05 on mon,wed,sun")
	if err != nil || s.Verb != VerbStart || s.Hour != 7 || s.Minute != 5 || s.Days.String() != "mon,wed,sun" || s.Zone != nil {
		t.Fatalf("parseSchedule = %+v, %v; want no zone (the default applies) and the listed days", s, err)
	}
	s.Zone = paris
	if got := s.Describe(); got != "every Mon, Wed and Sun at 07:05 Europe/Paris" {
		t.Errorf("Describe = %q", got)
	}
	if s, _ := parseSchedule("stop x at 23:59 on fri tz UTC"); s.Describe() != "every Fri at 23:59 UTC" {
		t.Errorf("Describe = %q", s.Describe())
	}
	if s, _ := parseSchedule("stop x at 00:00"); s.Days != Daily {
		t.Errorf("defaults = %+v; want daily", s)
	}
	for _, bad := range []string{"", "stop staging", "restart staging at 19:00", "stop staging 19:00", "stop staging at 7pm",
		"stop staging at 24:00", "stop staging at 19:60", "stop staging at 19:0", "stop staging at 19:00 on holidays",
		"stop staging at 19:00 tz Mars/Olympus", "stop staging at 19:00 tz Local", "stop staging at 19:00 on"} {
		_, err := parseSchedule(bad)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(ue.Msg.String(), "schedule stop staging at 19:00 on weekdays tz Europe/Paris") {
			t.Errorf("parseSchedule(%q) = %v; want a usage error with a correct example", bad, err)
		}
	}
}

// A year of weekday runs at 19:00 in several zones: every weekday once, at 19:00 local, on both
// sides of the daylight-saving changes, and never on a weekend.
func TestScheduleNextOverAYear(t *testing.T) {
	for _, name := range []string{"Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"} {
		t.Run(name, func(t *testing.T) {
			loc := zone(t, name)
			s := Schedule{Verb: VerbStop, Hour: 19, Days: Weekdays, Zone: loc}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
			runs := 0
			for at := s.Next(start); at.Year() == 2026; at = s.Next(at) {
				local := at.In(loc)
				if local.Hour() != 19 || local.Minute() != 0 || !Weekdays.Has(local.Weekday()) {
					t.Fatalf("run at %v", local)
				}
				runs++
			}
			// 2026 has 261 weekdays.
			if runs != 261 {
				t.Fatalf("%d runs in 2026; want 261", runs)
			}
		})
	}
}

// A time the clock skips runs at the first instant after the skip; a time it repeats runs once.
func TestScheduleAcrossDaylightSaving(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	// 29 March 2026: 02:00 CET becomes 03:00 CEST.
	s := Schedule{Verb: VerbStop, Hour: 2, Minute: 30, Days: Daily, Zone: paris}
	got := s.Next(time.Date(2026, 3, 28, 12, 0, 0, 0, paris))
	if want := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("skipped 02:30 runs at %v; want %v (03:00 CEST, the first instant after the skip)", got.In(paris), want.In(paris))
	}
	if next := s.Next(got); !next.Equal(time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("the day after, it runs at %v; want 02:30 CEST", next.In(paris))
	}
	// 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
	first := s.Next(time.Date(2026, 10, 25, 0, 0, 0, 0, paris))
	if want := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC); !first.Equal(want) {
		t.Errorf("repeated 02:30 runs first at %v; want %v (02:30 CEST)", first, want)
	}
	if next := s.Next(first); next.Day() != 26 {
		t.Errorf("after the first 02:30 the next run is %v; want the next day (not the repeated 02:30 CET)", next.In(paris))
	}
	// New York, 8 March 2026: 02:00 EST becomes 03:00 EDT.
	ny := zone(t, "America/New_York")
	s = Schedule{Verb: VerbStart, Hour: 2, Minute: 15, Days: Days(1 << time.Sunday), Zone: ny}
	if got := s.Next(time.Date(2026, 3, 7, 0, 0, 0, 0, ny)); !got.Equal(time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("skipped 02:15 runs at %v; want 03:00 EDT", got.In(ny))
	}
}

// A bot checking on time runs each occurrence once, on time; one back after being down runs the
// occurrence within the grace late, saying how late, and reports older ones missed.
func TestScheduleDueBetween(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	s := Schedule{Verb: VerbStop, Hour: 19, Days: Weekdays, Zone: paris}
	monday := time.Date(2026, 12, 7, 19, 0, 0, 0, paris)

	if due := s.DueBetween(monday.Add(-3*time.Second), monday.Add(2*time.Second), DefaultScheduleGrace); len(due) != 1 || !due[0].At.Equal(monday) || due[0].Missed || due[0].Late != 2*time.Second {
		t.Fatalf("due around Monday 19:00 = %+v; want Monday's, 2 s late", due)
	}
	if due := s.DueBetween(monday, monday.Add(time.Hour), DefaultScheduleGrace); len(due) != 0 {
		t.Fatalf("due after Monday's run = %+v; want none (never twice)", due)
	}
	// Down from Monday 18:00 to Wednesday 19:20: Monday's and Tuesday's are missed, Wednesday's
	// runs 20 minutes late.
	due := s.DueBetween(monday.Add(-time.Hour), monday.AddDate(0, 0, 2).Add(20*time.Minute), DefaultScheduleGrace)
	if len(due) != 3 || !due[0].Missed || !due[1].Missed || due[2].Missed || due[2].Late != 20*time.Minute {
		t.Fatalf("due after two days down = %+v; want two missed, then one 20 min late", due)
	}
	// Back 40 minutes late: past the grace, missed.
	due = s.DueBetween(monday.Add(-time.Minute), monday.Add(40*time.Minute), DefaultScheduleGrace)
	if len(due) != 1 || !due[0].Missed {
		t.Fatalf("due 40 min late = %+v; want it missed", due)
	}
	// Nothing on a weekend.
	saturday := time.Date(2026, 12, 12, 0, 0, 0, 0, paris)
	if due := s.DueBetween(saturday, saturday.Add(47*time.Hour), DefaultScheduleGrace); len(due) != 0 {
		t.Fatalf("due over a weekend = %+v", due)
	}
}
