package qovery

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
)

var (
	testOrgID     = uuid.MustParse("9c1f0e4e-3f0b-4a43-9a55-2c1a54f5d2a1")
	testClusterID = uuid.MustParse("4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11")
)

const testStatusJSON = `{
	"cluster_id": "4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11",
	"status": "STOP_QUEUED",
	"is_deployed": true,
	"next_k8s_available_version": null,
	"last_execution_id": "f73e3833-922a-48a5-9dbd-6163f43f9143-1656410242",
	"cluster_lock": null,
	"last_deployment_date": "2022-06-22T14:20:17.733084815Z",
	"reason": "UNSPECIFIED"
}`

func TestOrganizations(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/organization", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, `{"results":[{
			"id":"9c1f0e4e-3f0b-4a43-9a55-2c1a54f5d2a1",
			"created_at":"2024-01-15T09:00:00Z",
			"name":"Acme Corp","description":null,"plan":"TEAM_2025",
			"owner":"1b2c3d4e-0000-4000-8000-000000000000","billing_deployment_restriction":null}]}`)
	})
	got, err := c.Organizations(t.Context())
	if err != nil {
		t.Fatalf("Organizations: %v", err)
	}
	want := []Organization{{
		ID:        testOrgID,
		CreatedAt: time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC),
		Name:      "Acme Corp",
		Plan:      "TEAM_2025",
	}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("Organizations: got %+v, want %+v", got, want)
	}
}

func TestClusters(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/organization/"+testOrgID.String()+"/cluster", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, `{"results":[
			{"id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","created_at":"2024-01-15T09:00:00Z",
			 "updated_at":"2024-02-01T10:00:00Z",
			 "organization":{"id":"9c1f0e4e-3f0b-4a43-9a55-2c1a54f5d2a1"},
			 "name":"production-eu","region":"eu-west-3","cloud_provider":"AWS",
			 "status":"SOMETHING_NEW","deployment_status":"UP_TO_DATE","kubernetes":"MANAGED",
			 "production":true,"is_demo":false,"is_default":true,"version":"1.31",
			 "instance_type":"T3A_LARGE","min_running_nodes":3,"max_running_nodes":10,
			 "features":[],"has_access":true},
			{"id":"5b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","created_at":"2024-01-15T09:00:00Z",
			 "organization":{"id":"9c1f0e4e-3f0b-4a43-9a55-2c1a54f5d2a1"},
			 "name":"staging","region":"eu-west-3","cloud_provider":"AWS"}
		]}`)
	})
	got, err := c.Clusters(t.Context(), testOrgID)
	if err != nil {
		t.Fatalf("Clusters: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("len(Clusters) = %v, want %v", len(got), 2)
	}
	updated := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	first := got[0]
	if first.UpdatedAt == nil || !first.UpdatedAt.Equal(updated) {
		t.Errorf("UpdatedAt = %v, want %v", first.UpdatedAt, updated)
	}
	first.UpdatedAt = nil
	want := Cluster{
		ID:               testClusterID,
		CreatedAt:        time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC),
		Organization:     ReferenceObject{ID: testOrgID},
		Name:             "production-eu",
		Region:           "eu-west-3",
		CloudProvider:    "AWS",
		Status:           "SOMETHING_NEW",
		DeploymentStatus: "UP_TO_DATE",
		Kubernetes:       "MANAGED",
		Production:       true,
		IsDefault:        true,
		Version:          "1.31",
		InstanceType:     "T3A_LARGE",
		MinRunningNodes:  3,
		MaxRunningNodes:  10,
	}
	if first != want {
		t.Errorf("Clusters[0]: got %+v, want %+v", first, want)
	}
	if got, want := got[1].Status, State(""); got != want {
		t.Errorf("Clusters[1].Status: got %q, want %q", got, want)
	}
}

func TestClusterStatuses(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/organization/"+testOrgID.String()+"/cluster/status", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, `{"results":[`+testStatusJSON+`]}`)
	})
	got, err := c.ClusterStatuses(t.Context(), testOrgID)
	if err != nil {
		t.Fatalf("ClusterStatuses: %v", err)
	}
	if len(got) != 1 || got[0].ClusterID != testClusterID || got[0].Status != StateStopQueued {
		t.Errorf("ClusterStatuses: got %+v, want one STOP_QUEUED status of %v", got, testClusterID)
	}
}

func TestClusterStatus(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/organization/"+testOrgID.String()+"/cluster/"+testClusterID.String()+"/status", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, http.StatusOK, `{
			"cluster_id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","status":"DEPLOYED","is_deployed":true,
			"next_k8s_available_version":"1.32","last_execution_id":null,
			"cluster_lock":{"reason":"Quarterly load test","cluster_id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11",
				"locked_at":"2024-03-01T08:00:00Z","owner_name":"Jane Doe","ttl_in_days":2},
			"last_deployment_date":null,"reason":"MAINTENANCE"}`)
	})
	got, err := c.ClusterStatus(t.Context(), testOrgID, testClusterID)
	if err != nil {
		t.Fatalf("ClusterStatus: %v", err)
	}
	if got.Status != StateDeployed || !got.IsDeployed || got.NextK8sAvailableVersion != "1.32" ||
		got.LastExecutionID != "" || got.LastDeploymentDate != nil || got.Reason != ReasonMaintenance {
		t.Errorf("ClusterStatus: got %+v", got)
	}
	lock := got.ClusterLock
	if lock == nil {
		t.Fatal("ClusterLock: got nil, want a lock")
	}
	if lock.OwnerName != "Jane Doe" || lock.Reason != "Quarterly load test" || lock.ClusterID != testClusterID ||
		!lock.LockedAt.Equal(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)) || lock.TTLInDays == nil || *lock.TTLInDays != 2 {
		t.Errorf("ClusterLock: got %+v", lock)
	}
}

func TestClusterStatusEmptyBody(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/organization/"+testOrgID.String()+"/cluster/"+testClusterID.String()+"/status", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	if st, err := c.ClusterStatus(t.Context(), testOrgID, testClusterID); err == nil {
		t.Errorf("ClusterStatus: got (%+v, nil), want an error", st)
	}
}

func TestStopClusterSuccessCodes(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		body       string
		wantStatus State // "" means a nil *ClusterStatus
	}{
		{"202 as documented", http.StatusAccepted, testStatusJSON, StateStopQueued},
		{"200 as real servers answer", http.StatusOK, testStatusJSON, StateStopQueued},
		{"200 empty", http.StatusOK, "", ""},
		{"202 empty", http.StatusAccepted, "", ""},
		{"204", http.StatusNoContent, "", ""},
		{"200 null", http.StatusOK, "null", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux := setup(t)
			var calls int
			mux.HandleFunc("/organization/"+testOrgID.String()+"/cluster/"+testClusterID.String()+"/stop", func(w http.ResponseWriter, r *http.Request) {
				calls++
				testMethod(t, r, http.MethodPost)
				if tc.body == "" {
					w.WriteHeader(tc.code)
					return
				}
				writeJSON(w, tc.code, tc.body)
			})
			resp, err := c.StopCluster(t.Context(), testOrgID, testClusterID)
			if err != nil {
				t.Fatalf("StopCluster: got %v, want nil", err)
			}
			if resp.StatusCode != tc.code {
				t.Errorf("StopCluster HTTP status: got %d, want %d", resp.StatusCode, tc.code)
			}
			st := resp.Status
			if tc.wantStatus == "" {
				if st != nil {
					t.Errorf("StopCluster: got %+v, want nil", st)
				}
			} else if st == nil || st.Status != tc.wantStatus {
				t.Errorf("StopCluster: got %+v, want status %v", st, tc.wantStatus)
			}
			if calls != 1 {
				t.Errorf("requests: got %v, want %v", calls, 1)
			}
		})
	}
}

func TestStopClusterConflict(t *testing.T) {
	c, mux := setup(t)
	path := "/organization/" + testOrgID.String() + "/cluster/" + testClusterID.String() + "/stop"
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusConflict, `{"status":409,"detail":"Cluster is already stopped or an operation is in progress"}`)
	})
	_, err := c.StopCluster(t.Context(), testOrgID, testClusterID)
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("StopCluster: got %v, want *Error", err)
	}
	want := &Error{
		StatusCode: http.StatusConflict,
		Method:     http.MethodPost,
		Path:       path,
		Message:    "Cluster is already stopped or an operation is in progress",
	}
	if *qe != *want {
		t.Errorf("StopCluster error: got %+v, want %+v", qe, want)
	}
	wantText := "stop cluster " + testClusterID.String() + ": qovery: POST " + path + ": 409 Conflict: Cluster is already stopped or an operation is in progress"
	if got := err.Error(); got != wantText {
		t.Errorf("Error():\ngot  %v\nwant %v", got, wantText)
	}
	if !IsConflict(err) || IsNotFound(err) || IsForbidden(err) || IsUnauthorized(err) {
		t.Errorf("predicates on %v: want only IsConflict", err)
	}
}

func TestDeployCluster(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/organization/"+testOrgID.String()+"/cluster/"+testClusterID.String()+"/deploy", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		writeJSON(w, http.StatusCreated, `{"cluster_id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","status":"DEPLOYMENT_QUEUED","is_deployed":true,"reason":"UNSPECIFIED"}`)
	})
	resp, err := c.DeployCluster(t.Context(), testOrgID, testClusterID)
	if err != nil {
		t.Fatalf("DeployCluster: %v", err)
	}
	st := resp.Status
	if resp.StatusCode != http.StatusCreated || st == nil || st.Status != StateDeploymentQueued {
		t.Errorf("DeployCluster: got %+v, want status %v", st, StateDeploymentQueued)
	}
}

func TestClusterStatusMarshalJSON(t *testing.T) {
	date := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	ttl := 2
	tests := []struct {
		name string
		in   ClusterStatus
		want string
	}{
		{
			name: "empty nullables are null and reason defaults",
			in:   ClusterStatus{ClusterID: testClusterID, Status: StateStopped},
			want: `{"cluster_id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","status":"STOPPED","is_deployed":false,` +
				`"next_k8s_available_version":null,"last_execution_id":null,"cluster_lock":null,` +
				`"last_deployment_date":null,"reason":"UNSPECIFIED"}`,
		},
		{
			name: "all set",
			in: ClusterStatus{
				ClusterID: testClusterID, Status: StateDeployed, IsDeployed: true,
				NextK8sAvailableVersion: "1.32", LastExecutionID: "exec-1",
				ClusterLock:        &ClusterLock{Reason: "r", ClusterID: testClusterID, LockedAt: date, OwnerName: "Jane", TTLInDays: &ttl},
				LastDeploymentDate: &date, Reason: ReasonMaintenance,
			},
			want: `{"cluster_id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","status":"DEPLOYED","is_deployed":true,` +
				`"next_k8s_available_version":"1.32","last_execution_id":"exec-1",` +
				`"cluster_lock":{"reason":"r","cluster_id":"4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11","locked_at":"2024-03-01T08:00:00Z","owner_name":"Jane","ttl_in_days":2},` +
				`"last_deployment_date":"2024-03-01T08:00:00Z","reason":"MAINTENANCE"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []any{tc.in, &tc.in} {
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				if got := string(b); got != tc.want {
					t.Errorf("Marshal(%T):\ngot  %v\nwant %v", v, got, tc.want)
				}
			}
			var back ClusterStatus
			if err := json.Unmarshal([]byte(tc.want), &back); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if back.Status != tc.in.Status || back.LastExecutionID != tc.in.LastExecutionID {
				t.Errorf("round trip: got %+v, want %+v", back, tc.in)
			}
		})
	}
}

func TestConsoleClusterURL(t *testing.T) {
	got := ConsoleClusterURL(testOrgID, testClusterID)
	want := "https://console.qovery.com/organization/9c1f0e4e-3f0b-4a43-9a55-2c1a54f5d2a1/cluster/4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11"
	if got != want {
		t.Errorf("ConsoleClusterURL: got %v, want %v", got, want)
	}
}
