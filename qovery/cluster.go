package qovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// consoleBaseURL is the Qovery web console, where humans follow a cluster's
// logs; it is not part of the API.
const consoleBaseURL = "https://console.qovery.com"

// Cluster is a Kubernetes cluster managed by Qovery, an item of the API's
// ClusterResponseList. The API has no endpoint returning a single cluster:
// find one by listing with [Client.Clusters].
type Cluster struct {
	ID           uuid.UUID       `json:"id"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    *time.Time      `json:"updated_at,omitempty"`
	Organization ReferenceObject `json:"organization"`
	// Name is case-insensitive for Qovery, though its own CLI matches it
	// exactly.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Region      string `json:"region"`
	// CloudProvider is one of AWS, SCW, GCP, DO, AZURE, OVH, CIVO, HETZNER,
	// ORACLE, IBM or ON_PREMISE.
	CloudProvider string `json:"cloud_provider"`
	// Status is the state when the list was read. It is optional in the
	// API, so it may be empty; read [Client.ClusterStatus] for a fresh one.
	Status State `json:"status,omitempty"`
	// DeploymentStatus is NEVER_DEPLOYED, OUT_OF_DATE or UP_TO_DATE.
	DeploymentStatus string `json:"deployment_status,omitempty"`
	// Kubernetes is MANAGED, SELF_MANAGED or PARTIALLY_MANAGED.
	Kubernetes string `json:"kubernetes,omitempty"`
	// Production marks a cluster that deserves extra care before a stop.
	Production bool `json:"production"`
	// IsDemo marks a Qovery-provided demo cluster.
	IsDemo    bool `json:"is_demo"`
	IsDefault bool `json:"is_default"`
	// Version is the Kubernetes version, e.g. "1.31".
	Version         string `json:"version,omitempty"`
	InstanceType    string `json:"instance_type,omitempty"`
	MinRunningNodes int    `json:"min_running_nodes"`
	MaxRunningNodes int    `json:"max_running_nodes"`
}

// DeploymentReason tells why Qovery is running an operation on a cluster.
type DeploymentReason string

// The deployment reasons of the API's DeploymentInfraReason enum.
const (
	// ReasonUnspecified is the normal case: a user or token asked.
	ReasonUnspecified DeploymentReason = "UNSPECIFIED"
	// ReasonMaintenance means Qovery itself is updating the cluster.
	ReasonMaintenance DeploymentReason = "MAINTENANCE"
)

// ClusterStatus is the live state of one cluster, as returned by the status
// endpoints and by stop and deploy. Nullable strings of the API decode as "".
type ClusterStatus struct {
	ClusterID uuid.UUID `json:"cluster_id"`
	Status    State     `json:"status"`
	// IsDeployed reports whether the cluster has ever been deployed.
	IsDeployed bool `json:"is_deployed"`
	// NextK8sAvailableVersion is the Kubernetes version an upgrade would
	// bring, e.g. "1.32", or "".
	NextK8sAvailableVersion string `json:"next_k8s_available_version"`
	// LastExecutionID identifies the last operation, for its logs, or "".
	LastExecutionID string `json:"last_execution_id"`
	// ClusterLock is non-nil while someone has locked the cluster against
	// changes.
	ClusterLock        *ClusterLock     `json:"cluster_lock"`
	LastDeploymentDate *time.Time       `json:"last_deployment_date"`
	Reason             DeploymentReason `json:"reason"`
}

// MarshalJSON encodes s as the API does, so a fake server can answer with
// this type: empty nullable strings become null, since "" is not a version
// or an execution id, and an empty Reason becomes UNSPECIFIED, since the
// field is required and enumerated.
func (s ClusterStatus) MarshalJSON() ([]byte, error) {
	reason := s.Reason
	if reason == "" {
		reason = ReasonUnspecified
	}
	return json.Marshal(struct {
		ClusterID               uuid.UUID        `json:"cluster_id"`
		Status                  State            `json:"status"`
		IsDeployed              bool             `json:"is_deployed"`
		NextK8sAvailableVersion *string          `json:"next_k8s_available_version"`
		LastExecutionID         *string          `json:"last_execution_id"`
		ClusterLock             *ClusterLock     `json:"cluster_lock"`
		LastDeploymentDate      *time.Time       `json:"last_deployment_date"`
		Reason                  DeploymentReason `json:"reason"`
	}{
		ClusterID:               s.ClusterID,
		Status:                  s.Status,
		IsDeployed:              s.IsDeployed,
		NextK8sAvailableVersion: nullable(s.NextK8sAvailableVersion),
		LastExecutionID:         nullable(s.LastExecutionID),
		ClusterLock:             s.ClusterLock,
		LastDeploymentDate:      s.LastDeploymentDate,
		Reason:                  reason,
	})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ClusterLock records who locked a cluster and why. The API does not say
// which actions a lock blocks; treat a locked cluster as "do not touch".
type ClusterLock struct {
	Reason    string    `json:"reason"`
	ClusterID uuid.UUID `json:"cluster_id"`
	LockedAt  time.Time `json:"locked_at"`
	OwnerName string    `json:"owner_name"`
	// TTLInDays is how long the lock lasts, nil when it has no expiry.
	TTLInDays *int `json:"ttl_in_days,omitempty"`
}

// Clusters lists the clusters of an organization, with each one's state at
// the time of the call.
//
// Qovery API: GET /organization/{organizationId}/cluster.
func (c *Client) Clusters(ctx context.Context, orgID uuid.UUID) ([]Cluster, error) {
	return list[Cluster](ctx, c, "/organization/"+orgID.String()+"/cluster", fmt.Sprintf("list clusters of organization %s", orgID))
}

// ClusterStatuses returns the status of every cluster of an organization in
// one call, which lets a watcher poll many clusters at the cost of one.
//
// Qovery API: GET /organization/{organizationId}/cluster/status.
func (c *Client) ClusterStatuses(ctx context.Context, orgID uuid.UUID) ([]ClusterStatus, error) {
	return list[ClusterStatus](ctx, c, "/organization/"+orgID.String()+"/cluster/status", fmt.Sprintf("list cluster statuses of organization %s", orgID))
}

// ClusterStatus returns the status of one cluster.
//
// Qovery API: GET /organization/{organizationId}/cluster/{clusterId}/status.
func (c *Client) ClusterStatus(ctx context.Context, orgID, clusterID uuid.UUID) (*ClusterStatus, error) {
	path := clusterPath(orgID, clusterID, "status")
	var st *ClusterStatus
	if err := c.do(ctx, http.MethodGet, path, nil, &st); err != nil {
		return nil, fmt.Errorf("get status of cluster %s: %w", clusterID, err)
	}
	if st == nil {
		// Unlike stop and deploy, a status read is useless without a body.
		return nil, fmt.Errorf("get status of cluster %s: qovery: GET %s: empty response body", clusterID, path)
	}
	return st, nil
}

// ActionResponse is Qovery's answer to an action on a cluster (stop, deploy).
type ActionResponse struct {
	// StatusCode is the HTTP status of the answer: the API documents 202 (stop) and 201 (deploy),
	// real servers answer 200. It is kept for the audit trail.
	StatusCode int
	// Status is the cluster status in the body, or nil when the body was empty.
	Status *ClusterStatus
}

// StopCluster asks Qovery to stop a cluster. The request is sent once and
// never retried. Any 2xx is success: the API documents 202 with a
// ClusterStatus, but real servers answer 200, sometimes with no body, in
// which case the response's Status is nil. A 409 ([IsConflict]) means the
// cluster is already stopped or busy; re-read its status to tell which.
//
// Qovery API: POST /organization/{organizationId}/cluster/{clusterId}/stop.
func (c *Client) StopCluster(ctx context.Context, orgID, clusterID uuid.UUID) (*ActionResponse, error) {
	var st *ClusterStatus
	code, err := c.doStatus(ctx, http.MethodPost, clusterPath(orgID, clusterID, "stop"), nil, &st)
	if err != nil {
		return nil, fmt.Errorf("stop cluster %s: %w", clusterID, err)
	}
	return &ActionResponse{StatusCode: code, Status: st}, nil
}

// DeployCluster asks Qovery to deploy a cluster, which is how a stopped
// cluster is started; there is no separate start endpoint. Like
// [Client.StopCluster] it is sent once and accepts any 2xx (201 documented).
//
// Qovery API: POST /organization/{organizationId}/cluster/{clusterId}/deploy.
func (c *Client) DeployCluster(ctx context.Context, orgID, clusterID uuid.UUID) (*ActionResponse, error) {
	var st *ClusterStatus
	code, err := c.doStatus(ctx, http.MethodPost, clusterPath(orgID, clusterID, "deploy"), nil, &st)
	if err != nil {
		return nil, fmt.Errorf("deploy cluster %s: %w", clusterID, err)
	}
	return &ActionResponse{StatusCode: code, Status: st}, nil
}

// ConsoleClusterURL returns the page of a cluster in the Qovery web console,
// for links in messages.
func ConsoleClusterURL(orgID, clusterID uuid.UUID) string {
	return consoleBaseURL + "/organization/" + orgID.String() + "/cluster/" + clusterID.String()
}

func clusterPath(orgID, clusterID uuid.UUID, action string) string {
	return "/organization/" + orgID.String() + "/cluster/" + clusterID.String() + "/" + action
}
