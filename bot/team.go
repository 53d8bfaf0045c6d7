package bot

import (
	"context"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// installation is where the app is installed, as auth.test tells the bot: a workspace, or, for an
// app installed on a whole Enterprise Grid organization, that organization.
type installation struct {
	teamID       string
	enterpriseID string
}

// orgWide reports whether the app is installed on an Enterprise Grid organization rather than on
// one workspace: auth.test then names the organization and no workspace of its own.
func (in installation) orgWide() bool {
	return in.enterpriseID != "" && (in.teamID == "" || in.teamID == in.enterpriseID)
}

// member reports whether a belongs to the installation: to its workspace, or to its organization
// for an org-wide install. A member of another organization, in a Slack Connect channel shared
// with the workspace, does not; nor does an actor whose team is unknown.
func (in installation) member(a actor) bool {
	if in.orgWide() {
		return a.enterpriseID != "" && a.enterpriseID == in.enterpriseID
	}
	return in.teamID != "" && a.teamID == in.teamID
}

// actor is who sent an envelope: a Slack user and the team (and Enterprise Grid organization) the
// user belongs to.
type actor struct {
	userID       string
	teamID       string
	enterpriseID string
}

// slashActor is who typed a slash command.
func slashActor(cmd slack.SlashCommand) actor {
	return actor{userID: cmd.UserID, teamID: cmd.TeamID, enterpriseID: cmd.EnterpriseID}
}

// interactionActor is who clicked or submitted: user.team_id names the user's own team, which
// differs from the workspace's in a Slack Connect channel; team.id is the fallback.
func interactionActor(cb slack.InteractionCallback) actor {
	a := actor{userID: cb.User.ID, teamID: cb.User.TeamID, enterpriseID: cb.Enterprise.ID}
	if a.teamID == "" {
		a.teamID = cb.Team.ID
	}
	if a.enterpriseID == "" {
		a.enterpriseID = cb.Team.EnterpriseID
	}
	return a
}

// foreignText answers a member of another organization, whatever the policy says (in the dialog's
// error too, which is plain text).
const foreignText = "This app only acts for members of the workspace where it is installed; your account belongs to another organization, so nothing was done."

// foreignReason is the audit reason of a refusal to a member of another organization.
const foreignReason = "foreign_team"

// installed returns where the app is installed, as auth.test said at start-up.
func (b *Bot) installed() installation {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.install
}

// admit records who is acting for the audit trail and reports whether that user belongs to the
// installation. Nobody else may act, whatever the policy says: with QOVERY_BOT_ALLOWED_USERS=*, a
// member of another organization in a shared channel would otherwise count as "everyone".
func (b *Bot) admit(who actor) bool {
	b.audit.sawActor(who)
	return b.installed().member(who)
}

// refuseForeign answers a member of another organization and audits the refusal; op is what the
// envelope was about, as far as it is known.
func (b *Bot) refuseForeign(ctx context.Context, log zerolog.Logger, who actor, op commands.Operation, by commands.Actor) {
	log.Warn().Str("actor_team_id", who.teamID).Str("actor_enterprise_id", who.enterpriseID).Msg("refused a member of another organization")
	b.audit.Denied(op, by, foreignReason)
	_ = b.chat.Tell(ctx, by, commands.Say(foreignText))
}
