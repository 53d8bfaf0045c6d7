package qoverysim

import (
	"fmt"
	"net/http"
	"time"
)

// Fault is an injected failure, answered instead of the route's normal
// response. Faults apply only to authorized requests with the right method.
type Fault struct {
	// StatusCode is the status to answer. Zero drops the connection without
	// answering, as a crashed proxy would; the client sees an EOF.
	StatusCode int
	// Detail is the "detail" of the JSON error body; empty means a generic
	// one naming the status.
	Detail string
	// RetryAfter, if not empty, is sent as the Retry-After header.
	RetryAfter string
	// Times is how many consecutive requests the fault answers; zero or
	// less means one.
	Times int
	// Apply makes the request take effect (a stop is accepted, a status
	// read advances the script) before the fault is answered: the lost
	// answer after a gateway timeout, which is why POSTs are not retried.
	Apply bool
}

// FailNext makes the next n requests to route answer statusCode with a JSON
// error body. A 429 carries "Retry-After: 0" so clients retry at once.
func (s *Server) FailNext(route Route, statusCode, n int) {
	f := Fault{StatusCode: statusCode, Times: n}
	if statusCode == http.StatusTooManyRequests {
		f.RetryAfter = "0"
	}
	s.InjectFault(route, f)
}

// InjectFault queues f for route, after any fault already queued there.
func (s *Server) InjectFault(route Route, f Fault) {
	n := max(f.Times, 1)
	f.Times = 1
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[route] = append(s.faults[route], f)
	}
}

// SetDelay holds every request to route for d before answering, to exercise
// timeouts. A request is released early if its client goes away or the
// server closes. d <= 0 removes the delay.
func (s *Server) SetDelay(route Route, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.delays, route)
		return
	}
	s.delays[route] = d
}

// SetResponseStatus makes successful requests to route answer code instead
// of the documented one, e.g. 200 instead of 202 for stop, as real servers
// do. A 204 is sent without a body. Zero restores the default. It panics if
// code is neither zero nor 2xx; use [Server.FailNext] for failures.
func (s *Server) SetResponseStatus(route Route, code int) {
	if code != 0 && (code < 200 || code > 299) {
		panic(fmt.Sprintf("qoverysim: SetResponseStatus(%s, %d): want a 2xx code", route, code))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.codes, route)
		return
	}
	s.codes[route] = code
}

func (s *Server) takeFault(route Route) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[route]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[route] = q[1:]
	return q[0], true
}

// wait applies the route's delay. It reports false if the request should be
// abandoned because the client went away or the server is closing.
func (s *Server) wait(r *http.Request, route Route) bool {
	s.mu.Lock()
	d := s.delays[route]
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.StatusCode == 0 {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
		// Hijacking is impossible (HTTP/2): a 502 is the closest thing.
		f.StatusCode = http.StatusBadGateway
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	detail := f.Detail
	if detail == "" {
		detail = fmt.Sprintf("injected failure: %d %s", f.StatusCode, http.StatusText(f.StatusCode))
	}
	writeError(w, f.StatusCode, detail)
}
