// Package qoverysim runs a fake Qovery API on a loopback port, for tests and
// for the program's local console.
//
// The fake serves the endpoints [qovery.Client] uses, with the JSON shapes of
// the real API (checked against the OpenAPI spec by this package's contract
// test). Use [NewServer] in tests and [Start] elsewhere.
//
// Clusters follow scripted state machines advanced by status reads rather
// than by time, so a poller sees STOP_QUEUED, STOPPING, STOPPED in order and
// tests need no clocks. A read is a hit on the per-cluster status endpoint or
// on the organization-wide one (which reads every cluster of the
// organization); the plain cluster list shows the current state without
// advancing it, so resolving a name does not disturb a watcher.
//
// Answers follow what Qovery does:
//   - a missing or wrong "Authorization: Token <token>" header: 401;
//   - an unknown organization: 403, as Qovery answers for what a token
//     cannot see; an unknown cluster in a known organization: 404;
//   - a malformed UUID in the path: 400; a wrong method: 405;
//   - stop: 202 with the cluster's status, or 409 when the cluster is
//     STOPPED, READY, busy ([qovery.State.IsInProgress]) or locked;
//   - deploy (Qovery's start): 201 from STOPPED or READY, 400 otherwise or
//     when locked, since the spec documents no 409 for deploy.
//
// Every error body is {"status":N,"detail":"…"}, as the real API's. Faults,
// delays and other success codes can be injected per [Route], and every
// request is logged ([Server.Requests]) so tests assert on traffic instead of
// sleeping.
//
// Setters naming a cluster or organization the server does not know panic:
// that is a bug in the test, and the server may be used without a
// testing.TB to report it to.
package qoverysim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// DefaultToken is the API token a [Server] accepts unless [WithToken] is
// given. It has the "qov_" prefix of real organization API tokens.
const DefaultToken = "qov_fake_token"

// Route names an endpoint of the fake, as its method and the path template of
// the Qovery OpenAPI spec.
type Route string

// The routes the fake serves.
const (
	RouteOrganizations   Route = "GET /organization"
	RouteClusters        Route = "GET /organization/{organizationId}/cluster"
	RouteClusterStatuses Route = "GET /organization/{organizationId}/cluster/status"
	RouteClusterStatus   Route = "GET /organization/{organizationId}/cluster/{clusterId}/status"
	RouteStopCluster     Route = "POST /organization/{organizationId}/cluster/{clusterId}/stop"
	RouteDeployCluster   Route = "POST /organization/{organizationId}/cluster/{clusterId}/deploy"
	RouteClusterCost     Route = "GET /organization/{organizationId}/cluster/{clusterId}/currentCost"
	RouteClusterLogs     Route = "GET /organization/{organizationId}/cluster/{clusterId}/logs"
	// The routes under /cluster/{clusterId} name no organization.
	RouteClusterEnvironments Route = "GET /cluster/{clusterId}/environments"
	RouteLockCluster         Route = "POST /cluster/{clusterId}/lock"
	RouteUnlockCluster       Route = "DELETE /cluster/{clusterId}/lock"
)

// Routes returns every [Route] the fake serves.
func Routes() []Route {
	return []Route{RouteOrganizations, RouteClusters, RouteClusterStatuses, RouteClusterStatus, RouteStopCluster, RouteDeployCluster,
		RouteClusterCost, RouteClusterLogs, RouteClusterEnvironments, RouteLockCluster, RouteUnlockCluster}
}

// Method returns the HTTP method of r.
func (r Route) Method() string {
	m, _, _ := strings.Cut(string(r), " ")
	return m
}

// Pattern returns the path template of r, as written in the OpenAPI spec.
func (r Route) Pattern() string {
	_, p, _ := strings.Cut(string(r), " ")
	return p
}

// Request is one request the server received, in the order of arrival.
type Request struct {
	Method string
	// Path is the URL path, without the query.
	Path string
	// Route is the endpoint the path matched, or "" for an unknown path.
	Route Route
	// StatusCode is the status the server answered, or 0 while the request
	// is in flight or when no answer was written (a dropped connection, or a
	// client that gave up during a delay).
	StatusCode int
	// Authorized reports whether the request carried the right token.
	Authorized bool
}

// Server is a fake Qovery API. It is safe for concurrent use.
type Server struct {
	srv       *httptest.Server
	token     string
	now       func() time.Time
	closed    chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	orgs     []*organization
	clusters []*cluster
	faults   map[Route][]Fault
	delays   map[Route]time.Duration
	codes    map[Route]int
	requests []*Request
}

// Option configures a [Server].
type Option func(*Server)

// WithToken makes the server accept token instead of [DefaultToken].
func WithToken(token string) Option {
	return func(s *Server) { s.token = token }
}

// WithClock makes the server read the time from now, for timestamps such as
// last_deployment_date and the demo lock; a fixed clock makes answers fully
// reproducible.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// NewServer starts a server for the duration of a test and closes it in
// t.Cleanup.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := Start(opts...)
	t.Cleanup(s.Close)
	return s
}

// Start starts a server on a loopback port, for use outside tests (the local
// console). The caller must call [Server.Close].
func Start(opts ...Option) *Server {
	s := &Server{
		token:  DefaultToken,
		now:    time.Now,
		closed: make(chan struct{}),
		faults: make(map[Route][]Fault),
		delays: make(map[Route]time.Duration),
		codes:  make(map[Route]int),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL returns the base URL of the server, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// Token returns the API token the server accepts.
func (s *Server) Token() string { return s.token }

// Close stops the server, first releasing requests held by [Server.SetDelay]
// so it does not wait for them. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// Client returns a [qovery.Client] pointed at the server with its token, and
// with a retry policy of tiny backoffs so retries cost no test time. opts are
// applied after those defaults. Client panics if an option is invalid.
func (s *Server) Client(opts ...qovery.Option) *qovery.Client {
	base := []qovery.Option{
		qovery.WithBaseURL(s.URL()),
		// The server's own transport has its idle connections closed by
		// Close; a timeout keeps a stuck test from hanging forever.
		qovery.WithHTTPClient(&http.Client{Transport: s.srv.Client().Transport, Timeout: 30 * time.Second}),
		qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
	}
	c, err := qovery.NewClient(s.token, append(base, opts...)...)
	if err != nil {
		panic(fmt.Sprintf("qoverysim: %v", err))
	}
	return c
}

// Requests returns a copy of the log of received requests, in order of
// arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// CountRequests returns how many logged requests had this method and path,
// e.g. CountRequests("POST", "/organization/…/cluster/…/stop").
func (s *Server) CountRequests(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// Reset clears the request log. Data, faults and delays are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// apiError is the error body the real API sends: {"status":N,"detail":"…"}.
type apiError struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// serveHTTP checks, in order: the route (404), the token (401), the method
// (405), any delay and injected fault, then hands over to the route's
// handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	route, params := match(r.Method, r.URL.Path)
	authorized := r.Header.Get("Authorization") == "Token "+s.token
	rec := &Request{Method: r.Method, Path: r.URL.Path, Route: route, Authorized: authorized}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		rec.StatusCode = sw.code
		s.mu.Unlock()
	}()

	if !authorized {
		writeError(sw, http.StatusUnauthorized, "Access token is missing or invalid")
		return
	}
	if route == "" {
		writeError(sw, http.StatusNotFound, "Resource not found")
		return
	}
	if r.Method != route.Method() {
		sw.Header().Set("Allow", route.Method())
		writeError(sw, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s not allowed", r.Method))
		return
	}
	if !s.wait(r, route) {
		// Returning normally would send an empty 200; abort the
		// connection instead, as a server going away would.
		panic(http.ErrAbortHandler)
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(sw, http.StatusBadRequest, "read the request body: "+err.Error())
		return
	}
	if f, ok := s.takeFault(route); ok {
		if f.Apply {
			// The backend acts, but the answer is lost on the way back.
			s.handle(httptest.NewRecorder(), route, params, payload)
		}
		writeFault(sw, f)
		return
	}
	s.handle(sw, route, params, payload)
}

// match maps a URL path to a route and its {organizationId}, {clusterId}
// segments. Matching is strict: no trailing slash, no empty segment. The
// method only tells apart the routes that share a path.
func match(method, path string) (Route, []string) {
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if seg[0] == "cluster" {
		return matchCluster(method, seg)
	}
	if seg[0] != "organization" {
		return "", nil
	}
	switch {
	case len(seg) == 1:
		return RouteOrganizations, nil
	case len(seg) == 3 && seg[2] == "cluster" && seg[1] != "":
		return RouteClusters, seg[1:2]
	case len(seg) == 4 && seg[2] == "cluster" && seg[3] == "status" && seg[1] != "":
		return RouteClusterStatuses, seg[1:2]
	case len(seg) == 5 && seg[2] == "cluster" && seg[1] != "" && seg[3] != "":
		params := []string{seg[1], seg[3]}
		switch seg[4] {
		case "status":
			return RouteClusterStatus, params
		case "stop":
			return RouteStopCluster, params
		case "deploy":
			return RouteDeployCluster, params
		case "currentCost":
			return RouteClusterCost, params
		case "logs":
			return RouteClusterLogs, params
		}
	}
	return "", nil
}

// handle runs the handler of route. params are already matched; their UUIDs
// are checked here so that a malformed one answers 400.
func (s *Server) handle(w http.ResponseWriter, route Route, params []string, payload []byte) {
	names := []string{"organizationId", "clusterId"}
	if len(params) == 1 && strings.HasPrefix(route.Pattern(), "/cluster/") {
		names = names[1:]
	}
	ids := make([]uuid.UUID, len(params))
	for i, p := range params {
		id, err := parseUUID(p)
		if err != nil {
			name := names[i]
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s %q is not a valid UUID", name, p))
			return
		}
		ids[i] = id
	}

	s.mu.Lock()
	var code int
	var body any
	var apiErr *apiError
	if strings.HasPrefix(route.Pattern(), "/cluster/") {
		code, body, apiErr = s.answerCluster(route, ids[0], payload)
	} else {
		code, body, apiErr = s.answer(route, ids)
	}
	if apiErr == nil {
		if override := s.codes[route]; override != 0 {
			code = override
		}
	}
	s.mu.Unlock()

	if apiErr != nil {
		writeError(w, apiErr.Status, apiErr.Detail)
		return
	}
	writeJSON(w, code, body)
}

// answer computes the response of route under s.mu, applying state changes.
func (s *Server) answer(route Route, ids []uuid.UUID) (int, any, *apiError) {
	if route == RouteOrganizations {
		list := make([]qovery.Organization, 0, len(s.orgs))
		for _, o := range s.orgs {
			list = append(list, o.api())
		}
		return http.StatusOK, results(list), nil
	}

	org := s.org(ids[0])
	if org == nil {
		// Qovery answers 403 for what the token cannot see.
		return 0, nil, &apiError{http.StatusForbidden, "Access forbidden: unknown organization or insufficient permissions"}
	}
	switch route {
	case RouteClusters:
		list := make([]qovery.Cluster, 0)
		for _, c := range s.clusters {
			if c.orgID == org.id {
				list = append(list, c.api())
			}
		}
		return http.StatusOK, results(list), nil
	case RouteClusterStatuses:
		list := make([]qovery.ClusterStatus, 0)
		for _, c := range s.clusters {
			if c.orgID == org.id {
				list = append(list, c.read())
			}
		}
		return http.StatusOK, results(list), nil
	}

	c := s.cluster(ids[1])
	if c == nil || c.orgID != org.id {
		return 0, nil, &apiError{http.StatusNotFound, fmt.Sprintf("Cluster %s not found", ids[1])}
	}
	switch route {
	case RouteClusterCost:
		return c.costAnswer()
	case RouteClusterLogs:
		return http.StatusOK, results(append([]qovery.ClusterLog{}, c.logs...)), nil
	case RouteClusterStatus:
		return http.StatusOK, c.read(), nil
	case RouteStopCluster:
		if err := c.stop(s.now()); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, c.status(), nil
	case RouteDeployCluster:
		if err := c.deploy(s.now()); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, c.status(), nil
	}
	return 0, nil, &apiError{http.StatusNotFound, "Resource not found"}
}

func results[T any](items []T) any {
	return struct {
		Results []T `json:"results"`
	}{items}
}

// parseUUID accepts only the canonical 36-character form, which is what the
// spec's format: uuid means; uuid.Parse alone also takes braces and URNs.
func parseUUID(s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.Nil, fmt.Errorf("invalid UUID length %d", len(s))
	}
	return uuid.Parse(s)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	if code == http.StatusNoContent {
		w.WriteHeader(code)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, code int, detail string) {
	b, _ := json.Marshal(apiError{Status: code, Detail: detail})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

// WriteHeader records the first status written.
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records the implicit 200 of a body written without a status.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection, for faults that
// drop it.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
