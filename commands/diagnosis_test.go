package commands

import (
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func errorLog(at time.Time, e qovery.ClusterLogError) qovery.ClusterLog {
	return qovery.ClusterLog{Type: "error", Timestamp: at, Step: "PauseError", Error: &e}
}

// stopEndingIn runs a confirmed stop of staging whose watch ends in state, and returns it.
func (f *fixture) stopEndingIn(t *testing.T, state qovery.State) Operation {
	t.Helper()
	op := f.requestStop(t, "staging")
	f.q.script(qovery.StateDeployed, qovery.StateStopping, state)
	if _, err := f.confirm(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.watch(t.Context(), op.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.h.Operation(t.Context(), op.ID)
	return got
}

// A stop that ends in STOP_ERROR says why, from Qovery's latest error log line, shortened, and
// offers to try again.
func TestFailureIsDiagnosed(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	f.q.logs = []qovery.ClusterLog{
		errorLog(at, qovery.ClusterLogError{Tag: "OLD_ERROR"}),
		errorLog(at.Add(time.Minute), qovery.ClusterLogError{
			Tag: "CANNOT_PAUSE_CLUSTER_NODE_POOL", UserLogMessage: strings.Repeat("a PodDisruptionBudget blocks the drain. ", 40),
			HintMessage: "Relax the PodDisruptionBudget.", Link: "https://hub.qovery.com/docs/troubleshoot",
		}),
	}
	f.q.logs[1].Error.UnderlyingError.Message = strings.Repeat("x", 5000) // long: left out
	got := f.stopEndingIn(t, qovery.StateStopError)
	fl := got.Failure
	if got.Phase != PhaseFailed || fl == nil || !got.Retryable {
		t.Fatalf("operation = %s, failure %+v, retryable %v; want failed, diagnosed, retryable", got.Phase, fl, got.Retryable)
	}
	if fl.Tag != "CANNOT_PAUSE_CLUSTER_NODE_POOL" || fl.Hint != "Relax the PodDisruptionBudget." || fl.Link != "https://hub.qovery.com/docs/troubleshoot" || fl.Detail != "" {
		t.Errorf("failure = %+v", fl)
	}
	if n := len([]rune(fl.Message)); n > maxFailureMessage || !strings.HasSuffix(fl.Message, "…") {
		t.Errorf("message is %d characters, ending %q; want it cut to %d with an ellipsis", n, fl.Message[len(fl.Message)-5:], maxFailureMessage)
	}
}

// When the logs cannot be read, or hold no error, the failure says so.
func TestFailureWithoutLogs(t *testing.T) {
	f := newFixture(t)
	f.q.logsErr = &qovery.Error{StatusCode: 503}
	if got := f.stopEndingIn(t, qovery.StateStopError); got.Failure == nil || got.Failure.Unread != "Qovery answered 503" {
		t.Fatalf("failure = %+v; want the logs said unreadable", got.Failure)
	}
	g := newFixture(t)
	if got := g.stopEndingIn(t, qovery.StateStopError); got.Failure == nil || !strings.Contains(got.Failure.Unread, "hold no error") {
		t.Fatalf("failure = %+v; want the logs said to hold no error", got.Failure)
	}
	// A cancel is not an error state: no logs are read for it.
	h := newFixture(t)
	if got := h.stopEndingIn(t, qovery.StateCanceled); got.Phase != PhaseFailed || got.Failure != nil {
		t.Fatalf("cancelled stop = %s, failure %+v; want failed without a diagnosis", got.Phase, got.Failure)
	}
}

// Try again after a failure makes a fresh confirmation; its click makes exactly one more stop call.
func TestTryAgainAfterAFailure(t *testing.T) {
	f := newFixture(t)
	failed := f.stopEndingIn(t, qovery.StateStopError)
	f.q.script(qovery.StateStopError)
	r, err := f.press(t, ActionRetry, tclick{Ref: failed.Ref(), UserID: "U2"})
	if err != nil || r.Confirm == nil || r.Confirm.ID == failed.ID || r.Confirm.RequestedBy != "U2" || r.Confirm.Phase != PhasePending {
		t.Fatalf("Try again = %+v, %v; want a fresh confirmation requested by U2", r, err)
	}
	f.q.script(qovery.StateStopError, qovery.StateStopQueued)
	if _, err := f.confirm(t, tclick{Ref: r.Confirm.Ref(), UserID: "U2"}); err != nil {
		t.Fatal(err)
	}
	if f.q.stopCalls != 2 {
		t.Fatalf("stop calls = %d; want 2 (one each)", f.q.stopCalls)
	}
}
