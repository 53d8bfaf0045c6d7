package qovery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "qov_secret_test_token"

// fastRetry keeps retry tests quick while still exercising the backoff path.
var fastRetry = RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

// setup starts a test server whose mux the test fills in and returns a
// client pointed at it, as go-github's setup does.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts = append([]Option{WithBaseURL(srv.URL), WithRetry(fastRetry)}, opts...)
	c, err := NewClient(testToken, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Method; got != want {
		t.Errorf("request method: got %v, want %v", got, want)
	}
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		opts    []Option
		wantErr bool
		wantURL string
	}{
		{name: "defaults", token: "t", wantURL: "https://api.qovery.com"},
		{name: "token trimmed", token: " t\n", wantURL: "https://api.qovery.com"},
		{name: "empty token", token: "", wantErr: true},
		{name: "blank token", token: " \n", wantErr: true},
		{name: "base URL", token: "t", opts: []Option{WithBaseURL("http://127.0.0.1:8080")}, wantURL: "http://127.0.0.1:8080"},
		{name: "base URL trailing slash", token: "t", opts: []Option{WithBaseURL("https://example.com/api/")}, wantURL: "https://example.com/api"},
		{name: "relative base URL", token: "t", opts: []Option{WithBaseURL("/api")}, wantErr: true},
		{name: "no scheme", token: "t", opts: []Option{WithBaseURL("api.qovery.com")}, wantErr: true},
		{name: "ftp base URL", token: "t", opts: []Option{WithBaseURL("ftp://example.com")}, wantErr: true},
		{name: "base URL with query", token: "t", opts: []Option{WithBaseURL("https://example.com?x=1")}, wantErr: true},
		{name: "base URL with credentials", token: "t", opts: []Option{WithBaseURL("https://u:p@example.com")}, wantErr: true},
		{name: "unparsable base URL", token: "t", opts: []Option{WithBaseURL("http://[::1")}, wantErr: true},
		{name: "nil http client", token: "t", opts: []Option{WithHTTPClient(nil)}, wantErr: true},
		{name: "http client", token: "t", opts: []Option{WithHTTPClient(&http.Client{})}, wantURL: "https://api.qovery.com"},
		{name: "empty user agent", token: "t", opts: []Option{WithUserAgent("")}, wantErr: true},
		{name: "zero attempts", token: "t", opts: []Option{WithRetry(RetryPolicy{})}, wantErr: true},
		{name: "negative backoff", token: "t", opts: []Option{WithRetry(RetryPolicy{MaxAttempts: 1, MinBackoff: -1})}, wantErr: true},
		{name: "max below min", token: "t", opts: []Option{WithRetry(RetryPolicy{MaxAttempts: 2, MinBackoff: 2, MaxBackoff: 1})}, wantErr: true},
		{name: "retries disabled", token: "t", opts: []Option{WithRetry(RetryPolicy{MaxAttempts: 1})}, wantURL: "https://api.qovery.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.token, tc.opts...)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("NewClient: got nil error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient: got %v, want nil", err)
			}
			if got := c.BaseURL(); got != tc.wantURL {
				t.Errorf("BaseURL() = %v, want %v", got, tc.wantURL)
			}
		})
	}
}

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient("t")
	if err != nil {
		t.Fatal(err)
	}
	if c.httpClient.Timeout <= 0 {
		t.Errorf("default http client Timeout = %v, want > 0", c.httpClient.Timeout)
	}
	if got, want := c.retry, DefaultRetryPolicy(); got != want {
		t.Errorf("default retry: got %+v, want %+v", got, want)
	}
}

func TestRequestHeaders(t *testing.T) {
	c, mux := setup(t, WithUserAgent("bot-test/1"))
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []struct{ name, want string }{
			{"Authorization", "Token " + testToken},
			{"Accept", "application/json"},
			{"User-Agent", "bot-test/1"},
			{"Content-Type", ""},
		} {
			if got := r.Header.Get(h.name); got != h.want {
				t.Errorf("header %s: got %q, want %q", h.name, got, h.want)
			}
		}
		writeJSON(w, http.StatusOK, `{"results":[]}`)
	})
	if _, err := c.Organizations(t.Context()); err != nil {
		t.Fatalf("Organizations: %v", err)
	}
}

func TestBaseURLPathPrefix(t *testing.T) {
	mux := http.NewServeMux()
	var hits atomic.Int32
	mux.HandleFunc("/proxy/organization", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeJSON(w, http.StatusOK, `{"results":[]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := NewClient(testToken, WithBaseURL(srv.URL+"/proxy/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Organizations(t.Context()); err != nil {
		t.Fatalf("Organizations: %v", err)
	}
	if got, want := hits.Load(), int32(1); got != want {
		t.Errorf("requests to /proxy/organization: got %v, want %v", got, want)
	}
}

func TestRetryGETOn503ThenSuccess(t *testing.T) {
	c, mux := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			writeJSON(w, http.StatusServiceUnavailable, `{"status":503,"detail":"try later"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"results":[{"id":"9c1f0e4e-3f0b-4a43-9a55-2c1a54f5d2a1","created_at":"2024-01-01T00:00:00Z","name":"Acme","plan":"TEAM"}]}`)
	})
	orgs, err := c.Organizations(t.Context())
	if err != nil {
		t.Fatalf("Organizations: got %v, want nil", err)
	}
	if got, want := len(orgs), 1; got != want {
		t.Errorf("len(orgs) = %v, want %v", got, want)
	}
	if got, want := calls.Load(), int32(2); got != want {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

func TestRetryGivesUp(t *testing.T) {
	c, mux := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusBadGateway, `{"status":502,"detail":"bad gateway"}`)
	})
	_, err := c.Organizations(t.Context())
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("Organizations: got %v, want *Error", err)
	}
	if got, want := qe.StatusCode, http.StatusBadGateway; got != want {
		t.Errorf("StatusCode = %v, want %v", got, want)
	}
	if got, want := calls.Load(), int32(fastRetry.MaxAttempts); got != want {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

func TestRetryAfterHonouredButCapped(t *testing.T) {
	// A Retry-After of an hour must be capped by MaxBackoff, or this test
	// would hang.
	c, mux := setup(t, WithRetry(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}))
	var calls atomic.Int32
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "3600")
			writeJSON(w, http.StatusTooManyRequests, `{"status":429,"detail":"slow down"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"results":[]}`)
	})
	start := time.Now()
	if _, err := c.Organizations(t.Context()); err != nil {
		t.Fatalf("Organizations: got %v, want nil", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("elapsed %v: Retry-After was not capped by MaxBackoff", elapsed)
	}
	if got, want := calls.Load(), int32(2); got != want {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 5, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{"first retry", 1, 0, 50 * time.Millisecond, 100 * time.Millisecond},
		{"second retry doubles", 2, 0, 100 * time.Millisecond, 200 * time.Millisecond},
		{"capped", 10, 0, 500 * time.Millisecond, time.Second},
		{"huge attempt does not overflow", 1000, 0, 500 * time.Millisecond, time.Second},
		{"retry-after honoured", 1, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		{"retry-after capped", 1, time.Hour, time.Second, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				got := p.backoff(tc.attempt, tc.retryAfter)
				if got < tc.min || got > tc.max {
					t.Fatalf("backoff(%d, %v) = %v, want within [%v, %v]", tc.attempt, tc.retryAfter, got, tc.min, tc.max)
				}
			}
		})
	}
}

func TestBackoffSchedule(t *testing.T) {
	tests := []struct {
		attempt            int
		first, limit, want time.Duration
	}{
		{1, 5 * time.Second, 5 * time.Minute, 5 * time.Second},
		{2, 5 * time.Second, 5 * time.Minute, 10 * time.Second},
		{6, 5 * time.Second, 5 * time.Minute, 160 * time.Second},
		{7, 5 * time.Second, 5 * time.Minute, 5 * time.Minute},
		{1 << 30, 5 * time.Second, 5 * time.Minute, 5 * time.Minute},
		{0, 5 * time.Second, 5 * time.Minute, 5 * time.Second},
		{3, 0, time.Second, 0},
		{3, time.Minute, time.Second, time.Second},
		{1 << 30, time.Second, math.MaxInt64, math.MaxInt64},
	}
	for _, tc := range tests {
		if got := Backoff(tc.attempt, tc.first, tc.limit); got != tc.want {
			t.Errorf("Backoff(%d, %v, %v) = %v; want %v", tc.attempt, tc.first, tc.limit, got, tc.want)
		}
	}
}

func TestNoRetry(t *testing.T) {
	org, cluster := testOrgID, testClusterID
	tests := []struct {
		name string
		path string
		code int
		call func(ctx context.Context, c *Client) error
	}{
		{
			name: "POST stop on 503",
			path: "/organization/" + org.String() + "/cluster/" + cluster.String() + "/stop",
			code: http.StatusServiceUnavailable,
			call: func(ctx context.Context, c *Client) error { _, err := c.StopCluster(ctx, org, cluster); return err },
		},
		{
			name: "POST deploy on 429",
			path: "/organization/" + org.String() + "/cluster/" + cluster.String() + "/deploy",
			code: http.StatusTooManyRequests,
			call: func(ctx context.Context, c *Client) error { _, err := c.DeployCluster(ctx, org, cluster); return err },
		},
		{
			name: "GET on 401",
			path: "/organization",
			code: http.StatusUnauthorized,
			call: func(ctx context.Context, c *Client) error { _, err := c.Organizations(ctx); return err },
		},
		{
			name: "GET on 404",
			path: "/organization/" + org.String() + "/cluster/" + cluster.String() + "/status",
			code: http.StatusNotFound,
			call: func(ctx context.Context, c *Client) error { _, err := c.ClusterStatus(ctx, org, cluster); return err },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux := setup(t)
			var calls atomic.Int32
			mux.HandleFunc(tc.path, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Retry-After", "0")
				writeJSON(w, tc.code, `{"status":0,"detail":"no"}`)
			})
			err := tc.call(t.Context(), c)
			var qe *Error
			if !errors.As(err, &qe) || qe.StatusCode != tc.code {
				t.Fatalf("error: got %v, want *Error with status %d", err, tc.code)
			}
			if got, want := calls.Load(), int32(1); got != want {
				t.Errorf("requests: got %v, want %v", got, want)
			}
		})
	}
}

func TestRetryOnDroppedConnection(t *testing.T) {
	c, mux := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("Hijack: %v", err)
				return
			}
			conn.Close() // the client sees EOF before any response
			return
		}
		writeJSON(w, http.StatusOK, `{"results":[]}`)
	})
	if _, err := c.Organizations(t.Context()); err != nil {
		t.Fatalf("Organizations: got %v, want nil", err)
	}
	if got, want := calls.Load(), int32(2); got != want {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

func TestRetryOnTimeout(t *testing.T) {
	c, mux := setup(t, WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	var calls atomic.Int32
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // hold the first request past the client's timeout
			return
		}
		writeJSON(w, http.StatusOK, `{"results":[]}`)
	})
	if _, err := c.Organizations(t.Context()); err != nil {
		t.Fatalf("Organizations: got %v, want nil", err)
	}
	if got, want := calls.Load(), int32(2); got != want {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

func TestRetryOnConnectionRefused(t *testing.T) {
	// Reserve a port, then free it so nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := NewClient(testToken, WithBaseURL("http://"+addr), WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Organizations(t.Context())
	if err == nil {
		t.Fatal("Organizations: got nil error, want connection refused")
	}
	if !retryable(err) {
		t.Errorf("retryable(%v) = false, want true", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q contains the token", err)
	}
}

func TestContextCanceledDuringRequest(t *testing.T) {
	c, mux := setup(t)
	started := make(chan struct{})
	var calls atomic.Int32
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		close(started)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := c.Organizations(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Organizations: got %v, want context.Canceled", err)
	}
	if got, want := calls.Load(), int32(1); got != want {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

func TestContextCanceledDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	// Cancel once the 503 has arrived, so the client is about to wait an hour.
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		cancel()
		return resp, err
	})}
	c, mux := setup(t, WithHTTPClient(hc), WithRetry(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, `{"status":503,"detail":"down"}`)
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.Organizations(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Organizations: got %v, want context.Canceled", err)
		}
		if !strings.Contains(err.Error(), "503") {
			t.Errorf("error %q does not mention the last failure", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Organizations did not return after its context was canceled")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestErrorNeverContainsToken(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		// A careless server echoing the credential it rejected.
		writeJSON(w, http.StatusUnauthorized, `{"status":401,"detail":"invalid token `+r.Header.Get("Authorization")+`"}`)
	})
	_, err := c.Organizations(t.Context())
	if !IsUnauthorized(err) {
		t.Fatalf("Organizations: got %v, want 401", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q contains the token", err)
	}
	if want := "[REDACTED]"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q: want it to contain %q", err, want)
	}
}
