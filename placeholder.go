package main

import "strings"

// placeholderWords are the stand-ins that examples put where a secret belongs: the Secrets in
// deploy/kubernetes (REPLACE_ME_xapp_token, postgres://qovery_bot:REPLACE_ME@…), the
// `kubectl create secret` lines beside them (xapp-…), and the usual ones of other guides
// (CHANGE_ME, xoxb-your-token, xoxb-...). They are compared with the value upper-cased. The Helm
// chart refuses the same list when it is rendered (templates/_helpers.tpl, which helm_test.go holds
// to this one).
func placeholderWords() []string {
	return []string{"REPLACE_ME", "REPLACEME", "REPLACE-ME", "CHANGE_ME", "CHANGEME", "CHANGE-ME", "YOUR_TOKEN", "YOUR-TOKEN", "…", "..."}
}

// placeholder returns the placeholder that value holds, such as "REPLACE_ME" or "<…>" for
// <your token>, or "" when it holds none. A value with a placeholder was copied from an example
// rather than filled in: the bot refuses it at start-up instead of failing later on a token Slack,
// Qovery or PostgreSQL rejects.
func placeholder(value string) string {
	upper := strings.ToUpper(value)
	for _, w := range placeholderWords() {
		if strings.Contains(upper, w) {
			return w
		}
	}
	if i := strings.Index(value, "<"); i >= 0 && strings.Contains(value[i:], ">") {
		return "<…>"
	}
	return ""
}
