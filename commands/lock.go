package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Locker is the part of the Qovery client that locks and unlocks clusters.
type Locker interface {
	LockCluster(ctx context.Context, clusterID uuid.UUID, reason string, ttlDays *int) (*qovery.ClusterLock, error)
	UnlockCluster(ctx context.Context, clusterID uuid.UUID) error
}

// lock freezes a cluster in Qovery at once, for the same people who may stop it, and says so in
// the channel: a lock only prevents changes, so it needs no confirmation (unlocking does).
func (h *Handler) lock(ctx context.Context, req Request, cmd Command) (Text, error) {
	if err := h.authorize(ctx, req.By.UserID, req.By.ChannelID); err != nil {
		return nil, err
	}
	c, err := h.findCluster(ctx, cmd.Cluster)
	if err != nil {
		return nil, err
	}
	st, err := h.q.ClusterStatus(ctx, h.cfg.OrganizationID, c.ID)
	if err != nil {
		return nil, qoveryError("read the cluster's status", err)
	}
	if st.ClusterLock != nil {
		return Lines(Say(Strong(c.Name), " is already locked; nothing changed."), LockText(st.ClusterLock),
			Say("To change the lock, ", Code(CommandName+" unlock "+c.Name), " first.")), nil
	}
	var days *int
	if cmd.LockDays > 0 {
		days = &cmd.LockDays
	}
	_, err = h.q.LockCluster(ctx, c.ID, cmd.Reason, days)
	h.forgetCluster(c.ID)
	if err != nil {
		return nil, qoveryError("lock the cluster", err)
	}
	op := Operation{ID: req.ID, Verb: VerbLock, OrganizationID: h.cfg.OrganizationID, ClusterID: c.ID, ClusterName: c.Name,
		Production: c.Production, RequestedBy: req.By.UserID, ChannelID: req.By.ChannelID, RequestedAt: h.now(),
		Phase: PhaseSucceeded, FinishedAt: h.now(), Note: Say(cmd.Reason)}
	h.audit.Event(op, Event{Kind: EventLocked, At: h.now(), Days: cmd.LockDays})

	until := "until someone unlocks it"
	if cmd.LockDays > 0 {
		until = fmt.Sprintf("for %d day%s", cmd.LockDays, plural(cmd.LockDays))
	}
	said := Say(Icon("lock"), " ", User(req.By.UserID), " locked ", Strong(c.Name), " in Qovery "+until+": “"+cmd.Reason+"”. Stops, starts and deployments are refused until ",
		Code(CommandName+" unlock "+c.Name), ".")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err := h.chat.Announce(ctx, req.By.ChannelID, said); err != nil {
		// The lock is made: say it to the person at least, and why the channel did not hear it.
		why := Say("The bot could not post it in this channel.")
		if errors.Is(err, ErrCannotPost) {
			why = Say("The bot is not a member of this channel, so only you see this; invite it with ", Code("/invite @Qovery"), ".")
		}
		return Lines(said, why), nil
	}
	return nil, nil
}
