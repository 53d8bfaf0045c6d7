package bot

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer spaces the bot's messages to each channel: Slack allows about one chat.postMessage per
// second per channel, and a burst of status lines (forty clusters stopping at night) would otherwise
// be met with 429s. Each channel has its own limiter, with a burst of one. Callers reserve their
// slot in turn and then wait for it, so messages keep the order in which they asked.
type pacer struct {
	every rate.Limit
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu       sync.Mutex
	channels map[string]*rate.Limiter
}

// newPacer returns a pacer allowing one message per interval to each channel; zero or less turns
// pacing off.
func newPacer(interval time.Duration) *pacer {
	if interval <= 0 {
		return nil
	}
	return &pacer{every: rate.Every(interval), now: time.Now, sleep: sleepCtx, channels: map[string]*rate.Limiter{}}
}

// wait blocks until channel's next slot. A wait cut short by ctx hands its slot back.
func (p *pacer) wait(ctx context.Context, channel string) error {
	if p == nil {
		return nil
	}
	// Reserving under the lock keeps the clock readings and the reservations in one order.
	p.mu.Lock()
	l := p.channels[channel]
	if l == nil {
		l = rate.NewLimiter(p.every, 1)
		p.channels[channel] = l
	}
	now := p.now()
	r := l.ReserveN(now, 1) // always OK: one never exceeds the burst
	p.mu.Unlock()
	if err := p.sleep(ctx, r.DelayFrom(now)); err != nil {
		r.CancelAt(p.now())
		return err
	}
	return nil
}

// sleepCtx waits for d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
