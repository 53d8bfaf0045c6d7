package qovery

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Organization is a Qovery organization, the owner of clusters and API
// tokens. It carries the fields of the API's Organization schema that a bot
// needs to pick one.
type Organization struct {
	ID        uuid.UUID  `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	// Name is case-insensitive for Qovery.
	Name string `json:"name"`
	// Description is null in the API when unset; it decodes as "".
	Description string `json:"description,omitempty"`
	// Plan is the billing plan, e.g. "ENTERPRISE_2025".
	Plan string `json:"plan"`
}

// ReferenceObject is how the API points at another resource: by id only.
type ReferenceObject struct {
	ID uuid.UUID `json:"id"`
}

// Organizations lists the organizations the token can see; an organization
// API token usually sees exactly one.
//
// Qovery API: GET /organization.
func (c *Client) Organizations(ctx context.Context) ([]Organization, error) {
	return list[Organization](ctx, c, "/organization", "list organizations")
}
