package qovery

import (
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestCostRangeShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       CostRange
		wantErr    bool
	}{
		{"documented range", `{"min_cost":150,"max_cost":300,"min_cost_in_cents":15000,"max_cost_in_cents":30000,"currency_code":"USD"}`, CostRange{150, 300, "USD"}, false},
		{"range in cents only", `{"min_cost_in_cents":15050,"max_cost_in_cents":30000,"currency_code":"EUR"}`, CostRange{150.5, 300, "EUR"}, false},
		{"range and total: the range wins", `{"min_cost":150,"max_cost":300,"total":300,"total_in_cents":30000,"currency_code":"USD"}`, CostRange{150, 300, "USD"}, false},
		{"the spec's required total", `{"total":95,"total_in_cents":9500,"currency_code":"USD"}`, CostRange{95, 95, "USD"}, false},
		{"total in cents only", `{"total_in_cents":9550,"currency_code":"USD"}`, CostRange{95.5, 95.5, "USD"}, false},
		{"a maximum alone", `{"max_cost":40,"currency_code":"USD"}`, CostRange{40, 40, "USD"}, false},
		{"nothing", `{"currency_code":"USD"}`, CostRange{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got CostRange
			err := json.Unmarshal([]byte(tc.body), &got)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("decode %s = %+v, %v; want %+v (error %v)", tc.body, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestClusterEnvironmentsAndLogs(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/cluster/"+testClusterID.String()+"/environments", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, `{"results":[{"environment_id":"9c1f0e4e-3f0b-4a43-9a55-2c1a54f5d2a1","environment_name":"staging",
			"project_id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","project_name":"storefront",
			"services":[{"id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","name":"api","type":"APPLICATION"}]}]}`)
	})
	mux.HandleFunc("/organization/"+testOrgID.String()+"/cluster/"+testClusterID.String()+"/logs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, `{"results":[
			{"type":"error","timestamp":"2026-12-03T10:00:00Z","step":"PauseError","message":{"safe_message":""},"error":{"tag":"OLD"}},
			{"type":"info","timestamp":"2026-12-03T10:05:00Z","step":"Pause","message":{"safe_message":"Pausing."}},
			{"type":"error","timestamp":"2026-12-03T10:04:00Z","step":"PauseError","message":{"safe_message":""},
			 "error":{"tag":"CANNOT_PAUSE","user_log_message":"blocked","hint_message":"relax the PDB","link":"https://hub.qovery.com/x","underlying_error":{"message":"long"}}}]}`)
	})
	envs, err := c.ClusterEnvironments(t.Context(), testClusterID)
	if err != nil || len(envs) != 1 || envs[0].ProjectName != "storefront" || envs[0].EnvironmentName != "staging" || len(envs[0].Services) != 1 || envs[0].Services[0].Type != "APPLICATION" {
		t.Fatalf("ClusterEnvironments = %+v, %v", envs, err)
	}
	logs, err := c.ClusterLogs(t.Context(), testOrgID, testClusterID)
	if err != nil || len(logs) != 3 {
		t.Fatalf("ClusterLogs = %+v, %v", logs, err)
	}
	latest, ok := LatestError(logs)
	if !ok || latest.Error.Tag != "CANNOT_PAUSE" || latest.Error.HintMessage != "relax the PDB" || !latest.Timestamp.Equal(time.Date(2026, 12, 3, 10, 4, 0, 0, time.UTC)) {
		t.Fatalf("LatestError = %+v, %v; want the newest error line", latest, ok)
	}
	if _, ok := LatestError(logs[1:2]); ok {
		t.Error("LatestError found an error in logs without one")
	}
}

// A lock is a POST: like a stop, it is never sent twice, even when the answer is a 503.
func TestLockIsNeverRetried(t *testing.T) {
	c, mux := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/cluster/"+testClusterID.String()+"/lock", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			calls.Add(1)
			body, _ := io.ReadAll(r.Body)
			if string(body) != `{"reason":"release freeze","ttl_in_days":2}` {
				t.Errorf("lock body = %s", body)
			}
			writeJSON(w, http.StatusServiceUnavailable, `{"status":503,"detail":"try later"}`)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		default:
			t.Errorf("method %s", r.Method)
		}
	})
	days := 2
	if _, err := c.LockCluster(t.Context(), testClusterID, "release freeze", &days); !hasStatus(err, http.StatusServiceUnavailable) {
		t.Fatalf("LockCluster = %v; want the 503", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("lock calls = %d; want 1", n)
	}
	if err := c.UnlockCluster(t.Context(), testClusterID); err != nil {
		t.Errorf("UnlockCluster = %v", err)
	}
}
