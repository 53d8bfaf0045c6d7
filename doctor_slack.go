package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/slack-go/slack"
)

// slackAppToken asks Slack for a Socket Mode URL with the app-level token (apps.connections.open),
// as the bot does before dialling it.
func (d *doctor) slackAppToken(ctx context.Context, cfg config, hc *http.Client, what string) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	api := slack.New("", slack.OptionAppLevelToken(cfg.SlackAppToken), slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionHTTPClient(hc))
	_, _, err := api.StartSocketModeContext(ctx)
	if err == nil {
		d.pass(what, "opens a Socket Mode connection (apps.connections.open)")
		return
	}
	problem, fix := slackAppProblem(cfg.SlackAPIURL, err)
	d.fail(what, problem, fix)
}

// slackAppProblem explains a failed apps.connections.open with the app-level token, and how to fix
// it: for doctor's check and for start-up.
func slackAppProblem(apiURL string, err error) (problem, fix string) {
	const newToken = "generate an app-level token with the connections:write scope (your app's Basic Information > App-Level Tokens) and set SLACK_APP_TOKEN to it"
	switch code := slackErrorCode(err); code {
	case "":
		return unreachable("Slack", apiURL, "apps.connections.open", err), "check the network (and any proxy) to Slack, and SLACK_API_URL"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return "Slack rejected the app-level token on apps.connections.open (" + code + ")", newToken
	case "not_allowed_token_type":
		return "Slack says SLACK_APP_TOKEN is not an app-level token (not_allowed_token_type)", newToken
	case "missing_scope":
		return "the app-level token lacks the connections:write scope (missing_scope)", newToken
	default:
		return "apps.connections.open answered " + code, "check that Socket Mode is enabled for the app (manifest.yaml enables it), then " + newToken
	}
}

// slackBotToken calls auth.test with the bot token and returns the scopes Slack reports it has.
func (d *doctor) slackBotToken(ctx context.Context, cfg config, hc *http.Client, what string) (granted []string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, doctorCheckTimeout)
	defer cancel()
	api := slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionHTTPClient(hc))
	resp, err := api.AuthTestContext(ctx)
	if err != nil {
		problem, fix := slackBotProblem(cfg.SlackAPIURL, err)
		d.fail(what, problem, fix)
		return nil, false
	}
	d.pass(what, fmt.Sprintf("works (auth.test): workspace %s (%s), bot user @%s (%s)", resp.Team, resp.TeamID, resp.User, resp.UserID))
	if resp.Header == nil || resp.Header.Values("X-OAuth-Scopes") == nil {
		return nil, true
	}
	for _, s := range strings.Split(resp.Header.Get("X-OAuth-Scopes"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			granted = append(granted, s)
		}
	}
	if granted == nil {
		granted = []string{}
	}
	return granted, true
}

// slackBotProblem explains a failed auth.test with the bot token, and how to fix it.
func slackBotProblem(apiURL string, err error) (problem, fix string) {
	const reinstall = "reinstall the app (Install App), then set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions"
	switch code := slackErrorCode(err); code {
	case "":
		return unreachable("Slack", apiURL, "auth.test", err), "check the network (and any proxy) to Slack, and SLACK_API_URL"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return "Slack rejected the token on auth.test (" + code + ")", reinstall
	default:
		return "auth.test answered " + code, reinstall
	}
}

// botScopes compares the scopes Slack granted the bot token with those the manifest asks for. granted
// is nil when Slack did not say (no X-OAuth-Scopes header).
func (d *doctor) botScopes(granted []string, what string) {
	if granted == nil {
		d.fail(what, "Slack did not report the token's scopes (no X-OAuth-Scopes header on auth.test)",
			"check that nothing between the bot and Slack strips response headers; OAuth & Permissions lists the scopes the app has")
		return
	}
	var missing []string
	for _, s := range requiredScopes() {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		d.fail(what, "the bot token lacks "+strings.Join(missing, ", "),
			"add them under OAuth & Permissions > Scopes (manifest.yaml lists them), then reinstall the app (the bot token stays the same)")
		return
	}
	d.pass(what, "granted "+strings.Join(requiredScopes(), ", "))
}

// slackErrorCode returns the error code of a Slack answer with "ok": false ("invalid_auth"), or ""
// when err is not one (Slack did not answer, or answered with an HTTP error).
func slackErrorCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
