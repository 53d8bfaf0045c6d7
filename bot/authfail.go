package bot

import (
	"errors"
	"fmt"

	"github.com/slack-go/slack"
)

// AuthFailures carries Slack's word that the bot's token no longer works, from wherever a Web API
// call learns it to [Bot.Run], which then stops: retrying with a revoked token only spins.
type AuthFailures struct {
	ch chan error
}

// NewAuthFailures returns an empty AuthFailures.
func NewAuthFailures() *AuthFailures { return &AuthFailures{ch: make(chan error, 1)} }

// check reports err if it is fatal. A nil AuthFailures ignores everything.
func (a *AuthFailures) check(err error) {
	if a == nil || err == nil {
		return
	}
	var serr slack.SlackErrorResponse
	if !errors.As(err, &serr) {
		return
	}
	switch serr.Err {
	case "invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired":
		select {
		case a.ch <- fmt.Errorf("Slack rejected SLACK_BOT_TOKEN: %s", serr.Err):
		default: // one is enough
		}
	}
}

func (a *AuthFailures) failures() <-chan error {
	if a == nil {
		return nil
	}
	return a.ch
}
