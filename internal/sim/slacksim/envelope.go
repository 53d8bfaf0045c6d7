package slacksim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// envelope is one Socket Mode request, kept so that it can be redelivered.
type envelope struct {
	id           string
	typ          string
	payload      json.RawMessage
	retryAttempt int
	retryReason  string

	// For the side effects of a slash command's ack payload.
	user, channel, command string
	// submits is the view a view_submission envelope submits, whose ack
	// payload decides what happens to it.
	submits string
	// socket is the id of the socket of the latest delivery, for late acks.
	socket int
}

// frameLocked encodes the envelope as Slack sends it. retry_attempt and
// retry_reason only appear on redeliveries.
func (e *envelope) frameLocked() []byte {
	type wire struct {
		EnvelopeID             string          `json:"envelope_id"`
		Payload                json.RawMessage `json:"payload"`
		Type                   string          `json:"type"`
		AcceptsResponsePayload bool            `json:"accepts_response_payload"`
		RetryAttempt           int             `json:"retry_attempt,omitempty"`
		RetryReason            string          `json:"retry_reason,omitempty"`
	}
	b, _ := json.Marshal(wire{e.id, e.payload, e.typ, true, e.retryAttempt, e.retryReason})
	return b
}

type delivery struct {
	env    *envelope
	retry  int
	socket int // the id of the socket the envelope was sent on
	sent   time.Time
	done   chan Ack // buffered: the ack is handed over under the lock
	// view is what a view_submission's ack did, set before the ack is
	// handed over on done.
	view *ViewResult
}

func (s *Server) newEnvelopeLocked(typ string) *envelope {
	s.envSeq++
	n := s.envSeq
	env := &envelope{id: fmt.Sprintf("%08x-fa4e-4a5e-8000-%012x", n, n), typ: typ}
	s.envelopes[env.id] = env
	return env
}

// liveConnsLocked returns the sockets envelopes can go to, in the order they
// connected.
func (s *Server) liveConnsLocked() []*wsConn {
	var live []*wsConn
	for _, c := range s.conns {
		if c.ready && !c.draining {
			live = append(live, c)
		}
	}
	return live
}

// pickConnLocked chooses the live socket for the next envelope, or nil when
// there is none. Slack hands each envelope to a random one of an app's
// connections and promises no pattern. By default the fake goes round robin
// over the live sockets in the order they connected, which keeps
// multi-replica tests deterministic; with [WithRandomRouting] it picks a
// uniformly random live socket from the server's seeded generator, which
// s.mu guards like the rest of the state.
func (s *Server) pickConnLocked() *wsConn {
	live := s.liveConnsLocked()
	if len(live) == 0 {
		return nil
	}
	if s.rng != nil {
		return live[s.rng.IntN(len(live))]
	}
	c := live[s.rr%len(live)]
	s.rr++
	return c
}

// deliver sends an envelope and waits for its ack.
func (s *Server) deliver(ctx context.Context, env *envelope) (Ack, error) {
	a, _, err := s.deliverTracked(ctx, env)
	return a, err
}

// deliverTracked is deliver that also returns the delivery the ack
// answered, for what handling the ack recorded on it; the delivery is nil
// when there was no ack.
func (s *Server) deliverTracked(ctx context.Context, env *envelope) (Ack, *delivery, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Ack{}, nil, ErrClosed
	}
	if _, busy := s.pending[env.id]; busy {
		s.mu.Unlock()
		return Ack{}, nil, fmt.Errorf("slacksim: envelope %s is still awaiting its ack", env.id)
	}
	c := s.pickConnLocked()
	if c == nil {
		s.mu.Unlock()
		return Ack{}, nil, ErrNotConnected
	}
	frame := env.frameLocked()
	env.socket = c.id
	d := &delivery{env: env, retry: env.retryAttempt, socket: c.id, sent: time.Now(), done: make(chan Ack, 1)}
	s.pending[env.id] = d
	s.mu.Unlock()

	if err := c.write(frame); err != nil {
		s.forget(d)
		s.removeConn(c)
		return Ack{}, nil, fmt.Errorf("%w: send envelope %s: %v", ErrNotConnected, env.id, err)
	}
	timer := time.NewTimer(s.cfg.ackTimeout)
	defer timer.Stop()
	select {
	case a := <-d.done:
		return a, d, nil
	case <-timer.C:
		a, acked, err := s.expire(d)
		if !acked {
			return a, nil, err
		}
		return a, d, nil
	case <-ctx.Done():
		if a, ok := s.forget(d); ok {
			return a, d, nil
		}
		return Ack{}, nil, ctx.Err()
	case <-s.done:
		return Ack{}, nil, ErrClosed
	}
}

// forget stops waiting for d. If the ack won the race, it returns it.
func (s *Server) forget(d *delivery) (Ack, bool) {
	s.mu.Lock()
	if s.pending[d.env.id] == d {
		delete(s.pending, d.env.id)
		s.mu.Unlock()
		return Ack{}, false
	}
	s.mu.Unlock()
	return <-d.done, true
}

// expire records a missed ack deadline. For a slash command Slack shows the
// user an operation_timeout error, so the fake records that as an
// ephemeral message from Slack. acked reports that the ack won the race
// after all.
func (s *Server) expire(d *delivery) (a Ack, acked bool, err error) {
	s.mu.Lock()
	if s.pending[d.env.id] != d {
		s.mu.Unlock()
		return <-d.done, true, nil
	}
	delete(s.pending, d.env.id)
	env := d.env
	s.acks = append(s.acks, AckRecord{
		EnvelopeID: env.id, Type: env.typ, RetryAttempt: d.retry, Socket: d.socket,
		Latency: time.Since(d.sent), At: s.now(), TimedOut: true,
	})
	if env.typ == envelopeSlash {
		s.addEphemeralLocked(&Ephemeral{
			Channel: env.channel, User: env.user, Source: "slack",
			Text: fmt.Sprintf("%s failed with the error \"operation_timeout\"", env.command),
		})
	}
	s.notifyLocked()
	s.mu.Unlock()
	return Ack{}, false, fmt.Errorf("%w (envelope %s, %s, after %v)", ErrAckTimeout, env.id, env.typ, s.cfg.ackTimeout)
}

// handleAck matches an ack to the delivery waiting for it. Acks are matched
// by envelope_id alone, whatever socket they arrive on, because slack-go
// sends an ack queued during a reconnect on the next socket; the ack's
// Socket is therefore the socket the envelope was sent on.
func (s *Server) handleAck(id string, payload json.RawMessage) {
	if string(payload) == "null" {
		payload = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := AckRecord{EnvelopeID: id, Payload: payload, At: s.now()}
	d := s.pending[id]
	if d == nil {
		rec.Late = true
		if env := s.envelopes[id]; env != nil {
			rec.Type, rec.RetryAttempt, rec.Socket = env.typ, env.retryAttempt, env.socket
		}
		s.acks = append(s.acks, rec)
		s.notifyLocked()
		return
	}
	delete(s.pending, id)
	rec.Type, rec.RetryAttempt, rec.Socket, rec.Latency = d.env.typ, d.retry, d.socket, time.Since(d.sent)
	if d.env.typ == envelopeSlash && payload != nil {
		rec.Error = s.applySlashAckLocked(d.env, payload)
	}
	if d.env.submits != "" {
		res := s.applyViewAckLocked(d.env.submits, payload)
		d.view = &res
		rec.Error = res.Error
	}
	s.acks = append(s.acks, rec)
	s.notifyLocked()
	d.done <- Ack{EnvelopeID: id, Socket: d.socket, Payload: payload, Latency: rec.Latency}
}

// Redeliver sends an envelope that was already delivered again, with the
// same envelope_id and retry_attempt incremented, as Slack does when it
// believes an ack was lost, and waits for the ack. Apps should recognise
// the duplicate.
func (s *Server) Redeliver(ctx context.Context, envelopeID string) (Ack, error) {
	s.mu.Lock()
	env, ok := s.envelopes[envelopeID]
	if !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("slacksim: redeliver: unknown envelope %q", envelopeID)
	}
	env.retryAttempt++
	env.retryReason = "timeout"
	s.mu.Unlock()
	return s.deliver(ctx, env)
}
