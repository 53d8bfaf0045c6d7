package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPacerSpacesMessagesPerChannel(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	var waits []time.Duration
	cancelNext := false
	p := newPacer(time.Second)
	p.now = func() time.Time { return now }
	p.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		if cancelNext {
			cancelNext = false
			return context.Canceled
		}
		return nil
	}

	for _, ch := range []string{"C1", "C1", "C1", "C2"} {
		if err := p.wait(t.Context(), ch); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(5 * time.Second) // a quiet channel starts afresh
	_ = p.wait(t.Context(), "C1")
	// A wait cut short hands its slot back: the next message takes it.
	cancelNext = true
	if err := p.wait(t.Context(), "C1"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait = %v; want context.Canceled", err)
	}
	_ = p.wait(t.Context(), "C1")
	want := []time.Duration{0, time.Second, 2 * time.Second, 0, 0, time.Second, time.Second}
	if len(waits) != len(want) {
		t.Fatalf("waits = %v; want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait %d = %v; want %v", i, waits[i], want[i])
		}
	}
	var off *pacer
	if err := off.wait(t.Context(), "C1"); err != nil {
		t.Errorf("a nil pacer waited: %v", err)
	}
	if newPacer(0) != nil {
		t.Error("newPacer(0) paces; want pacing off")
	}
}
