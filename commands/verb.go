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
	// instant verbs (unlock) are done when Qovery answers: nothing to watch. They apply to a
	// cluster's lock, not its state.
	instant bool
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

// unlockSpec removes a cluster's lock: confirmed like a stop (a lock is someone's decision), done
// as soon as Qovery answers.
var unlockSpec = verbSpec{
	verb: VerbUnlock, noun: "unlock", past: "unlocked", instant: true,
	call: func(ctx context.Context, q Qovery, _, cluster uuid.UUID) (*qovery.ActionResponse, error) {
		if err := q.UnlockCluster(ctx, cluster); err != nil {
			return nil, err
		}
		return &qovery.ActionResponse{StatusCode: 204}, nil
	},
}

// specOf returns the spec of a verb that changes a cluster; any verb other than start and unlock
// is a stop.
func specOf(v Verb) verbSpec {
	switch v {
	case VerbStart:
		return startSpec
	case VerbUnlock:
		return unlockSpec
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
	if a.instant {
		if st.ClusterLock == nil {
			return Say(Icon("unlock"), " ", n, " is not locked. Nothing to unlock.")
		}
		return nil
	}
	switch {
	case a.done(st.Status) && st.Status == qovery.StateReady:
		return Say(Icon("white_check_mark"), " ", n, " is ", stateName(st.Status), " (never deployed), so it is not running. Nothing to "+a.noun+".")
	case a.done(st.Status):
		return Say(Icon("white_check_mark"), " ", n, " is already ", stateName(st.Status), ". Nothing to "+a.noun+".")
	case st.Status.IsInProgress():
		return Say(Icon("gear"), " ", n, " is busy: an operation is in progress (", stateName(st.Status), "). Try again once it settles; ",
			Code(CommandName+" status "+name), " shows where it stands.")
	case st.ClusterLock != nil:
		return Lines(Say(n, " is locked in Qovery, so the bot will not "+a.noun+" it."), LockText(st.ClusterLock),
			Say("Ask the lock owner, or remove the lock in Qovery first."))
	case !a.from(st.Status):
		return Say(Icon("grey_question"), " ", n, " is ", stateName(st.Status), ", a state from which the bot does not "+a.noun+" clusters. Check it in the Qovery console.")
	}
	return nil
}
