package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func (h *Handler) list(ctx context.Context) (Text, error) {
	cached, err := h.clusters(ctx)
	if err != nil {
		return nil, qoveryError("list the organization's clusters", err)
	}
	clusters := slices.Clone(cached) // sorted below; the cache's copy is shared
	org := Say("this organization")
	if h.cfg.OrganizationName != "" {
		org = Say(Strong(h.cfg.OrganizationName))
	}
	if len(clusters) == 0 {
		return Say("There are no clusters in ", org, "."), nil
	}
	sort.SliceStable(clusters, func(i, j int) bool {
		return strings.ToLower(clusters[i].Name) < strings.ToLower(clusters[j].Name)
	})
	lines := []Text{Say(Strong(fmt.Sprintf("%d clusters", len(clusters))), " in ", org, ":")}
	for _, c := range clusters {
		line := Say(StateIcon(c.Status), " ", Code(c.Name), " · ", stateName(c.Status), " · "+c.CloudProvider+" "+c.Region)
		if c.Production {
			line = Say(line, " · production")
		}
		lines = append(lines, line)
	}
	return Lines(lines...), nil
}

func (h *Handler) status(ctx context.Context, typed string) (Text, error) {
	c, err := h.findCluster(ctx, typed)
	if err != nil {
		return nil, err
	}
	impactRead := make(chan Impact, 1)
	go func() { impactRead <- h.impactOf(ctx, c.ID) }()
	st, err := h.cachedStatus(ctx, c.ID)
	imp := <-impactRead
	if err != nil {
		return nil, qoveryError("read the cluster's status", err)
	}
	lines := []Text{
		Say(StateIcon(st.Status), " ", Strong(c.Name), " is ", stateName(st.Status)),
		Say(c.CloudProvider+" "+c.Region+" · production: ", yesNo(c.Production), " · id ", Code(c.ID.String())),
	}
	if st.LastDeploymentDate != nil {
		lines = append(lines, Say("Last deployment: "+st.LastDeploymentDate.UTC().Format("2006-01-02 15:04 UTC")))
	}
	if st.Reason == qovery.ReasonMaintenance {
		lines = append(lines, Say("Qovery is running maintenance on this cluster."))
	}
	if st.ClusterLock != nil {
		lines = append(lines, LockText(st.ClusterLock))
	}
	lines = append(lines, impactLine(imp))
	lines = append(lines, h.schedulesOf(ctx, c.ID)...)
	lines = append(lines, Say(Link(qovery.ConsoleClusterURL(h.cfg.OrganizationID, c.ID), "Open in the Qovery console")))
	return Lines(lines...), nil
}

// schedulesOf describes the active schedules of a cluster, one line each; nothing when the store
// cannot say (status is read-only and answers without them).
func (h *Handler) schedulesOf(ctx context.Context, cluster uuid.UUID) []Text {
	list, err := h.store.Schedules(ctx)
	if err != nil {
		h.cfg.Log.Warn().Err(err).Msg("list schedules for status")
		return nil
	}
	now := h.now()
	var lines []Text
	for _, r := range list {
		if r.State == ScheduleActive && r.ClusterID == cluster {
			lines = append(lines, Say(Icon("calendar"), " Schedule ", Code(r.ID), ": ", ScheduleText(r, scheduleOf(r).Next(now))))
		}
	}
	return lines
}

// LockText describes a Qovery cluster lock: who, why, since when and for how long.
func LockText(l *qovery.ClusterLock) Text {
	t := Say(Icon("lock"), " Locked by "+l.OwnerName+" since "+l.LockedAt.UTC().Format("2006-01-02 15:04 UTC")+": “"+l.Reason+"”")
	if l.TTLInDays != nil {
		t = Say(t, fmt.Sprintf(" (lock TTL %d day%s)", *l.TTLInDays, plural(*l.TTLInDays)))
	}
	return t
}

// stateName shows a state exactly as Qovery names it, as code so that it reads as a value.
func stateName(s qovery.State) Span {
	if s == "" {
		return Code("UNKNOWN")
	}
	return Code(string(s))
}

// StateIcon is the icon of a state's family, as the bot uses it everywhere: running, stopped,
// queued, in progress, failed, or unknown.
func StateIcon(s qovery.State) Span {
	switch {
	case s == qovery.StateDeployed || s == qovery.StateRestarted:
		return Icon("large_green_circle")
	case s == qovery.StateStopped || s == qovery.StateReady:
		return Icon("white_circle")
	case s.IsError() || s == qovery.StateCanceled:
		return Icon("x")
	case s.IsQueued():
		return Icon("inbox_tray")
	case s.IsInProgress():
		return Icon("gear")
	case s.IsKnown():
		return Icon("white_circle")
	default:
		return Icon("grey_question")
	}
}

func yesNo(b bool) Text {
	if b {
		return Say(Strong("yes"))
	}
	return Say("no")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
