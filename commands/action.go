package commands

import (
	"errors"
	"strings"

	"github.com/google/uuid"
)

// ActionRef is what the bot's buttons and modals carry back: the request and the cluster it is
// about. It comes back from Slack through the user's client, so it is checked, never trusted: both
// ids must match a stored request.
type ActionRef struct {
	OperationID uuid.UUID
	ClusterID   uuid.UUID
}

// Ref returns the [ActionRef] of op.
func (op Operation) Ref() ActionRef {
	return ActionRef{OperationID: op.ID, ClusterID: op.ClusterID}
}

// String encodes r as "<operation id>:<cluster id>".
func (r ActionRef) String() string { return r.OperationID.String() + ":" + r.ClusterID.String() }

// ErrBadActionRef means a button value or modal metadata is not one the bot made.
var ErrBadActionRef = errors.New("malformed action reference")

// ParseActionRef decodes [ActionRef.String]. It accepts only the canonical form the bot writes.
func ParseActionRef(s string) (ActionRef, error) {
	opPart, clusterPart, ok := strings.Cut(s, ":")
	if !ok {
		return ActionRef{}, ErrBadActionRef
	}
	op, err1 := canonicalUUID(opPart)
	cluster, err2 := canonicalUUID(clusterPart)
	if err1 != nil || err2 != nil {
		return ActionRef{}, ErrBadActionRef
	}
	return ActionRef{OperationID: op, ClusterID: cluster}, nil
}

// canonicalUUID parses only the lower-case 8-4-4-4-12 form, not the braces, URN and bare-hex forms
// uuid.Parse also accepts, and not the nil uuid.
func canonicalUUID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil || id.String() != s {
		return uuid.Nil, ErrBadActionRef
	}
	return id, nil
}
