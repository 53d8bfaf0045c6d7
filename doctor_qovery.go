package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// qoveryToken lists the organizations the Qovery token sees (GET /organization).
func (d *doctor) qoveryToken(ctx context.Context, cfg config, hc *http.Client, what string) (*qovery.Client, bool) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	qc, err := qovery.NewClient(cfg.QoveryAPIToken, qovery.WithBaseURL(cfg.QoveryAPIURL), qovery.WithUserAgent("qovery-slack-bot-doctor"),
		qovery.WithHTTPClient(hc), qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 2, MinBackoff: 500 * time.Millisecond, MaxBackoff: 2 * time.Second}))
	if err != nil {
		d.fail(what, err.Error(), "check QOVERY_API_URL")
		return nil, false
	}
	orgs, err := qc.Organizations(ctx)
	if err != nil {
		problem, fix := qoveryProblem(cfg.QoveryAPIURL, "GET /organization", err)
		d.fail(what, problem, fix)
		return nil, false
	}
	d.pass(what, fmt.Sprintf("works (GET /organization), sees %s", plural(len(orgs), "organization")))
	return qc, true
}

// qoveryOrganization picks the organization as the bot does (resolveOrganization).
func (d *doctor) qoveryOrganization(ctx context.Context, qc *qovery.Client, want uuid.UUID, what string) (qovery.Organization, bool) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	org, err := resolveOrganization(ctx, qc, want)
	if err == nil {
		how := "the only one the token sees"
		if want != uuid.Nil {
			how = "QOVERY_ORGANIZATION_ID"
		}
		d.pass(what, fmt.Sprintf("%s (%s), %s", org.Name, org.ID, how))
		return org, true
	}
	// resolveOrganization explains its errors, for start-up and for this check alike.
	problem, fix, ok := explainedParts(err)
	if !ok {
		problem, fix = err.Error(), "run doctor again"
	}
	d.fail(what, problem, fix)
	return qovery.Organization{}, false
}

// qoveryClusters lists the organization's clusters, as /qovery list and stop do.
func (d *doctor) qoveryClusters(ctx context.Context, qc *qovery.Client, org qovery.Organization, what string) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	clusters, err := qc.Clusters(ctx, org.ID)
	if err != nil {
		problem, fix := qoveryProblem(qc.BaseURL(), "GET /organization/{id}/cluster", err)
		d.fail(what, problem, fix)
		return
	}
	d.pass(what, fmt.Sprintf("the token lists %s in %s", plural(len(clusters), "cluster"), org.Name))
}

// qoveryProblem explains a failed Qovery call and how to fix it.
func qoveryProblem(apiURL, call string, err error) (problem, fix string) {
	var qe *qovery.Error
	switch {
	case qovery.IsUnauthorized(err):
		return "Qovery rejected the token on " + call + " (401): the token is invalid or revoked",
			"create an organization API token (Qovery console > Organization settings > API token) and set QOVERY_API_TOKEN to it"
	case qovery.IsForbidden(err):
		return "Qovery refused " + call + " (403): the token's role does not allow it",
			"give the API token a role that can read and stop the organization's clusters"
	case errors.As(err, &qe):
		return "Qovery answered " + call + " with " + qe.Error(), "try again later; if it persists, check QOVERY_API_URL and Qovery's status page"
	}
	return unreachable("Qovery", apiURL, call, err), "check the network (and any proxy) to Qovery, and QOVERY_API_URL"
}
