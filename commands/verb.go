package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// verbSpec is what a verb that changes a cluster (stop, start) does to it. Stop and start share one
// lifecycle (confirmation, protection, exactly-once, watching); they differ only in what is called
// and what counts as done.
type verbSpec struct {
	verb Verb
	// noun and past name the verb in messages: "stop", "stopped".
	noun, past string
	// from reports the states the verb may be requested from.
	from func(qovery.State) bool
	// done reports the states meaning the verb's goal is already reached.
	done func(qovery.State) bool
	// success is the state that ends the watch well.
	success qovery.State
	// queued is the state assumed when Qovery accepts without saying.
	queued qovery.State
	// inPhase reports the states showing the verb under way; before one is seen, a state in
	// unchanged is taken for Qovery's stale answer.
	inPhase   func(qovery.State) bool
	unchanged func(qovery.State) bool
	call      func(ctx context.Context, q Qovery, org, cluster uuid.UUID) (*qovery.ActionResponse, error)
}

var (
	stopSpec = verbSpec{
		verb: VerbStop, noun: "stop", past: "stopped",
		// Where the Qovery console offers a stop, minus the queued and running states (409).
		from: func(s qovery.State) bool {
			switch s {
			case qovery.StateDeployed, qovery.StateRestarted, qovery.StateDeploymentError,
				qovery.StateRestartError, qovery.StateStopError, qovery.StateBuildError, qovery.StateCanceled:
				return true
			}
			return false
		},
		done:      func(s qovery.State) bool { return s == qovery.StateStopped || s == qovery.StateReady },
		success:   qovery.StateStopped,
		queued:    qovery.StateStopQueued,
		inPhase:   qovery.State.IsStopPhase,
		unchanged: func(s qovery.State) bool { return s == qovery.StateDeployed || s == qovery.StateRestarted },
		call: func(ctx context.Context, q Qovery, org, cluster uuid.UUID) (*qovery.ActionResponse, error) {
			return q.StopCluster(ctx, org, cluster)
		},
	}
	// Qovery starts a stopped cluster by deploying it; the console offers that from STOPPED and
	// READY (never deployed).
	startSpec = verbSpec{
		verb: VerbStart, noun: "start", past: "started",
		from:      func(s qovery.State) bool { return s == qovery.StateStopped || s == qovery.StateReady },
		done:      func(s qovery.State) bool { return s == qovery.StateDeployed || s == qovery.StateRestarted },
		success:   qovery.StateDeployed,
		queued:    qovery.StateDeploymentQueued,
		inPhase:   qovery.State.IsDeployPhase,
		unchanged: func(s qovery.State) bool { return s == qovery.StateStopped || s == qovery.StateReady },
		call: func(ctx context.Context, q Qovery, org, cluster uuid.UUID) (*qovery.ActionResponse, error) {
			return q.DeployCluster(ctx, org, cluster)
		},
	}
)

// specOf returns the spec of a verb that changes a cluster; any verb other than start is a stop.
func specOf(v Verb) verbSpec {
	if v == VerbStart {
		return startSpec
	}
	return stopSpec
}

// Action is the verb of the operation: stop or start. Operations recorded before start existed
// have no verb; they are stops.
func (o *Operation) Action() Verb {
	if o.Verb == "" {
		return VerbStop
	}
	return o.Verb
}

// spec is what the operation's verb does to the cluster.
func (o *Operation) spec() verbSpec { return specOf(o.Action()) }

// failed reports whether s ends a stop or start in failure: any *_ERROR, INVALID_CREDENTIALS, a cancel, or
// the cluster being deleted.
func failed(s qovery.State) bool {
	switch s {
	case qovery.StateCanceled, qovery.StateDeleted, qovery.StateDeleteQueued, qovery.StateDeleting:
		return true
	}
	return s.IsError()
}

// refusal explains why the action cannot be done to a cluster in status st now, or returns nothing
// when it can.
func (a verbSpec) refusal(name string, st *qovery.ClusterStatus) Text {
	n := Strong(name)
	switch {
	case a.done(st.Status) && st.Status == qovery.StateReady:
		return Say(Icon("white_check_mark"), " ", n, " is ", stateName(st.Status), " (never deployed), so it is not running. Nothing to "+a.noun+".")
	case a.done(st.Status):
		return Say(Icon("white_check_mark"), " ", n, " is already ", stateName(st.Status), ". Nothing to "+a.noun+".")
	case st.Status.IsInProgress():
		return Say(Icon("gear"), " ", n, " is busy: an operation is in progress (", stateName(st.Status), "). Try again once it settles; ",
			Code(CommandName+" status "+name), " shows where it stands.")
	case st.ClusterLock != nil:
		return Lines(Say(n, " is locked in Qovery, so the bot will not "+a.noun+" it."), lockText(st.ClusterLock),
			Say("Ask the lock owner, or remove the lock in Qovery first."))
	case !a.from(st.Status):
		return Say(Icon("grey_question"), " ", n, " is ", stateName(st.Status), ", a state from which the bot does not "+a.noun+" clusters. Check it in the Qovery console.")
	}
	return nil
}
