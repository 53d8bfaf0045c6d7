package main

import (
	_ "embed"
	"fmt"

	"go.yaml.in/yaml/v4"
)

// manifestYAML is manifest.yaml, the Slack app manifest, built into the binary: it is the one list
// of the bot's scopes, which doctor checks the bot token against.
//
//go:embed manifest.yaml
var manifestYAML []byte

// requiredScopes returns the bot scopes manifest.yaml asks for (oauth_config.scopes.bot), in its
// order. It panics if the embedded manifest lists none, a build that the tests reject.
func requiredScopes() []string {
	var m struct {
		OAuthConfig struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(manifestYAML, &m); err != nil || len(m.OAuthConfig.Scopes.Bot) == 0 {
		panic(fmt.Sprintf("manifest.yaml: no oauth_config.scopes.bot (%v)", err))
	}
	return m.OAuthConfig.Scopes.Bot
}
