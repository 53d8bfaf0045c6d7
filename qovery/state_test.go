package qovery

import (
	"encoding/json"
	"testing"
)

func TestStates(t *testing.T) {
	states := States()
	if got, want := len(states), 24; got != want {
		t.Fatalf("len(States()) = %v, want %v", got, want)
	}
	if got, want := states[0], StateBuilding; got != want {
		t.Errorf("States()[0] = %v, want %v", got, want)
	}
	if got, want := states[23], StateInvalidCredentials; got != want {
		t.Errorf("States()[23] = %v, want %v", got, want)
	}
	seen := make(map[State]bool)
	for _, s := range states {
		if seen[s] {
			t.Errorf("States() lists %v twice", s)
		}
		seen[s] = true
		if !s.IsKnown() {
			t.Errorf("%v.IsKnown() = false, want true", s)
		}
	}
	states[0] = "MUTATED"
	if got, want := States()[0], StateBuilding; got != want {
		t.Errorf("after mutating a result, States()[0] = %v, want %v", got, want)
	}
}

func TestStatePredicates(t *testing.T) {
	type flags struct {
		known, queued, inProgress, err, terminal, stop, deploy bool
	}
	tests := []struct {
		state State
		want  flags
	}{
		{StateBuilding, flags{known: true, inProgress: true}},
		{StateBuildError, flags{known: true, err: true, terminal: true}},
		{StateCanceled, flags{known: true, terminal: true}},
		{StateCanceling, flags{known: true, inProgress: true}},
		{StateDeleted, flags{known: true, terminal: true}},
		{StateDeleteError, flags{known: true, err: true, terminal: true}},
		{StateDeleteQueued, flags{known: true, queued: true, inProgress: true}},
		{StateDeleting, flags{known: true, inProgress: true}},
		{StateDeployed, flags{known: true, terminal: true, deploy: true}},
		{StateDeploying, flags{known: true, inProgress: true, deploy: true}},
		{StateDeploymentError, flags{known: true, err: true, terminal: true, deploy: true}},
		{StateDeploymentQueued, flags{known: true, queued: true, inProgress: true, deploy: true}},
		{StateDryRun, flags{known: true, inProgress: true}},
		{StateQueued, flags{known: true, queued: true, inProgress: true}},
		{StateReady, flags{known: true, terminal: true}},
		{StateStopped, flags{known: true, terminal: true, stop: true}},
		{StateStopping, flags{known: true, inProgress: true, stop: true}},
		{StateStopError, flags{known: true, err: true, terminal: true, stop: true}},
		{StateStopQueued, flags{known: true, queued: true, inProgress: true, stop: true}},
		{StateRestartQueued, flags{known: true, queued: true, inProgress: true}},
		{StateRestarting, flags{known: true, inProgress: true}},
		{StateRestarted, flags{known: true, terminal: true}},
		{StateRestartError, flags{known: true, err: true, terminal: true}},
		{StateInvalidCredentials, flags{known: true, err: true, terminal: true}},
		// Future values are classified by their shape.
		{"SOMETHING_NEW", flags{}},
		{"UPGRADE_QUEUED", flags{queued: true, inProgress: true}},
		{"UPGRADING", flags{inProgress: true}},
		{"INTERNAL_ERROR", flags{err: true, terminal: true}},
		{"STOP_WAITING", flags{inProgress: true, stop: true}},
		{"", flags{}},
	}
	if got, want := len(tests)-6, len(States()); got != want {
		t.Fatalf("table covers %v documented states, want %v", got, want)
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			got := flags{
				known:      tc.state.IsKnown(),
				queued:     tc.state.IsQueued(),
				inProgress: tc.state.IsInProgress(),
				err:        tc.state.IsError(),
				terminal:   tc.state.IsTerminal(),
				stop:       tc.state.IsStopPhase(),
				deploy:     tc.state.IsDeployPhase(),
			}
			if got != tc.want {
				t.Errorf("predicates of %q: got %+v, want %+v", tc.state, got, tc.want)
			}
			if got, want := tc.state.String(), string(tc.state); got != want {
				t.Errorf("String() = %v, want %v", got, want)
			}
		})
	}
}

func TestStateDecodesUnknownValues(t *testing.T) {
	var v struct {
		Status State `json:"status"`
	}
	if err := json.Unmarshal([]byte(`{"status":"SOMETHING_NEW"}`), &v); err != nil {
		t.Fatalf("Unmarshal: got %v, want nil", err)
	}
	if got, want := v.Status, State("SOMETHING_NEW"); got != want {
		t.Errorf("Status = %v, want %v", got, want)
	}
}
