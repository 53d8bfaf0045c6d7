package main

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// manifest is the part of Slack's app manifest schema (manifest.schema.1.0.0.json) the bot relies on.
type manifest struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
	} `yaml:"_metadata"`
	DisplayInformation struct {
		Name string `yaml:"name"`
	} `yaml:"display_information"`
	Features struct {
		BotUser struct {
			DisplayName string `yaml:"display_name"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command     string `yaml:"command"`
			Description string `yaml:"description"`
			UsageHint   string `yaml:"usage_hint"`
			URL         string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		SocketModeEnabled bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	var m manifest
	if err := yaml.Unmarshal(manifestYAML, &m); err != nil {
		t.Fatalf("manifest.yaml does not parse: %v", err)
	}
	if m.Metadata.MajorVersion != 1 || m.DisplayInformation.Name == "" || m.Features.BotUser.DisplayName == "" {
		t.Fatalf("manifest.yaml lacks required fields (_metadata.major_version 1, display_information.name, bot_user.display_name): %+v", m)
	}
	return m
}

// Slack's autocomplete shows the usage hint: it lists every verb the bot takes, in the order help
// does, and the description names every verb but help.
func TestManifestUsageHintListsEveryVerb(t *testing.T) {
	cmds := readManifest(t).Features.SlashCommands
	if len(cmds) != 1 {
		t.Fatalf("manifest has %d slash commands; want 1", len(cmds))
	}
	var verbs []string
	for _, v := range commands.Verbs() {
		verbs = append(verbs, string(v))
	}
	if got, want := cmds[0].UsageHint, strings.Join(verbs, "|")+" [cluster]"; got != want {
		t.Errorf("usage_hint = %q; want %q", got, want)
	}
	for _, v := range commands.Verbs() {
		if v != commands.VerbHelp && !strings.Contains(strings.ToLower(cmds[0].Description), string(v)) {
			t.Errorf("description %q does not mention %s", cmds[0].Description, v)
		}
	}
}
