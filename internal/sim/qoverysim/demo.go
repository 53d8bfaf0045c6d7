package qoverysim

import (
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
//   - production-eu (AWS eu-west-3, production, DEPLOYED)
//   - staging (AWS eu-west-3, DEPLOYED; a stop holds STOPPING for 3 reads)
//   - staging-us (AWS us-east-2, DEPLOYED)
//   - preview-scw (SCW fr-par, DEPLOYED; a stop ends in STOP_ERROR)
//   - sandbox-gcp (GCP europe-west1, STOPPED)
//   - data-platform (AWS eu-central-1, DEPLOYED, locked by Jane Doe)
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
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60002"),
			Name: "staging", CloudProvider: "AWS", Region: "eu-west-3",
			Status: qovery.StateDeployed,
			StopScript: []qovery.State{
				qovery.StateStopping, qovery.StateStopping, qovery.StateStopping,
				qovery.StateStopped,
			},
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60003"),
			Name: "staging-us", CloudProvider: "AWS", Region: "us-east-2",
			Status: qovery.StateDeployed,
		},
		{
			ID:   uuid.MustParse("5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60004"),
			Name: "preview-scw", CloudProvider: "SCW", Region: "fr-par",
			Status:          qovery.StateDeployed,
			StopScript:      []qovery.State{qovery.StateStopping, qovery.StateStopError},
			LastExecutionID: "9a4c1e7b-2f3d-4b5a-8c6d-0e1f2a3b4c5d-1718000000",
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
		},
	} {
		// Stagger creation a week apart, in listing order.
		demo.Clusters[spec.Name] = s.addCluster(orgID, spec, created.AddDate(0, 0, 7*i))
	}
	return demo
}
