package qoverysim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// newCluster starts a server with one organization and one cluster.
func newCluster(t *testing.T, spec qoverysim.ClusterSpec, opts ...qoverysim.Option) (*qoverysim.Server, uuid.UUID, uuid.UUID) {
	t.Helper()
	s := qoverysim.NewServer(t, opts...)
	org := s.AddOrganization("Acme Corp")
	return s, org, s.AddCluster(org, spec)
}

// readStates reads the status of a cluster n times and returns what it saw.
func readStates(t *testing.T, c *qovery.Client, org, id uuid.UUID, n int) []qovery.State {
	t.Helper()
	var got []qovery.State
	for range n {
		st, err := c.ClusterStatus(t.Context(), org, id)
		if err != nil {
			t.Fatalf("ClusterStatus: %v", err)
		}
		got = append(got, st.Status)
	}
	return got
}

func equalStates(a, b []qovery.State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// raw sends a request bypassing qovery.Client, to check status codes and
// bodies the client would hide.
func raw(t *testing.T, method, url, auth string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, url, b, err)
		}
	}
	return resp, body
}

func TestStopWalksScript(t *testing.T) {
	s, org, id := newCluster(t, qoverysim.ClusterSpec{Name: "staging"})
	c := s.Client()

	resp, err := c.StopCluster(t.Context(), org, id)
	if err != nil {
		t.Fatalf("StopCluster: %v", err)
	}
	if resp.StatusCode != 202 {
		t.Errorf("StopCluster HTTP status: got %d, want 202", resp.StatusCode)
	}
	st := resp.Status
	if got, want := st.Status, qovery.StateStopQueued; got != want {
		t.Errorf("StopCluster status: got %v, want %v", got, want)
	}
	if st.LastExecutionID == "" {
		t.Error("StopCluster: LastExecutionID is empty, want a fresh id")
	}
	got := readStates(t, c, org, id, 4)
	want := []qovery.State{qovery.StateStopQueued, qovery.StateStopping, qovery.StateStopped, qovery.StateStopped}
	if !equalStates(got, want) {
		t.Errorf("states read: got %v, want %v", got, want)
	}

	_, err = c.StopCluster(t.Context(), org, id)
	var qe *qovery.Error
	if !errors.As(err, &qe) || qe.StatusCode != http.StatusConflict {
		t.Fatalf("second StopCluster: got %v, want 409", err)
	}
	if got, want := qe.Message, "Cluster is already stopped or an operation is in progress"; got != want {
		t.Errorf("409 detail: got %q, want %q", got, want)
	}
	stopPath := "/organization/" + org.String() + "/cluster/" + id.String() + "/stop"
	if got, want := s.CountRequests(http.MethodPost, stopPath), 2; got != want {
		t.Errorf("CountRequests(POST stop): got %v, want %v", got, want)
	}
	reqs := s.Requests()
	if got, want := reqs[0], (qoverysim.Request{Method: "POST", Path: stopPath, Route: qoverysim.RouteStopCluster, StatusCode: 202, Authorized: true}); got != want {
		t.Errorf("Requests()[0]: got %+v, want %+v", got, want)
	}
}

func TestStopWhileInProgressConflicts(t *testing.T) {
	s, org, id := newCluster(t, qoverysim.ClusterSpec{})
	c := s.Client()
	if _, err := c.StopCluster(t.Context(), org, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopCluster(t.Context(), org, id); !qovery.IsConflict(err) {
		t.Errorf("StopCluster during STOP_QUEUED: got %v, want 409", err)
	}
	for _, state := range []qovery.State{qovery.StateReady, qovery.StateDeploying, qovery.StateDryRun} {
		s.SetStatus(id, state)
		if _, err := c.StopCluster(t.Context(), org, id); !qovery.IsConflict(err) {
			t.Errorf("StopCluster in %v: got %v, want 409", state, err)
		}
	}
	s.SetStatus(id, qovery.StateDeploymentError)
	if _, err := c.StopCluster(t.Context(), org, id); err != nil {
		t.Errorf("StopCluster in DEPLOYMENT_ERROR: got %v, want nil", err)
	}
}

func TestReadsPerStep(t *testing.T) {
	s, org, id := newCluster(t, qoverysim.ClusterSpec{ReadsPerStep: 2})
	c := s.Client()
	if _, err := c.StopCluster(t.Context(), org, id); err != nil {
		t.Fatal(err)
	}
	got := readStates(t, c, org, id, 6)
	want := []qovery.State{
		qovery.StateStopQueued, qovery.StateStopQueued,
		qovery.StateStopping, qovery.StateStopping,
		qovery.StateStopped, qovery.StateStopped,
	}
	if !equalStates(got, want) {
		t.Errorf("states read: got %v, want %v", got, want)
	}
}

func TestWhichReadsAdvance(t *testing.T) {
	s, org, id := newCluster(t, qoverysim.ClusterSpec{Name: "staging"})
	other := s.AddCluster(org, qoverysim.ClusterSpec{Name: "other", Status: qovery.StateStopped})
	c := s.Client()
	if _, err := c.StopCluster(t.Context(), org, id); err != nil {
		t.Fatal(err)
	}
	// Listing clusters shows the state but does not advance it.
	for range 3 {
		list, err := c.Clusters(t.Context(), org)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := list[0].Status, qovery.StateStopQueued; got != want {
			t.Fatalf("Clusters()[0].Status: got %v, want %v", got, want)
		}
	}
	// The organization-wide status endpoint advances every cluster.
	var got []qovery.State
	for range 3 {
		list, err := c.ClusterStatuses(t.Context(), org)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ClusterID != id || list[1].ClusterID != other {
			t.Fatalf("ClusterStatuses: got %+v, want statuses of %v then %v", list, id, other)
		}
		got = append(got, list[0].Status)
	}
	want := []qovery.State{qovery.StateStopQueued, qovery.StateStopping, qovery.StateStopped}
	if !equalStates(got, want) {
		t.Errorf("states read: got %v, want %v", got, want)
	}
	if got, want := s.Status(id), qovery.StateStopped; got != want {
		t.Errorf("Status(): got %v, want %v", got, want)
	}
}

func TestDeploy(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s, org, id := newCluster(t, qoverysim.ClusterSpec{Status: qovery.StateStopped, LastExecutionID: "old"},
		qoverysim.WithClock(func() time.Time { return now }))
	c := s.Client()

	resp, err := c.DeployCluster(t.Context(), org, id)
	if err != nil {
		t.Fatalf("DeployCluster: %v", err)
	}
	if resp.StatusCode != 201 {
		t.Errorf("DeployCluster HTTP status: got %d, want 201", resp.StatusCode)
	}
	st := resp.Status
	if got, want := st.Status, qovery.StateDeploymentQueued; got != want {
		t.Errorf("DeployCluster status: got %v, want %v", got, want)
	}
	if st.LastExecutionID == "old" || st.LastExecutionID == "" {
		t.Errorf("LastExecutionID: got %q, want a fresh id", st.LastExecutionID)
	}
	if st.LastDeploymentDate == nil || !st.LastDeploymentDate.Equal(now) {
		t.Errorf("LastDeploymentDate: got %v, want %v", st.LastDeploymentDate, now)
	}
	if got, want := s.Requests()[0].StatusCode, http.StatusCreated; got != want {
		t.Errorf("deploy status code: got %v, want %v", got, want)
	}
	got := readStates(t, c, org, id, 3)
	want := []qovery.State{qovery.StateDeploymentQueued, qovery.StateDeploying, qovery.StateDeployed}
	if !equalStates(got, want) {
		t.Errorf("states read: got %v, want %v", got, want)
	}

	_, err = c.DeployCluster(t.Context(), org, id)
	var qe *qovery.Error
	if !errors.As(err, &qe) || qe.StatusCode != http.StatusBadRequest {
		t.Fatalf("DeployCluster on DEPLOYED: got %v, want 400", err)
	}
	if !strings.Contains(qe.Message, "DEPLOYED") {
		t.Errorf("400 detail %q: want it to name the state", qe.Message)
	}
}

func TestFailureScript(t *testing.T) {
	s, org, id := newCluster(t, qoverysim.ClusterSpec{})
	s.SetStopScript(id, qovery.StateStopping, qovery.StateStopError)
	c := s.Client()
	if _, err := c.StopCluster(t.Context(), org, id); err != nil {
		t.Fatal(err)
	}
	got := readStates(t, c, org, id, 4)
	want := []qovery.State{qovery.StateStopQueued, qovery.StateStopping, qovery.StateStopError, qovery.StateStopError}
	if !equalStates(got, want) {
		t.Errorf("states read: got %v, want %v", got, want)
	}
	// A failed stop may be retried, as in the Qovery console.
	if _, err := c.StopCluster(t.Context(), org, id); err != nil {
		t.Errorf("StopCluster after STOP_ERROR: got %v, want nil", err)
	}
}

func TestAuth(t *testing.T) {
	s, org, _ := newCluster(t, qoverysim.ClusterSpec{}, qoverysim.WithToken("qov_custom"))
	url := s.URL() + "/organization/" + org.String() + "/cluster"
	tests := []struct {
		name string
		auth string
		want int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"bearer", "Bearer qov_custom", http.StatusUnauthorized},
		{"wrong token", "Token qov_other", http.StatusUnauthorized},
		{"lower-case scheme", "token qov_custom", http.StatusUnauthorized},
		{"token only", "qov_custom", http.StatusUnauthorized},
		{"right", "Token qov_custom", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := raw(t, http.MethodGet, url, tc.auth)
			if resp.StatusCode != tc.want {
				t.Errorf("status: got %v, want %v", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && body["status"] != float64(401) {
				t.Errorf("body: got %v, want status 401", body)
			}
		})
	}
	if got, want := s.Token(), "qov_custom"; got != want {
		t.Errorf("Token(): got %v, want %v", got, want)
	}
	reqs := s.Requests()
	if reqs[0].Authorized || !reqs[len(reqs)-1].Authorized {
		t.Errorf("Authorized flags: got %+v", reqs)
	}

	bad, err := qovery.NewClient("qov_wrong", qovery.WithBaseURL(s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Organizations(t.Context())
	if !qovery.IsUnauthorized(err) {
		t.Errorf("Organizations with a wrong token: got %v, want 401", err)
	}
	if strings.Contains(err.Error(), "qov_wrong") {
		t.Errorf("error %q contains the token", err)
	}
}

func TestErrorResponses(t *testing.T) {
	s, org, id := newCluster(t, qoverysim.ClusterSpec{})
	otherOrg := s.AddOrganization("Other")
	elsewhere := s.AddCluster(otherOrg, qoverysim.ClusterSpec{})
	auth := "Token " + s.Token()
	tests := []struct {
		name   string
		method string
		path   string
		want   int
	}{
		{"unknown organization", "GET", "/organization/" + uuid.NewString() + "/cluster", 403},
		{"unknown organization status", "GET", "/organization/" + uuid.NewString() + "/cluster/" + id.String() + "/status", 403},
		{"unknown cluster", "GET", "/organization/" + org.String() + "/cluster/" + uuid.NewString() + "/status", 404},
		{"cluster of another organization", "POST", "/organization/" + org.String() + "/cluster/" + elsewhere.String() + "/stop", 404},
		{"malformed organization id", "GET", "/organization/not-a-uuid/cluster", 400},
		{"malformed cluster id", "POST", "/organization/" + org.String() + "/cluster/42/stop", 400},
		{"braced uuid", "GET", "/organization/{" + org.String() + "}/cluster", 400},
		{"wrong method", "GET", "/organization/" + org.String() + "/cluster/" + id.String() + "/stop", 405},
		{"wrong method on list", "DELETE", "/organization", 405},
		{"unknown path", "GET", "/organization/" + org.String() + "/environment", 404},
		{"trailing slash", "GET", "/organization/", 404},
		{"outside the API", "GET", "/", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := raw(t, tc.method, s.URL()+tc.path, auth)
			if resp.StatusCode != tc.want {
				t.Errorf("status: got %v, want %v", resp.StatusCode, tc.want)
			}
			if got, want := resp.Header.Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type: got %v, want %v", got, want)
			}
			if body["status"] != float64(tc.want) || body["detail"] == "" || body["detail"] == nil {
				t.Errorf("body: got %v, want status %d and a detail", body, tc.want)
			}
			if tc.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
	// No state changed through the errors.
	if got, want := s.Status(elsewhere), qovery.StateDeployed; got != want {
		t.Errorf("Status(elsewhere): got %v, want %v", got, want)
	}
}

func TestFaultInjection(t *testing.T) {
	t.Run("GET retried past a 503", func(t *testing.T) {
		s, org, id := newCluster(t, qoverysim.ClusterSpec{})
		s.FailNext(qoverysim.RouteClusterStatus, http.StatusServiceUnavailable, 1)
		if _, err := s.Client().ClusterStatus(t.Context(), org, id); err != nil {
			t.Fatalf("ClusterStatus: got %v, want nil after a retry", err)
		}
		reqs := s.Requests()
		if len(reqs) != 2 || reqs[0].StatusCode != 503 || reqs[1].StatusCode != 200 {
			t.Errorf("Requests(): got %+v, want a 503 then a 200", reqs)
		}
	})
	t.Run("GET gives up after MaxAttempts", func(t *testing.T) {
		s, org, _ := newCluster(t, qoverysim.ClusterSpec{})
		s.FailNext(qoverysim.RouteClusters, http.StatusBadGateway, 5)
		_, err := s.Client().Clusters(t.Context(), org)
		var qe *qovery.Error
		if !errors.As(err, &qe) || qe.StatusCode != 502 || !strings.Contains(qe.Message, "injected") {
			t.Errorf("Clusters: got %v, want an injected 502", err)
		}
		if got, want := len(s.Requests()), 3; got != want {
			t.Errorf("requests: got %v, want %v", got, want)
		}
	})
	t.Run("429 carries Retry-After 0", func(t *testing.T) {
		s, _, _ := newCluster(t, qoverysim.ClusterSpec{})
		s.FailNext(qoverysim.RouteOrganizations, http.StatusTooManyRequests, 1)
		resp, _ := raw(t, http.MethodGet, s.URL()+"/organization", "Token "+s.Token())
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "0" {
			t.Errorf("got %v with Retry-After %q, want 429 with \"0\"", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		resp, _ = raw(t, http.MethodGet, s.URL()+"/organization", "Token "+s.Token())
		if resp.StatusCode != 200 {
			t.Errorf("after the fault: got %v, want 200", resp.StatusCode)
		}
	})
	t.Run("POST is not retried and does not act", func(t *testing.T) {
		s, org, id := newCluster(t, qoverysim.ClusterSpec{})
		s.FailNext(qoverysim.RouteStopCluster, http.StatusServiceUnavailable, 1)
		if _, err := s.Client().StopCluster(t.Context(), org, id); err == nil {
			t.Fatal("StopCluster: got nil, want 503")
		}
		if got, want := len(s.Requests()), 1; got != want {
			t.Errorf("requests: got %v, want %v", got, want)
		}
		if got, want := s.Status(id), qovery.StateDeployed; got != want {
			t.Errorf("Status: got %v, want %v", got, want)
		}
	})
	t.Run("lost answer after the stop took effect", func(t *testing.T) {
		s, org, id := newCluster(t, qoverysim.ClusterSpec{})
		s.InjectFault(qoverysim.RouteStopCluster, qoverysim.Fault{StatusCode: http.StatusGatewayTimeout, Apply: true})
		if _, err := s.Client().StopCluster(t.Context(), org, id); err == nil {
			t.Fatal("StopCluster: got nil, want 504")
		}
		if got, want := s.Status(id), qovery.StateStopQueued; got != want {
			t.Errorf("Status: got %v, want %v", got, want)
		}
	})
	t.Run("dropped connection", func(t *testing.T) {
		s, org, id := newCluster(t, qoverysim.ClusterSpec{})
		s.InjectFault(qoverysim.RouteClusterStatus, qoverysim.Fault{StatusCode: 0})
		if _, err := s.Client().ClusterStatus(t.Context(), org, id); err != nil {
			t.Fatalf("ClusterStatus: got %v, want nil after a retry", err)
		}
		reqs := s.Requests()
		if len(reqs) != 2 || reqs[0].StatusCode != 0 || reqs[1].StatusCode != 200 {
			t.Errorf("Requests(): got %+v, want a dropped request then a 200", reqs)
		}
	})
	t.Run("faults queue in order", func(t *testing.T) {
		s, org, _ := newCluster(t, qoverysim.ClusterSpec{})
		s.FailNext(qoverysim.RouteClusters, 500, 1)
		s.InjectFault(qoverysim.RouteClusters, qoverysim.Fault{StatusCode: 502, Detail: "gateway"})
		_, err := s.Client(qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 1})).Clusters(t.Context(), org)
		if !strings.Contains(err.Error(), "500") {
			t.Errorf("first: got %v, want 500", err)
		}
		_, err = s.Client(qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 1})).Clusters(t.Context(), org)
		if !strings.Contains(err.Error(), "502 Bad Gateway: gateway") {
			t.Errorf("second: got %v, want 502 gateway", err)
		}
	})
}

func TestSetDelay(t *testing.T) {
	s, org, id := newCluster(t, qoverysim.ClusterSpec{})
	s.SetDelay(qoverysim.RouteClusterStatus, time.Hour)
	c := s.Client(qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 1}))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.ClusterStatus(ctx, org, id)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ClusterStatus: got %v, want context.DeadlineExceeded", err)
	}
	s.SetDelay(qoverysim.RouteClusterStatus, 0)
	if _, err := c.ClusterStatus(t.Context(), org, id); err != nil {
		t.Errorf("ClusterStatus without delay: got %v, want nil", err)
	}
}

func TestCloseReleasesDelayedRequests(t *testing.T) {
	s := qoverysim.Start()
	s.SetDelay(qoverysim.RouteOrganizations, time.Hour)
	errc := make(chan error, 1)
	written := make(chan struct{})
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { close(written) },
	})
	go func() {
		_, err := s.Client(qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 1})).Organizations(ctx)
		errc <- err
	}()
	<-written
	done := make(chan struct{})
	go func() {
		s.Close()
		s.Close() // idempotent
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a delayed request")
	}
	if err := <-errc; err == nil {
		t.Error("Organizations: got nil, want an error from the closed server")
	}
}

func TestSetResponseStatus(t *testing.T) {
	tests := []struct {
		code    int
		wantNil bool
	}{
		{http.StatusOK, false},
		{http.StatusAccepted, false},
		{http.StatusNoContent, true},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			s, org, id := newCluster(t, qoverysim.ClusterSpec{})
			s.SetResponseStatus(qoverysim.RouteStopCluster, tc.code)
			resp, err := s.Client().StopCluster(t.Context(), org, id)
			if err != nil {
				t.Fatalf("StopCluster: got %v, want nil", err)
			}
			if resp.StatusCode != tc.code {
				t.Errorf("StopCluster HTTP status: got %d, want %d", resp.StatusCode, tc.code)
			}
			st := resp.Status
			if (st == nil) != tc.wantNil {
				t.Errorf("StopCluster: got %+v, want nil=%v", st, tc.wantNil)
			}
			if got := s.Requests()[0].StatusCode; got != tc.code {
				t.Errorf("status code: got %v, want %v", got, tc.code)
			}
			if got, want := s.Status(id), qovery.StateStopQueued; got != want {
				t.Errorf("Status: got %v, want %v", got, want)
			}
		})
	}
	t.Run("non-2xx panics", func(t *testing.T) {
		s := qoverysim.NewServer(t)
		defer func() {
			if recover() == nil {
				t.Error("SetResponseStatus(500): got no panic, want one")
			}
		}()
		s.SetResponseStatus(qoverysim.RouteStopCluster, 500)
	})
}

func TestRequestLog(t *testing.T) {
	s, org, _ := newCluster(t, qoverysim.ClusterSpec{})
	c := s.Client()
	if _, err := c.Organizations(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clusters(t.Context(), org); err != nil {
		t.Fatal(err)
	}
	want := []qoverysim.Request{
		{Method: "GET", Path: "/organization", Route: qoverysim.RouteOrganizations, StatusCode: 200, Authorized: true},
		{Method: "GET", Path: "/organization/" + org.String() + "/cluster", Route: qoverysim.RouteClusters, StatusCode: 200, Authorized: true},
	}
	got := s.Requests()
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Requests(): got %+v, want %+v", got, want)
	}
	got[0].Method = "MUTATED"
	if s.Requests()[0].Method != "GET" {
		t.Error("Requests() returned the server's own log, want a copy")
	}
	s.Reset()
	if got := len(s.Requests()); got != 0 {
		t.Errorf("after Reset: got %v requests, want 0", got)
	}
}

func TestUnknownClusterPanics(t *testing.T) {
	s := qoverysim.NewServer(t)
	for name, f := range map[string]func(){
		"SetStatus":  func() { s.SetStatus(uuid.New(), qovery.StateStopped) },
		"Status":     func() { s.Status(uuid.New()) },
		"AddCluster": func() { s.AddCluster(uuid.New(), qoverysim.ClusterSpec{}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with an unknown id: got no panic, want one", name)
				}
			}()
			f()
		})
	}
}

func TestSeedDemo(t *testing.T) {
	s := qoverysim.NewServer(t)
	demo := s.SeedDemo()
	if got, want := demo.OrganizationID, uuid.MustParse("7d3f9a10-4c2b-4e8d-9b1a-acce55000001"); got != want {
		t.Errorf("OrganizationID: got %v, want %v", got, want)
	}
	c := s.Client()
	orgs, err := c.Organizations(t.Context())
	if err != nil || len(orgs) != 1 || orgs[0].Name != "Acme Corp" {
		t.Fatalf("Organizations: got %+v, %v; want Acme Corp", orgs, err)
	}
	list, err := c.Clusters(t.Context(), demo.OrganizationID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, provider, region string
		production             bool
		status                 qovery.State
	}
	want := []row{
		{"production-eu", "AWS", "eu-west-3", true, qovery.StateDeployed},
		{"staging", "AWS", "eu-west-3", false, qovery.StateDeployed},
		{"staging-us", "AWS", "us-east-2", false, qovery.StateDeployed},
		{"preview-scw", "SCW", "fr-par", false, qovery.StateDeployed},
		{"sandbox-gcp", "GCP", "europe-west1", false, qovery.StateStopped},
		{"data-platform", "AWS", "eu-central-1", false, qovery.StateDeployed},
	}
	if len(list) != len(want) {
		t.Fatalf("Clusters: got %d, want %d", len(list), len(want))
	}
	for i, w := range want {
		got := row{list[i].Name, list[i].CloudProvider, list[i].Region, list[i].Production, list[i].Status}
		if got != w {
			t.Errorf("Clusters[%d]: got %+v, want %+v", i, got, w)
		}
		if demo.Clusters[w.name] != list[i].ID {
			t.Errorf("demo.Clusters[%q]: got %v, want %v", w.name, demo.Clusters[w.name], list[i].ID)
		}
	}

	org := demo.OrganizationID
	staging := demo.Clusters["staging"]
	if _, err := c.StopCluster(t.Context(), org, staging); err != nil {
		t.Fatal(err)
	}
	gotStates := readStates(t, c, org, staging, 5)
	wantStates := []qovery.State{qovery.StateStopQueued, qovery.StateStopping, qovery.StateStopping, qovery.StateStopping, qovery.StateStopped}
	if !equalStates(gotStates, wantStates) {
		t.Errorf("staging states: got %v, want %v", gotStates, wantStates)
	}

	preview := demo.Clusters["preview-scw"]
	st, err := c.ClusterStatus(t.Context(), org, preview)
	if err != nil || st.LastExecutionID == "" {
		t.Errorf("preview-scw status: got %+v, %v; want a last_execution_id", st, err)
	}
	if _, err := c.StopCluster(t.Context(), org, preview); err != nil {
		t.Fatal(err)
	}
	if got := readStates(t, c, org, preview, 3); got[2] != qovery.StateStopError {
		t.Errorf("preview-scw states: got %v, want to end in STOP_ERROR", got)
	}

	if _, err := c.StopCluster(t.Context(), org, demo.Clusters["sandbox-gcp"]); !qovery.IsConflict(err) {
		t.Errorf("stop sandbox-gcp: got %v, want 409", err)
	}
	locked, err := c.ClusterStatus(t.Context(), org, demo.Clusters["data-platform"])
	if err != nil {
		t.Fatal(err)
	}
	if l := locked.ClusterLock; l == nil || l.OwnerName != "Jane Doe" || l.Reason != "Quarterly load test" || l.TTLInDays == nil || *l.TTLInDays != 2 {
		t.Errorf("data-platform lock: got %+v", locked.ClusterLock)
	}
	if _, err := c.StopCluster(t.Context(), org, demo.Clusters["data-platform"]); !qovery.IsConflict(err) {
		t.Errorf("stop data-platform: got %v, want 409", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := qoverysim.NewServer(t)
	demo := s.SeedDemo()
	c := s.Client()
	var wg sync.WaitGroup
	for name, id := range demo.Clusters {
		wg.Go(func() {
			_, _ = c.StopCluster(t.Context(), demo.OrganizationID, id)
			for range 5 {
				if _, err := c.ClusterStatus(t.Context(), demo.OrganizationID, id); err != nil {
					t.Errorf("ClusterStatus(%s): %v", name, err)
				}
			}
		})
		wg.Go(func() {
			if _, err := c.ClusterStatuses(t.Context(), demo.OrganizationID); err != nil {
				t.Errorf("ClusterStatuses: %v", err)
			}
			s.Status(id)
			_ = s.Requests()
		})
	}
	wg.Wait()
	if got, want := s.Status(demo.Clusters["staging"]).IsStopPhase(), true; got != want {
		t.Errorf("staging in a stop phase: got %v, want %v", got, want)
	}
}
