package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLabels(t *testing.T) {
	for _, tc := range []struct{ method, url, endpoint, slack string }{
		{"POST", "https://api.qovery.com/organization/3f2a9c1e-0000-4000-8000-000000000001/cluster/5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60002/stop",
			"POST /organization/{id}/cluster/{id}/stop", "response_url"},
		{"POST", "https://slack.com/api/chat.postMessage", "POST /api/chat.postMessage", "chat.postMessage"},
		{"POST", "https://hooks.slack.com/actions/T0/123/abc", "POST /actions/T0/123/abc", "response_url"},
	} {
		req := httptest.NewRequest(tc.method, tc.url, nil)
		if got := qoveryEndpoint(req); got != tc.endpoint {
			t.Errorf("qoveryEndpoint(%s) = %q; want %q", tc.url, got, tc.endpoint)
		}
		if got := slackMethod(req); got != tc.slack {
			t.Errorf("slackMethod(%s) = %q; want %q", tc.url, got, tc.slack)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.Acked(time.Second)
	m.WatchStarted()
	m.WatchEnded()
	m.Confirmation("confirmed")
	m.OperationFinished("stop", "succeeded", time.Minute)
	if rt := m.InstrumentQovery(http.DefaultTransport); rt != http.DefaultTransport {
		t.Error("a nil Metrics wrapped the transport")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics handler = %d; want 404", rec.Code)
	}
}

func TestCountingTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer srv.Close()
	m := New()
	c := &http.Client{Transport: m.InstrumentSlack(http.DefaultTransport)}
	resp, err := c.Get(srv.URL + "/api/auth.test")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `qovery_bot_slack_api_calls_total{code="418",method="auth.test"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("metrics lack %s", want)
	}
}

func TestLeaseMetrics(t *testing.T) {
	m := New()
	held := map[string]int64{"watch": 1, "operation": 3}
	m.WatchLeases(func() (map[string]int64, map[string]int64) {
		return held, map[string]int64{"operation": 2}
	})
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	body := scrape()
	for _, want := range []string{
		`qovery_bot_leases_held{kind="watch"} 1`,
		`qovery_bot_leases_held{kind="operation"} 3`,
		`qovery_bot_lease_takeovers_total{kind="operation"} 2`,
		`qovery_bot_lease_takeovers_total{kind="watch"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	held = map[string]int64{} // read at each scrape
	if body := scrape(); !strings.Contains(body, `qovery_bot_leases_held{kind="watch"} 0`) {
		t.Error("the lease gauge did not follow the stats")
	}
	var nilMetrics *Metrics
	nilMetrics.WatchLeases(func() (map[string]int64, map[string]int64) { return nil, nil })
}
