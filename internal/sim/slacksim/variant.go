package slacksim

import "fmt"

// The Enterprise Grid organization of [VariantEnterpriseGrid].
const (
	enterpriseID   = "E0FAKE"
	enterpriseName = "Fake Enterprise"
)

// externalDomain is the domain of the team named by a TeamID on a
// [SlashCommand], [Click] or [ViewSubmission]: another organization's.
const externalDomain = "other-org"

// A Variant picks one of the shapes Slack has been seen to give the same
// payload, so that a bot can be tested against each: slack-go once broke on
// is_enterprise_install arriving as a string (slack-go#1265). Set it on a
// [SlashCommand] or a [Click].
type Variant int

// Payload variants.
const (
	// VariantDefault is the shape the fake sends when no variant is set:
	// for a slash command is_enterprise_install is the string "false", as
	// Slack sends it; for a click it is the JSON bool false with
	// "enterprise": null.
	VariantDefault Variant = iota
	// VariantEnterpriseInstallBool sends is_enterprise_install as the JSON
	// bool false. Block actions already carry a bool, so a click looks as
	// with VariantDefault.
	VariantEnterpriseInstallBool
	// VariantEnterpriseInstallString sends is_enterprise_install as the
	// string "false", what Slack sends for slash commands today. Slack
	// sends a bool in block actions, and slack-go's InteractionCallback
	// decodes nothing else, so a click keeps the bool.
	VariantEnterpriseInstallString
	// VariantEnterpriseInstallMissing leaves is_enterprise_install out,
	// as some Socket Mode slash command payloads have.
	VariantEnterpriseInstallMissing
	// VariantEnterpriseGrid is a workspace of an Enterprise Grid
	// organization (E0FAKE, "Fake Enterprise") where the app is installed
	// on the workspace only. A slash command gets enterprise_id and
	// enterprise_name and is_enterprise_install "false"; a click gets
	// "enterprise": {"id":…,"name":…}, is_enterprise_install false, and the
	// enterprise in its team object, while user.team_id stays the
	// workspace.
	VariantEnterpriseGrid
)

// String returns the variant's name, such as "enterprise-grid".
func (v Variant) String() string {
	switch v {
	case VariantDefault:
		return "default"
	case VariantEnterpriseInstallBool:
		return "enterprise-install-bool"
	case VariantEnterpriseInstallString:
		return "enterprise-install-string"
	case VariantEnterpriseInstallMissing:
		return "enterprise-install-missing"
	case VariantEnterpriseGrid:
		return "enterprise-grid"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// slashEnterpriseInstall is a slash command's is_enterprise_install; nil
// leaves the field out.
func (v Variant) slashEnterpriseInstall() any {
	switch v {
	case VariantEnterpriseInstallBool:
		return false
	case VariantEnterpriseInstallMissing:
		return nil
	}
	return "false"
}

// interactionEnterpriseInstall is an interaction payload's
// is_enterprise_install; nil leaves the field out.
func (v Variant) interactionEnterpriseInstall() any {
	if v == VariantEnterpriseInstallMissing {
		return nil
	}
	return false
}

// enterprise returns the organization's ID and name, or empty strings
// outside Enterprise Grid.
func (v Variant) enterprise() (id, name string) {
	if v == VariantEnterpriseGrid {
		return enterpriseID, enterpriseName
	}
	return "", ""
}

// wireEnterprise is an interaction payload's enterprise object, or nil for
// Slack's "enterprise": null outside Enterprise Grid.
func (v Variant) wireEnterprise() *wireEnterprise {
	id, name := v.enterprise()
	if id == "" {
		return nil
	}
	return &wireEnterprise{ID: id, Name: name}
}

// wireEnterprise is the enterprise object of interaction payloads.
type wireEnterprise struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// wireTeam is the team object of interaction payloads. In Enterprise Grid
// it also names the organization.
type wireTeam struct {
	ID             string `json:"id"`
	Domain         string `json:"domain"`
	EnterpriseID   string `json:"enterprise_id,omitempty"`
	EnterpriseName string `json:"enterprise_name,omitempty"`
}

func (s *Server) wireTeamLocked(v Variant) wireTeam {
	id, name := v.enterprise()
	return wireTeam{ID: s.cfg.teamID, Domain: s.teamDomain(), EnterpriseID: id, EnterpriseName: name}
}
