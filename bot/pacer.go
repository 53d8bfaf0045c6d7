package bot

import (
	"context"
	"sync"
	"time"
)

// pacer spaces the bot's messages to each channel: Slack allows about one chat.postMessage per
// second per channel, and a burst of status lines (forty clusters stopping at night) would otherwise
// be met with 429s. Callers reserve slots in turn, so messages keep the order in which they asked.
type pacer struct {
	interval time.Duration
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	next map[string]time.Time // channel → earliest time of its next message
}

func newPacer(interval time.Duration) *pacer {
	return &pacer{interval: interval, now: time.Now, sleep: sleepCtx, next: map[string]time.Time{}}
}

// wait blocks until channel's next slot.
func (p *pacer) wait(ctx context.Context, channel string) error {
	if p == nil || p.interval <= 0 {
		return nil
	}
	p.mu.Lock()
	now := p.now()
	at := p.next[channel]
	if at.Before(now) {
		at = now
	}
	p.next[channel] = at.Add(p.interval)
	p.mu.Unlock()
	return p.sleep(ctx, at.Sub(now))
}

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
