package commands

import (
	"fmt"
	"time"
)

// Times and durations, as messages show them.

// FormatDuration renders an elapsed time the way people read it in a thread: 41s, 7m41s, 1h02m.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// FormatTime renders an instant for a message: UTC, to the minute, since users sit in many time zones.
func FormatTime(t time.Time) string { return t.UTC().Format("15:04 MST") }
