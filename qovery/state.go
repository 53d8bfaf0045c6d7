package qovery

import "strings"

// State is the lifecycle state of a Qovery cluster, the ClusterStateEnum of
// the Qovery API.
//
// State is a plain string rather than a closed enum because Qovery adds
// values without notice (DRY_RUN and INVALID_CREDENTIALS both arrived late):
// an unknown value decodes without error, prints as-is, and is classified by
// the predicates from its suffix, so a new server state cannot break a caller.
type State string

// The cluster states documented by the Qovery API, in the order of the
// ClusterStateEnum schema.
const (
	StateBuilding           State = "BUILDING"
	StateBuildError         State = "BUILD_ERROR"
	StateCanceled           State = "CANCELED"
	StateCanceling          State = "CANCELING"
	StateDeleted            State = "DELETED"
	StateDeleteError        State = "DELETE_ERROR"
	StateDeleteQueued       State = "DELETE_QUEUED"
	StateDeleting           State = "DELETING"
	StateDeployed           State = "DEPLOYED"
	StateDeploying          State = "DEPLOYING"
	StateDeploymentError    State = "DEPLOYMENT_ERROR"
	StateDeploymentQueued   State = "DEPLOYMENT_QUEUED"
	StateDryRun             State = "DRY_RUN"
	StateQueued             State = "QUEUED"
	StateReady              State = "READY"
	StateStopped            State = "STOPPED"
	StateStopping           State = "STOPPING"
	StateStopError          State = "STOP_ERROR"
	StateStopQueued         State = "STOP_QUEUED"
	StateRestartQueued      State = "RESTART_QUEUED"
	StateRestarting         State = "RESTARTING"
	StateRestarted          State = "RESTARTED"
	StateRestartError       State = "RESTART_ERROR"
	StateInvalidCredentials State = "INVALID_CREDENTIALS"
)

// States returns every documented [State] in the order of the API's
// ClusterStateEnum. The slice is new on each call, so callers may modify it.
func States() []State {
	return []State{
		StateBuilding,
		StateBuildError,
		StateCanceled,
		StateCanceling,
		StateDeleted,
		StateDeleteError,
		StateDeleteQueued,
		StateDeleting,
		StateDeployed,
		StateDeploying,
		StateDeploymentError,
		StateDeploymentQueued,
		StateDryRun,
		StateQueued,
		StateReady,
		StateStopped,
		StateStopping,
		StateStopError,
		StateStopQueued,
		StateRestartQueued,
		StateRestarting,
		StateRestarted,
		StateRestartError,
		StateInvalidCredentials,
	}
}

// String returns the wire value unchanged, so unknown states render as the
// server sent them.
func (s State) String() string { return string(s) }

// IsKnown reports whether s is one of the values listed by [States].
func (s State) IsKnown() bool {
	switch s {
	case StateBuilding, StateBuildError, StateCanceled, StateCanceling,
		StateDeleted, StateDeleteError, StateDeleteQueued, StateDeleting,
		StateDeployed, StateDeploying, StateDeploymentError, StateDeploymentQueued,
		StateDryRun, StateQueued, StateReady, StateStopped,
		StateStopping, StateStopError, StateStopQueued, StateRestartQueued,
		StateRestarting, StateRestarted, StateRestartError, StateInvalidCredentials:
		return true
	}
	return false
}

// IsQueued reports whether an operation has been accepted but not started:
// QUEUED or any *_QUEUED state, including ones Qovery may add later.
func (s State) IsQueued() bool {
	return s == StateQueued || strings.HasSuffix(string(s), "_QUEUED")
}

// IsInProgress reports whether an operation is queued or running, which is
// when Qovery refuses a new stop with 409. It holds for queued states, for
// every *ING state (BUILDING, CANCELING, DELETING, DEPLOYING, STOPPING,
// RESTARTING and any future one) and for DRY_RUN, a deployment that only
// simulates its changes.
func (s State) IsInProgress() bool {
	return s.IsQueued() || s == StateDryRun || strings.HasSuffix(string(s), "ING")
}

// IsError reports whether s is a failure: any *_ERROR state, or
// INVALID_CREDENTIALS, which Qovery uses when the cloud credentials are
// broken and no operation can finish.
func (s State) IsError() bool {
	return s == StateInvalidCredentials || strings.HasSuffix(string(s), "_ERROR")
}

// IsTerminal reports whether s is a settled state in which a watcher can stop
// polling: a documented resting state (DEPLOYED, STOPPED, READY, RESTARTED,
// CANCELED, DELETED) or an error. Unknown non-error states are not terminal,
// so a watcher keeps polling them until its own timeout.
func (s State) IsTerminal() bool {
	switch s {
	case StateDeployed, StateStopped, StateReady, StateRestarted, StateCanceled, StateDeleted:
		return true
	}
	return s.IsError()
}

// IsStopPhase reports whether s belongs to a stop: STOP_QUEUED, STOPPING,
// STOPPED or STOP_ERROR (and any future STOP_* state). A watcher uses it to
// tell that a stop has really started, since the first status read after the
// request may still show the previous state.
func (s State) IsStopPhase() bool {
	return s == StateStopping || s == StateStopped || strings.HasPrefix(string(s), "STOP_")
}

// IsDeployPhase reports whether s belongs to a deployment, Qovery's way of
// starting a cluster: DEPLOYMENT_QUEUED, DEPLOYING, DEPLOYED or
// DEPLOYMENT_ERROR (and any future DEPLOY* state).
func (s State) IsDeployPhase() bool {
	return strings.HasPrefix(string(s), "DEPLOY")
}
