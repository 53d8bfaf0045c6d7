package qoverysim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// The routes under /cluster/{clusterId}, which name no organization: what runs on a cluster, and its
// lock.

// matchCluster maps /cluster/{clusterId}/… to a route.
func matchCluster(method string, seg []string) (Route, []string) {
	if len(seg) != 3 || seg[1] == "" {
		return "", nil
	}
	params := seg[1:2]
	switch seg[2] {
	case "environments":
		return RouteClusterEnvironments, params
	case "lock":
		if method == http.MethodDelete {
			return RouteUnlockCluster, params
		}
		return RouteLockCluster, params
	}
	return "", nil
}

// answerCluster answers a route under /cluster/{clusterId}, under s.mu. The token sees the clusters
// of every organization the fake holds.
func (s *Server) answerCluster(route Route, id uuid.UUID, payload []byte) (int, any, *apiError) {
	c := s.cluster(id)
	if c == nil {
		return 0, nil, &apiError{http.StatusNotFound, fmt.Sprintf("Cluster %s not found", id)}
	}
	switch route {
	case RouteClusterEnvironments:
		return http.StatusOK, results(append([]qovery.ClusterEnvironment{}, c.environments...)), nil
	case RouteLockCluster:
		var req struct {
			Reason    *string `json:"reason"`
			TTLInDays *int    `json:"ttl_in_days"`
		}
		if err := json.Unmarshal(payload, &req); err != nil || req.Reason == nil {
			return 0, nil, &apiError{http.StatusBadRequest, "a ClusterLockRequest with a reason is required"}
		}
		if req.TTLInDays != nil && *req.TTLInDays < 1 {
			return 0, nil, &apiError{http.StatusBadRequest, "ttl_in_days must be at least 1"}
		}
		c.setLock(&qovery.ClusterLock{Reason: *req.Reason, TTLInDays: req.TTLInDays, OwnerName: "Qovery Slack bot"}, s.now())
		return http.StatusOK, *c.lock, nil
	case RouteUnlockCluster:
		c.setLock(nil, s.now())
		return http.StatusNoContent, nil, nil
	}
	return 0, nil, &apiError{http.StatusNotFound, "Resource not found"}
}

// costAnswer is the cluster's currentCost: the documented range with the total the spec marks
// required (its maximum), or, with CostAsTotal, the total alone.
func (c *cluster) costAnswer() (int, any, *apiError) {
	if c.cost == nil {
		return 0, nil, &apiError{http.StatusNotFound, "No cost is known for this cluster yet"}
	}
	cents := func(v float64) int64 { return int64(math.Round(v * 100)) }
	if c.costAsTotal {
		return http.StatusOK, struct {
			Total        float64 `json:"total"`
			TotalInCents int64   `json:"total_in_cents"`
			CurrencyCode string  `json:"currency_code"`
		}{c.cost.Max, cents(c.cost.Max), c.cost.Currency}, nil
	}
	return http.StatusOK, struct {
		MinCostInCents int64   `json:"min_cost_in_cents"`
		MinCost        float64 `json:"min_cost"`
		MaxCostInCents int64   `json:"max_cost_in_cents"`
		MaxCost        float64 `json:"max_cost"`
		Total          float64 `json:"total"`
		TotalInCents   int64   `json:"total_in_cents"`
		CurrencyCode   string  `json:"currency_code"`
	}{cents(c.cost.Min), c.cost.Min, cents(c.cost.Max), c.cost.Max, c.cost.Max, cents(c.cost.Max), c.cost.Currency}, nil
}
