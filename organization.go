package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// resolveOrganization returns the configured organization, or the token's only one. Its errors are
// explained: start-up prints them and doctor's organization check shows them.
func resolveOrganization(ctx context.Context, qc *qovery.Client, want uuid.UUID) (qovery.Organization, error) {
	orgs, err := qc.Organizations(ctx)
	if err != nil {
		problem, fix := qoveryProblem(qc.BaseURL(), "GET /organization", err)
		return qovery.Organization{}, explain(problem, fix, err)
	}
	if want != uuid.Nil {
		for _, o := range orgs {
			if o.ID == want {
				return o, nil
			}
		}
		return qovery.Organization{}, explain(
			fmt.Sprintf("the Qovery token cannot see organization %s (QOVERY_ORGANIZATION_ID); it sees %s", want, orgList(orgs)),
			"set QOVERY_ORGANIZATION_ID to one of those ids, or create the API token in the organization the bot should act on", nil)
	}
	switch len(orgs) {
	case 0:
		return qovery.Organization{}, explain("the Qovery token sees no organization",
			"create the API token inside the organization the bot should act on (Organization settings > API token) and set QOVERY_API_TOKEN to it", nil)
	case 1:
		return orgs[0], nil
	}
	return qovery.Organization{}, explain(
		fmt.Sprintf("QOVERY_ORGANIZATION_ID is not set and the Qovery token sees %d organizations: %s", len(orgs), orgList(orgs)),
		"set QOVERY_ORGANIZATION_ID to the id of the organization the bot should act on", nil)
}

func orgList(orgs []qovery.Organization) string {
	if len(orgs) == 0 {
		return "none"
	}
	parts := make([]string, len(orgs))
	for i, o := range orgs {
		parts[i] = fmt.Sprintf("%s (%s)", o.Name, o.ID)
	}
	return strings.Join(parts, ", ")
}
