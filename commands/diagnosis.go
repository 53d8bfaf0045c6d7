package commands

import (
	"cmp"
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Failure is why Qovery says an operation failed, from the cluster's latest error log line, so that
// the person who clicked reads the reason in the thread rather than in another tool.
type Failure struct {
	// Tag is Qovery's error code (CANNOT_PAUSE_CLUSTER_NODE_POOL), Message its explanation, Hint
	// what to do, Link its documentation; each shortened, any may be empty.
	Tag, Message, Hint, Link string
	// Detail is Qovery's technical error, kept only when it is short.
	Detail string `json:",omitempty"`
	// Unread says why the logs could not be read; the other fields are then empty.
	Unread string `json:",omitempty"`
}

// Lengths a failure's parts are cut to: a thread reply stays readable, and within Slack's limits.
const (
	maxFailureTag     = 80
	maxFailureMessage = 600
	maxFailureHint    = 400
	maxFailureDetail  = 200
	maxFailureLink    = 300
)

// diagnosisTimeout bounds the read of a failed cluster's logs before the final message goes out.
const diagnosisTimeout = 5 * time.Second

// diagnose reads why a cluster's operation failed from its logs. It never fails: what it could not
// read, it says.
func (h *Handler) diagnose(ctx context.Context, clusterID uuid.UUID) *Failure {
	ctx, cancel := context.WithTimeout(ctx, diagnosisTimeout)
	defer cancel()
	logs, err := h.q.ClusterLogs(ctx, h.cfg.OrganizationID, clusterID)
	if err != nil {
		return &Failure{Unread: unread(ctx, err, diagnosisTimeout)}
	}
	line, ok := qovery.LatestError(logs)
	if !ok {
		return &Failure{Unread: "Qovery's logs of the cluster hold no error"}
	}
	e := line.Error
	f := &Failure{
		Tag:     shorten(e.Tag, maxFailureTag),
		Message: shorten(cmp.Or(strings.TrimSpace(e.UserLogMessage), line.Message.SafeMessage), maxFailureMessage),
		Hint:    shorten(e.HintMessage, maxFailureHint),
	}
	if strings.HasPrefix(e.Link, "https://") && utf8.RuneCountInString(e.Link) <= maxFailureLink {
		f.Link = e.Link
	}
	if d := strings.TrimSpace(e.UnderlyingError.Message); d != "" && utf8.RuneCountInString(d) <= maxFailureDetail {
		f.Detail = d
	}
	return f
}

// shorten trims s and cuts it to at most n characters, marking the cut.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// FailureText says why Qovery says an operation failed, or that its logs could not be read.
func FailureText(f Failure) Text {
	if f.Unread != "" {
		return Say(Icon("grey_question"), " Why it failed is not known: "+f.Unread+".")
	}
	says := Say(Strong("Qovery says:"))
	if f.Tag != "" {
		says = Say(says, " ", Code(f.Tag))
	}
	if f.Message != "" {
		says = Say(says, " "+f.Message)
	}
	lines := []Text{says}
	if f.Detail != "" {
		lines = append(lines, Say("Detail: ", Code(f.Detail)))
	}
	if f.Hint != "" {
		lines = append(lines, Say(Icon("bulb"), " "+f.Hint))
	}
	if f.Link != "" {
		lines = append(lines, Say(Link(f.Link, "Qovery's documentation on this error")))
	}
	return Lines(lines...)
}
