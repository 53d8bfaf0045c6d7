package qoverysim

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Demo identifies what [Server.SeedDemo] created.
type Demo struct {
	OrganizationID uuid.UUID
	// Clusters maps each demo cluster's name to its id.
	Clusters map[string]uuid.UUID
}

// SeedDemo fills the server with the organization "Acme Corp" and six
// clusters that cover the cases a bot must handle:
//
//   - production-eu (AWS eu-west-3, production, DEPLOYED; 14 environments in 3 projects,
//     $1,200–1,800 a month)
//   - staging (AWS eu-west-3, DEPLOYED; a stop holds STOPPING for 3 reads; 3 environments,
//     $150–300 a month)
//   - staging-us (AWS us-east-2, DEPLOYED; no environment; its cost in the spec's total shape)
//   - preview-scw (SCW fr-par, DEPLOYED; a stop ends in STOP_ERROR, whose reason is in its logs;
//     2 environments, €80–120 a month)
//   - sandbox-gcp (GCP europe-west1, STOPPED; no cost known)
//   - data-platform (AWS eu-central-1, DEPLOYED, locked by Jane Doe; 1 environment)
//
// Ids and creation dates are fixed so that a console session is
// reproducible; the lock is dated two hours before the server's clock (see
// [WithClock]). Call SeedDemo once per server.
func (s *Server) SeedDemo() Demo {
	orgID := uuid.MustParse("7d3f9a10-4c2b-4e8d-9b1a-acce55000001")
	created := time.Date(2024, time.January, 15, 9, 0, 0, 0, time.UTC)
	ttl := 2

	s.mu.Lock()
	defer s.mu.Unlock()
	s.addOrganization(orgID, "Acme Corp", created)
	demo := Demo{OrganizationID: orgID, Clusters: make(map[string]uuid.UUID)}
	for i, spec := range []ClusterSpec{
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60001"),
			Name: "production-eu", CloudProvider: "AWS", Region: "eu-west-3",
			Production: true, Status: qovery.StateDeployed,
			Environments: slices.Concat(
				demoEnvironments("storefront", "production", "production-eu-2", "canary"),
				demoEnvironments("payments", "production", "reconciliation", "fraud-scoring", "ledger", "webhooks"),
				demoEnvironments("platform", "observability", "ingress", "auth", "search", "queues"),
			),
			Cost: &qovery.CostRange{Min: 1200, Max: 1800, Currency: "USD"},
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60002"),
			Name: "staging", CloudProvider: "AWS", Region: "eu-west-3",
			Status: qovery.StateDeployed,
			StopScript: []qovery.State{
				qovery.StateStopping, qovery.StateStopping, qovery.StateStopping,
				qovery.StateStopped,
			},
			Environments: slices.Concat(
				demoEnvironments("storefront", "staging"),
				demoEnvironments("payments", "staging", "qa"),
			),
			Cost: &qovery.CostRange{Min: 150, Max: 300, Currency: "USD"},
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60003"),
			Name: "staging-us", CloudProvider: "AWS", Region: "us-east-2",
			Status: qovery.StateDeployed,
			Cost:   &qovery.CostRange{Min: 95, Max: 95, Currency: "USD"}, CostAsTotal: true,
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60004"),
			Name: "preview-scw", CloudProvider: "SCW", Region: "fr-par",
			Status:          qovery.StateDeployed,
			StopScript:      []qovery.State{qovery.StateStopping, qovery.StateStopError},
			LastExecutionID: "9a4c1e7b-2f3d-4b5a-8c6d-0e1f2a3b4c5d-1718000000",
			Environments:    demoEnvironments("previews", "pr-1842", "pr-1857"),
			Cost:            &qovery.CostRange{Min: 80, Max: 120, Currency: "EUR"},
			Logs: []qovery.ClusterLog{
				demoLog(s.now().Add(-3*time.Minute), "info", "Pause", "Preparing to pause the Kapsule cluster.", nil),
				demoLog(s.now().Add(-2*time.Minute), "error", "PauseError", "", &qovery.ClusterLogError{
					Tag:            "CANNOT_PAUSE_CLUSTER_NODE_POOL",
					UserLogMessage: "The node pool `default` could not be scaled to zero: a PodDisruptionBudget blocks the drain of node scw-default-3f2a.",
					HintMessage:    "Relax the PodDisruptionBudget of the blocking workload, or stop its environment first, then stop the cluster again.",
					Link:           "https://hub.qovery.com/docs/using-qovery/troubleshoot/",
				}),
			},
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60005"),
			Name: "sandbox-gcp", CloudProvider: "GCP", Region: "europe-west1",
			Status: qovery.StateStopped,
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60006"),
			Name: "data-platform", CloudProvider: "AWS", Region: "eu-central-1",
			Status: qovery.StateDeployed,
			Lock: &qovery.ClusterLock{
				OwnerName: "Jane Doe",
				Reason:    "Quarterly load test",
				LockedAt:  s.now().Add(-2 * time.Hour).UTC().Truncate(time.Minute),
				TTLInDays: &ttl,
			},
			Environments: demoEnvironments("analytics", "warehouse"),
		},
	} {
		// Stagger creation a week apart, in listing order.
		demo.Clusters[spec.Name] = s.addCluster(orgID, spec, created.AddDate(0, 0, 7*i))
	}
	return demo
}

// demoEnvironments is one project's environments, each running three services, with ids derived
// from the names so that a session is reproducible.
func demoEnvironments(project string, names ...string) []qovery.ClusterEnvironment {
	projectID := uuid.NewSHA1(uuid.NameSpaceURL, []byte("demo/"+project))
	envs := make([]qovery.ClusterEnvironment, len(names))
	for i, name := range names {
		envID := uuid.NewSHA1(projectID, []byte(name))
		env := qovery.ClusterEnvironment{EnvironmentID: envID, EnvironmentName: name, ProjectID: projectID, ProjectName: project}
		for _, svc := range []struct{ name, kind string }{{"api", "APPLICATION"}, {"worker", "CONTAINER"}, {"postgres", "DATABASE"}} {
			env.Services = append(env.Services, qovery.ClusterEnvironmentService{ID: uuid.NewSHA1(envID, []byte(svc.name)), Name: svc.name, Type: svc.kind})
		}
		envs[i] = env
	}
	return envs
}

// demoLog is one line of a demo cluster's log.
func demoLog(at time.Time, level, step, message string, failure *qovery.ClusterLogError) qovery.ClusterLog {
	l := qovery.ClusterLog{Type: level, Timestamp: at.UTC().Truncate(time.Second), Step: step, Error: failure}
	l.Message.SafeMessage = message
	return l
}
