package qovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// What a cluster runs, costs and logged: the reads that show people what an action on a cluster
// takes down, and why one failed.

// ClusterEnvironment is one environment running on a cluster, an item of the API's
// ClusterEnvironmentResponseList.
type ClusterEnvironment struct {
	EnvironmentID   uuid.UUID                   `json:"environment_id"`
	EnvironmentName string                      `json:"environment_name"`
	ProjectID       uuid.UUID                   `json:"project_id"`
	ProjectName     string                      `json:"project_name"`
	Services        []ClusterEnvironmentService `json:"services"`
}

// ClusterEnvironmentService is one service of a [ClusterEnvironment].
type ClusterEnvironmentService struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	// Type is the API's LinkedServiceTypeEnum: APPLICATION, CONTAINER, DATABASE, JOB, HELM, …
	Type string `json:"type"`
}

// ClusterEnvironments lists the environments running on a cluster, with their services.
//
// Qovery API: GET /cluster/{clusterId}/environments.
func (c *Client) ClusterEnvironments(ctx context.Context, clusterID uuid.UUID) ([]ClusterEnvironment, error) {
	return list[ClusterEnvironment](ctx, c, "/cluster/"+clusterID.String()+"/environments", fmt.Sprintf("list environments of cluster %s", clusterID))
}

// CostRange is what a cluster costs a month: Qovery gives a range, Min to Max, in Currency (an
// ISO 4217 code such as USD).
type CostRange struct {
	Min, Max float64
	Currency string
}

// UnmarshalJSON reads the API's CostRange. The spec requires total and total_in_cents while it
// documents min_cost and max_cost: both shapes are read, the range first, else the total as a range
// of one.
func (r *CostRange) UnmarshalJSON(b []byte) error {
	var wire struct {
		MinCost        *float64 `json:"min_cost"`
		MaxCost        *float64 `json:"max_cost"`
		MinCostInCents *int64   `json:"min_cost_in_cents"`
		MaxCostInCents *int64   `json:"max_cost_in_cents"`
		Total          *float64 `json:"total"`
		TotalInCents   *int64   `json:"total_in_cents"`
		CurrencyCode   string   `json:"currency_code"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	amount := func(units *float64, cents *int64) (float64, bool) {
		switch {
		case units != nil:
			return *units, true
		case cents != nil:
			return float64(*cents) / 100, true
		}
		return 0, false
	}
	minCost, hasMin := amount(wire.MinCost, wire.MinCostInCents)
	maxCost, hasMax := amount(wire.MaxCost, wire.MaxCostInCents)
	total, hasTotal := amount(wire.Total, wire.TotalInCents)
	switch {
	case hasMin || hasMax:
		if !hasMin {
			minCost = maxCost
		}
		if !hasMax {
			maxCost = minCost
		}
	case hasTotal:
		minCost, maxCost = total, total
	default:
		return fmt.Errorf("qovery: a cost with neither a range nor a total")
	}
	*r = CostRange{Min: minCost, Max: maxCost, Currency: wire.CurrencyCode}
	return nil
}

// ClusterCost returns what a cluster costs a month, as a range.
//
// Qovery API: GET /organization/{organizationId}/cluster/{clusterId}/currentCost.
func (c *Client) ClusterCost(ctx context.Context, orgID, clusterID uuid.UUID) (*CostRange, error) {
	var cost *CostRange
	if err := c.do(ctx, http.MethodGet, clusterPath(orgID, clusterID, "currentCost"), nil, &cost); err != nil {
		return nil, fmt.Errorf("get the cost of cluster %s: %w", clusterID, err)
	}
	if cost == nil {
		return nil, fmt.Errorf("get the cost of cluster %s: qovery: empty response body", clusterID)
	}
	return cost, nil
}

// ClusterLog is one line of a cluster's log, an item of the API's ClusterLogsResponseList.
type ClusterLog struct {
	// Type is the level: info, warning, error, debug.
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	// Step is the operation's step: Create, Pause, PauseError, Delete, …
	Step    string `json:"step"`
	Message struct {
		SafeMessage string `json:"safe_message"`
	} `json:"message"`
	// Error is set on error lines only.
	Error *ClusterLogError `json:"error,omitempty"`
}

// ClusterLogError is what Qovery says of a failure: a tag, a message for people, a hint and a link
// to its documentation. UnderlyingError is the technical detail, often long.
type ClusterLogError struct {
	Tag             string `json:"tag"`
	UserLogMessage  string `json:"user_log_message"`
	HintMessage     string `json:"hint_message"`
	Link            string `json:"link"`
	UnderlyingError struct {
		Message string `json:"message"`
	} `json:"underlying_error"`
}

// ClusterLogs returns a cluster's log lines.
//
// Qovery API: GET /organization/{organizationId}/cluster/{clusterId}/logs.
func (c *Client) ClusterLogs(ctx context.Context, orgID, clusterID uuid.UUID) ([]ClusterLog, error) {
	return list[ClusterLog](ctx, c, clusterPath(orgID, clusterID, "logs"), fmt.Sprintf("list logs of cluster %s", clusterID))
}

// LatestError returns the newest line of logs that carries an error, and false when none does.
func LatestError(logs []ClusterLog) (ClusterLog, bool) {
	i := -1
	for j, l := range logs {
		if l.Error != nil && (i < 0 || !l.Timestamp.Before(logs[i].Timestamp)) {
			i = j
		}
	}
	if i < 0 {
		return ClusterLog{}, false
	}
	return logs[i], true
}

// LockCluster locks a cluster against changes, for ttlDays days (nil: until unlocked), saying why.
// It is sent once, never retried.
//
// Qovery API: POST /cluster/{clusterId}/lock.
func (c *Client) LockCluster(ctx context.Context, clusterID uuid.UUID, reason string, ttlDays *int) (*ClusterLock, error) {
	body := struct {
		Reason    string `json:"reason"`
		TTLInDays *int   `json:"ttl_in_days,omitempty"`
	}{reason, ttlDays}
	var lock *ClusterLock
	if err := c.do(ctx, http.MethodPost, "/cluster/"+clusterID.String()+"/lock", body, &lock); err != nil {
		return nil, fmt.Errorf("lock cluster %s: %w", clusterID, err)
	}
	return lock, nil
}

// UnlockCluster removes a cluster's lock.
//
// Qovery API: DELETE /cluster/{clusterId}/lock.
func (c *Client) UnlockCluster(ctx context.Context, clusterID uuid.UUID) error {
	if err := c.do(ctx, http.MethodDelete, "/cluster/"+clusterID.String()+"/lock", nil, nil); err != nil {
		return fmt.Errorf("unlock cluster %s: %w", clusterID, err)
	}
	return nil
}
