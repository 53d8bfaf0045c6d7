package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A schedule runs a stop or a start of a cluster at a time of day, on some days of the week, in a
// time zone: `/qovery schedule stop <cluster> at <HH:MM> [on <days>] [tz <IANA zone>]`. This file
// reads that syntax and computes when a schedule runs next, daylight-saving changes included.

// Days is a set of weekdays, one bit per time.Weekday.
type Days uint8

// The sets of days a schedule names with one word.
const (
	Daily    Days = 1<<7 - 1
	Weekdays Days = 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday
	Weekends Days = 1<<time.Saturday | 1<<time.Sunday
)

// Has reports whether d holds day.
func (d Days) Has(day time.Weekday) bool { return d&(1<<day) != 0 }

var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// String renders d as the schedule syntax writes it: daily, weekdays, weekends or mon,wed,fri.
func (d Days) String() string {
	switch d {
	case Daily:
		return "daily"
	case Weekdays:
		return "weekdays"
	case Weekends:
		return "weekends"
	}
	var names []string
	for _, day := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if d.Has(day) {
			names = append(names, dayNames[day])
		}
	}
	return strings.Join(names, ",")
}

// parseDays reads daily, weekdays, weekends, or a comma list of mon … sun.
func parseDays(s string) (Days, bool) {
	switch strings.ToLower(s) {
	case "daily":
		return Daily, true
	case "weekdays":
		return Weekdays, true
	case "weekends":
		return Weekends, true
	}
	var d Days
	for _, name := range strings.Split(strings.ToLower(s), ",") {
		i := -1
		for j, n := range dayNames {
			if n == name {
				i = j
			}
		}
		if i < 0 {
			return 0, false
		}
		d |= 1 << i
	}
	return d, d != 0
}

// Schedule is when a verb (stop or start) runs on a cluster.
type Schedule struct {
	Verb    Verb
	Cluster string
	// Hour and Minute are the time of day, 24-hour, in Zone.
	Hour, Minute int
	Days         Days
	Zone         *time.Location
}

// scheduleUsage is the usage line of `/qovery schedule`, with a correct example.
func scheduleUsage() Text {
	return Say("Usage: ", Code(CommandName+" schedule stop|start <cluster> at <HH:MM> [on <days>] [tz <zone>]"), ", e.g. ",
		Code(CommandName+" schedule stop staging at 19:00 on weekdays tz Europe/Paris"),
		". Days: daily (the default), weekdays, weekends, or a list such as mon,wed,fri; times are 24-hour.")
}

// parseSchedule reads what follows `/qovery schedule`: `<stop|start> <cluster> at <HH:MM> [on
// <days>] [tz <IANA zone>]`. Without tz, Zone is nil: the handler's default zone applies.
func parseSchedule(arg string) (Schedule, error) {
	bad := func(why string) (Schedule, error) {
		return Schedule{}, &UsageError{Verb: VerbSchedule, Msg: Say(why+" ", scheduleUsage())}
	}
	f := strings.Fields(arg)
	if len(f) < 4 {
		return bad("A schedule needs a verb, a cluster and a time.")
	}
	s := Schedule{Verb: Verb(strings.ToLower(f[0])), Cluster: f[1], Days: Daily}
	if s.Verb != VerbStop && s.Verb != VerbStart {
		return bad("A schedule stops or starts a cluster.")
	}
	if strings.ToLower(f[2]) != "at" {
		return bad("Say when with “at”.")
	}
	h, m, ok := parseClock(f[3])
	if !ok {
		return bad("The time must be 24-hour HH:MM, such as 19:00 or 07:30.")
	}
	s.Hour, s.Minute = h, m
	rest := f[4:]
	for len(rest) > 0 {
		if len(rest) < 2 {
			return bad("“" + rest[0] + "” needs a value.")
		}
		switch strings.ToLower(rest[0]) {
		case "on":
			d, ok := parseDays(rest[1])
			if !ok {
				return bad("The days must be daily, weekdays, weekends, or a list of mon,tue,wed,thu,fri,sat,sun.")
			}
			s.Days = d
		case "tz":
			loc, err := time.LoadLocation(rest[1])
			if err != nil || rest[1] == "" || strings.EqualFold(rest[1], "local") {
				return bad("The zone must be an IANA time zone, such as Europe/Paris or America/New_York.")
			}
			s.Zone = loc
		default:
			return bad("After the time come “on <days>” and “tz <zone>”.")
		}
		rest = rest[2:]
	}
	return s, nil
}

// parseClock reads a 24-hour H:MM or HH:MM.
func parseClock(s string) (hour, minute int, ok bool) {
	hs, ms, found := strings.Cut(s, ":")
	if !found || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || strings.ContainsAny(s, "+-") {
		return 0, 0, false
	}
	return h, m, true
}

// Next returns the first run of s strictly after t. A time of day that a daylight-saving change
// skips runs at the first instant after the skip; one that it repeats runs once, at its first
// occurrence.
func (s Schedule) Next(t time.Time) time.Time {
	local := t.In(s.Zone)
	for day := 0; day <= 8; day++ {
		date := time.Date(local.Year(), local.Month(), local.Day()+day, 0, 0, 0, 0, s.Zone)
		if !s.Days.Has(date.Weekday()) {
			continue
		}
		if at := s.on(date); at.After(t) {
			return at
		}
	}
	panic("commands: a schedule with no day") // ParseSchedule never makes one
}

// on is the run of s on the date of day (midnight in s.Zone).
func (s Schedule) on(day time.Time) time.Time {
	at := time.Date(day.Year(), day.Month(), day.Day(), s.Hour, s.Minute, 0, 0, s.Zone)
	if at.Hour() != s.Hour || at.Minute() != s.Minute {
		// The clock skipped this time (spring forward): run when the new offset begins. Go
		// placed the time on one side of the skip or the other.
		start, end := at.ZoneBounds()
		if at.Hour()*60+at.Minute() < s.Hour*60+s.Minute {
			return end
		}
		return start
	}
	// The clock may show this time twice (fall back): the first time is the earlier instant.
	for _, back := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		if e := at.Add(-back); e.Hour() == s.Hour && e.Minute() == s.Minute && e.Day() == at.Day() {
			return e
		}
	}
	return at
}

// Describe renders s for people: "every weekday at 19:00 Europe/Paris".
func (s Schedule) Describe() string {
	when := "every day"
	switch s.Days {
	case Daily:
	case Weekdays:
		when = "every weekday"
	case Weekends:
		when = "every weekend day"
	default:
		var names []string
		for _, day := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
			if s.Days.Has(day) {
				names = append(names, day.String()[:3])
			}
		}
		when = "every " + names[0]
		if n := len(names); n > 1 {
			when = "every " + strings.Join(names[:n-1], ", ") + " and " + names[n-1]
		}
	}
	return fmt.Sprintf("%s at %02d:%02d %s", when, s.Hour, s.Minute, s.Zone)
}

// DefaultScheduleGrace is how late a run missed while the bot was down may still be made; past it,
// the run is reported missed instead. (QOVERY_BOT_SCHEDULE_GRACE will set it once schedules run;
// nothing reads schedules yet.)
const DefaultScheduleGrace = 30 * time.Minute

// Due is one occurrence of a schedule that has come: to run (Late says how late, zero when on
// time), or missed (past the grace).
type Due struct {
	At     time.Time
	Late   time.Duration
	Missed bool
}

// DueBetween returns the occurrences of s after since and not after now, oldest first: those
// within grace of now are to run, older ones are missed. A bot that checks every few seconds sees
// at most one, on time; a bot back after being down sees what it missed.
func (s Schedule) DueBetween(since, now time.Time, grace time.Duration) []Due {
	var due []Due
	for at := s.Next(since); !at.After(now); at = s.Next(at) {
		late := now.Sub(at)
		due = append(due, Due{At: at, Late: late, Missed: late > grace})
	}
	return due
}
