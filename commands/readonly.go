package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func (h *Handler) list(ctx context.Context) (string, error) {
	cached, err := h.clusters(ctx)
	if err != nil {
		return "", qoveryError("list the organization's clusters", err)
	}
	clusters := slices.Clone(cached) // sorted below; the cache's copy is shared
	org := "this organization"
	if h.cfg.OrganizationName != "" {
		org = "*" + Escape(h.cfg.OrganizationName) + "*"
	}
	if len(clusters) == 0 {
		return fmt.Sprintf("There are no clusters in %s.", org), nil
	}
	sort.SliceStable(clusters, func(i, j int) bool {
		return strings.ToLower(clusters[i].Name) < strings.ToLower(clusters[j].Name)
	})
	lines := []string{fmt.Sprintf("*%d clusters* in %s:", len(clusters), org)}
	for _, c := range clusters {
		line := fmt.Sprintf("%s `%s` · %s · %s %s", StateEmoji(c.Status), Escape(c.Name), stateName(c.Status), Escape(c.CloudProvider), Escape(c.Region))
		if c.Production {
			line += " · production"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), nil
}

func (h *Handler) status(ctx context.Context, typed string) (string, error) {
	c, err := h.findCluster(ctx, typed)
	if err != nil {
		return "", err
	}
	st, err := h.cachedStatus(ctx, c.ID)
	if err != nil {
		return "", qoveryError("read the cluster's status", err)
	}
	lines := []string{
		fmt.Sprintf("%s *%s* is %s", StateEmoji(st.Status), Escape(c.Name), stateName(st.Status)),
		fmt.Sprintf("%s %s · production: %s · id `%s`", Escape(c.CloudProvider), Escape(c.Region), yesNo(c.Production), c.ID),
	}
	if st.LastDeploymentDate != nil {
		lines = append(lines, "Last deployment: "+st.LastDeploymentDate.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if st.Reason == qovery.ReasonMaintenance {
		lines = append(lines, "Qovery is running maintenance on this cluster.")
	}
	if st.ClusterLock != nil {
		lines = append(lines, lockText(st.ClusterLock))
	}
	lines = append(lines, "<"+qovery.ConsoleClusterURL(h.cfg.OrganizationID, c.ID)+"|Open in the Qovery console>")
	return strings.Join(lines, "\n"), nil
}

// lockText describes a Qovery cluster lock: who, why, since when and for how long.
func lockText(l *qovery.ClusterLock) string {
	s := fmt.Sprintf(":lock: Locked by %s since %s: “%s”", Escape(l.OwnerName), l.LockedAt.UTC().Format("2006-01-02 15:04 UTC"), Escape(l.Reason))
	if l.TTLInDays != nil {
		s += fmt.Sprintf(" (lock TTL %d day%s)", *l.TTLInDays, plural(*l.TTLInDays))
	}
	return s
}

// stateName shows a state exactly as Qovery names it, in code format so it reads as a value.
func stateName(s qovery.State) string {
	if s == "" {
		return "`UNKNOWN`"
	}
	return "`" + Escape(string(s)) + "`"
}

// StateEmoji is the emoji of a state's family, as the bot uses it everywhere: running, stopped,
// queued, in progress, failed, or unknown.
func StateEmoji(s qovery.State) string {
	switch {
	case s == qovery.StateDeployed || s == qovery.StateRestarted:
		return ":large_green_circle:"
	case s == qovery.StateStopped || s == qovery.StateReady:
		return ":white_circle:"
	case s.IsError() || s == qovery.StateCanceled:
		return ":x:"
	case s.IsQueued():
		return ":inbox_tray:"
	case s.IsInProgress():
		return ":gear:"
	case s.IsKnown():
		return ":white_circle:"
	default:
		return ":grey_question:"
	}
}

func yesNo(b bool) string {
	if b {
		return "*yes*"
	}
	return "no"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
