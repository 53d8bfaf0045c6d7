package bot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// UserGroups resolves Slack user-group members with usergroups.users.list, caching each group for a
// short TTL: membership changes reach the bot within the TTL without a Slack call per click. It
// implements commands.Groups.
type UserGroups struct {
	api *slack.Client
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]groupEntry
}

type groupEntry struct {
	members []string
	fetched time.Time
}

// NewUserGroups returns a UserGroups caching members for ttl (one minute when ttl is zero).
func NewUserGroups(api *slack.Client, ttl time.Duration) *UserGroups {
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &UserGroups{api: api, ttl: ttl, now: time.Now, entries: map[string]groupEntry{}}
}

// GroupMembers returns the user ids of a user group's members.
func (g *UserGroups) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	g.mu.Lock()
	e, ok := g.entries[groupID]
	g.mu.Unlock()
	if ok && g.now().Sub(e.fetched) < g.ttl {
		return e.members, nil
	}
	members, err := g.api.GetUserGroupMembersContext(ctx, groupID)
	if err != nil {
		return nil, fmt.Errorf("usergroups.users.list %s: %w", groupID, err)
	}
	g.mu.Lock()
	g.entries[groupID] = groupEntry{members: members, fetched: g.now()}
	g.mu.Unlock()
	return members, nil
}
