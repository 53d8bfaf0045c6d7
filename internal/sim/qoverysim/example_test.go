package qoverysim_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// A watcher stopping the demo "staging" cluster sees each scripted state in
// turn, one per status read.
func ExampleServer_SeedDemo() {
	s := qoverysim.Start()
	defer s.Close()
	demo := s.SeedDemo()
	c := s.Client()
	ctx := context.Background()
	org, staging := demo.OrganizationID, demo.Clusters["staging"]

	if _, err := c.StopCluster(ctx, org, staging); err != nil {
		fmt.Println(err)
		return
	}
	for {
		st, err := c.ClusterStatus(ctx, org, staging)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(st.Status)
		if st.Status.IsTerminal() {
			break
		}
	}
	// Output:
	// STOP_QUEUED
	// STOPPING
	// STOPPING
	// STOPPING
	// STOPPED
}

// Stopping a stopped cluster answers 409, with Qovery's detail.
func ExampleServer_SeedDemo_conflict() {
	s := qoverysim.Start()
	defer s.Close()
	demo := s.SeedDemo()
	_, err := s.Client().StopCluster(context.Background(), demo.OrganizationID, demo.Clusters["sandbox-gcp"])
	fmt.Println(qovery.IsConflict(err))
	fmt.Println(err)
	// Output:
	// true
	// stop cluster 5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60005: qovery: POST /organization/7d3f9a10-4c2b-4e8d-9b1a-acce55000001/cluster/5f1a7c2e-0b3d-4e8f-a1b2-c3d4e5f60005/stop: 409 Conflict: Cluster is already stopped or an operation is in progress
}

// FailNext makes the next requests to a route fail; the client retries GETs.
func ExampleServer_FailNext() {
	s := qoverysim.Start()
	defer s.Close()
	demo := s.SeedDemo()
	s.FailNext(qoverysim.RouteClusters, http.StatusServiceUnavailable, 2)

	clusters, err := s.Client().Clusters(context.Background(), demo.OrganizationID)
	fmt.Println(len(clusters), err)
	for _, r := range s.Requests() {
		fmt.Println(r.Method, r.Route, r.StatusCode)
	}
	// Output:
	// 6 <nil>
	// GET GET /organization/{organizationId}/cluster 503
	// GET GET /organization/{organizationId}/cluster 503
	// GET GET /organization/{organizationId}/cluster 200
}
