package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// resolveOrganization returns the configured organization, or the token's only one.
func resolveOrganization(ctx context.Context, qc *qovery.Client, want uuid.UUID) (qovery.Organization, error) {
	orgs, err := qc.Organizations(ctx)
	if err != nil {
		if qovery.IsUnauthorized(err) {
			return qovery.Organization{}, errors.New("QOVERY_API_TOKEN: Qovery rejected the token (401); create a new organization API token")
		}
		return qovery.Organization{}, fmt.Errorf("list Qovery organizations: %w", err)
	}
	if want != uuid.Nil {
		for _, o := range orgs {
			if o.ID == want {
				return o, nil
			}
		}
		return qovery.Organization{}, fmt.Errorf("QOVERY_ORGANIZATION_ID: the token cannot see organization %s; it sees %s", want, orgList(orgs))
	}
	switch len(orgs) {
	case 0:
		return qovery.Organization{}, errors.New("QOVERY_API_TOKEN: the token sees no organization; create the token inside the organization to act on")
	case 1:
		return orgs[0], nil
	}
	return qovery.Organization{}, fmt.Errorf("QOVERY_ORGANIZATION_ID: not set and the token sees %d organizations; set it to one of: %s", len(orgs), orgList(orgs))
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
