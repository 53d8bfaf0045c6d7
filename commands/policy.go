package commands

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Policy says who may stop and start clusters, where, and which clusters need extra care. Users and channels
// are Slack ids, never names: names can be changed by their owners.
type Policy struct {
	// AllowEveryone lets every member of the workspace stop and start clusters (QOVERY_BOT_ALLOWED_USERS=*).
	AllowEveryone bool
	// Users are the Slack user ids allowed to stop and start clusters.
	Users []string
	// Groups are Slack user-group ids whose members are allowed.
	Groups []string
	// Channels are the channel ids where stops and starts are accepted; empty means any channel.
	Channels []string
	// Protected are name globs (path.Match syntax, case-insensitive) of clusters that need the typed
	// confirmation, like clusters Qovery marks production.
	Protected []string
	// FourEyes requires a second allowed person to confirm a protected cluster's stop or start.
	FourEyes bool
}

// configured reports whether any user setting was given. Without one, nobody may stop or start.
func (p Policy) configured() bool {
	return p.AllowEveryone || len(p.Users) > 0 || len(p.Groups) > 0
}

// IsProtected reports whether a cluster needs the typed confirmation.
func (p Policy) IsProtected(name string, production bool) bool {
	if production {
		return true
	}
	lower := strings.ToLower(name)
	for _, glob := range p.Protected {
		if ok, _ := path.Match(strings.ToLower(glob), lower); ok {
			return true
		}
	}
	return false
}

// Groups is how commands learns the members of Slack user groups.
type Groups interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// DeniedError refuses an action to a user. Msg is what to tell them; Reason is a short code for the
// audit log.
type DeniedError struct {
	Reason string
	Msg    Text
	Err    error
}

func (e *DeniedError) Error() string {
	if e.Err != nil {
		return "denied (" + e.Reason + "): " + e.Err.Error()
	}
	return "denied: " + e.Reason
}

func (e *DeniedError) Unwrap() error { return e.Err }

// Reasons of a [DeniedError].
const (
	DenyNotConfigured = "not_configured"
	DenyChannel       = "channel_not_allowed"
	DenyUser          = "user_not_allowed"
	DenyGroupLookup   = "group_lookup_failed"
	DenyFourEyes      = "four_eyes"
	DenyNotRequester  = "not_requester"
)

// authorize checks that user may stop and start clusters in channel. It fails closed: when a user-group
// lookup fails and nothing else allows the user, the user is denied.
func (h *Handler) authorize(ctx context.Context, userID, channelID string) error {
	p := h.cfg.Policy
	if !p.configured() {
		return &DeniedError{Reason: DenyNotConfigured, Msg: Say("Stopping clusters is not enabled yet: an admin must set ", Code("QOVERY_BOT_ALLOWED_USERS"),
			" (Slack user ids, or ", Code("*"), " for everyone) or ", Code("QOVERY_BOT_ALLOWED_USERGROUPS"), ". ", Code("help"), ", ", Code("list"), " and ", Code("status"), " work meanwhile.")}
	}
	if len(p.Channels) > 0 && !contains(p.Channels, channelID) {
		return &DeniedError{Reason: DenyChannel, Msg: Say("Clusters can't be stopped from this channel. Use ", channelList(p.Channels),
			", or ask an admin to add this channel's id ("+channelID+") to ", Code("QOVERY_BOT_ALLOWED_CHANNELS"), ".")}
	}
	if p.AllowEveryone || contains(p.Users, userID) {
		return nil
	}
	var lookupErr error
	if h.groups != nil {
		for _, g := range p.Groups {
			members, err := h.groups.GroupMembers(ctx, g)
			if err != nil {
				lookupErr = fmt.Errorf("members of user group %s: %w", g, err)
				continue
			}
			if contains(members, userID) {
				return nil
			}
		}
	}
	if lookupErr != nil {
		return &DeniedError{Reason: DenyGroupLookup, Err: lookupErr, Msg: Say("The bot could not check your Slack user groups, so it cannot let you stop clusters right now. Try again in a minute.")}
	}
	return &DeniedError{Reason: DenyUser, Msg: Say("You are not allowed to stop clusters. An admin can add your Slack user id ("+userID+") to ",
		Code("QOVERY_BOT_ALLOWED_USERS"), ", or you to a group in ", Code("QOVERY_BOT_ALLOWED_USERGROUPS"), ".")}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func channelList(ids []string) Text {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	links := make([]Text, len(sorted))
	for i, id := range sorted {
		links[i] = Say(Channel(id))
	}
	return Join(links, ", ")
}
