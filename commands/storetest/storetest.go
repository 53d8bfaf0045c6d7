// Package storetest checks that an implementation of [commands.Store] keeps the contract the rest
// of the bot relies on. Like net/http/httptest it is an ordinary package meant for tests: each store
// calls [Run] from its own test, so the in-memory store and the durable ones are held to the same
// behaviour instead of each having its own, slowly diverging, tests.
package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Run runs the subtests every [commands.Store] must pass. open returns a new, empty store for the
// subtest it is given; it should register any cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) commands.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s commands.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"RoundTripMinimal", testRoundTripMinimal},
		{"GetUnknown", testGetUnknown},
		{"UpdateUnknown", testUpdateUnknown},
		{"CreateUsedID", testCreateUsedID},
		{"Busy", testBusy},
		{"OtherCluster", testOtherCluster},
		{"FinalFreesCluster", testFinalFreesCluster},
		{"LifecycleHoldsCluster", testLifecycleHoldsCluster},
		{"UpdateFnError", testUpdateFnError},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"RacingConfirm", testRacingConfirm},
		{"ActiveAndUnsettled", testActiveAndUnsettled},
		{"UnsettledFollowsUpdates", testUnsettledFollowsUpdates},
		{"ReturnsCopies", testReturnsCopies},
		{"BusyErrorIsCopy", testBusyErrorIsCopy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

// fixedTime returns distinct instants in a zone other than UTC and with nanoseconds, which is what
// a careless encoding (seconds only, or local time without the offset) would lose.
func fixedTime(minutes int) time.Time {
	zone := time.FixedZone("UTC+5:30", 5*3600+30*60)
	return time.Date(2025, time.March, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(minutes) * time.Minute)
}

// fullOperation returns an operation with every field set, so that a store that drops or mangles a
// field fails the round trip. checkAllSet keeps it honest when Operation grows.
func fullOperation(clusterID uuid.UUID) commands.Operation {
	return commands.Operation{
		ID:                uuid.New(),
		OrganizationID:    uuid.New(),
		ClusterID:         clusterID,
		ClusterName:       "production-eu",
		CloudProvider:     "AWS",
		Region:            "eu-west-3",
		Production:        true,
		Protected:         true,
		NeedsSecondPerson: true,
		StatusAtRequest:   qovery.StateDeployed,
		RequestedBy:       "U0REQUESTER",
		ChannelID:         "C0CHANNEL",
		MessageTS:         "1710425366.000100",
		RequestedAt:       fixedTime(0),
		ExpiresAt:         fixedTime(5),
		Phase:             commands.PhaseWatching,
		ConfirmedBy:       "U0CONFIRMER",
		ConfirmedAt:       fixedTime(1),
		CallHTTPStatus:    202,
		AcceptedAt:        fixedTime(2),
		SeenActionPhase:   true,
		UpSince:           fixedTime(4),
		OutageSince:       fixedTime(5),
		OutageNoted:       true,
		Retryable:         true,
		Verb:              commands.VerbStart,
		State:             qovery.StateStopping,
		LastExecutionID:   "exec-42",
		FinishedAt:        fixedTime(30),
		FinishedBy:        "U0FINISHER",
		Note:              commands.Say(commands.Link("https://example.com/?a=1&b=2", "a <link>"), commands.Strong("stopped"), " with ", commands.Code("care"), " — ünïcode & <escapes> ", commands.User("U1")),
		ConsoleURL:        "https://console.qovery.com/organization/o/clusters/c",
		Impact: commands.Impact{
			Environments:       []commands.EnvironmentRef{{Project: "storefront", Name: "staging", Services: 3}},
			EnvironmentCount:   12,
			EnvironmentsUnread: "Qovery answered 503",
			Cost:               &commands.Cost{Min: 150.5, Max: 300, Currency: "USD"},
			CostUnread:         "Qovery did not answer within 1.5s",
		},
		Lock: &qovery.ClusterLock{Reason: "release freeze", ClusterID: uuid.MustParse("3f2a9c1e-0000-4000-8000-0000000000aa"),
			LockedAt: fixedTime(2).UTC(), OwnerName: "Jane Doe", TTLInDays: new(3)},
		Failure: &commands.Failure{Tag: "CANNOT_PAUSE", Message: "a PDB blocks the drain", Hint: "relax it",
			Link: "https://hub.qovery.com/x", Detail: "drain: timeout", Unread: "Qovery answered 503"},
		Schedule: &commands.ScheduledRun{ID: "3f2a9c1e", At: time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC), Late: 3 * time.Minute,
			When: "every weekday at 19:00 Europe/Paris", Zone: "Europe/Paris"},
		Call: commands.CallAnswered,
		Notices: []commands.Notice{
			{Seq: 1, Event: commands.Event{Kind: commands.EventConfirmed, State: qovery.StateDeployed, At: fixedTime(1), Since: fixedTime(0), Days: 3}, State: commands.NoticePosted, Attempts: 1, RetryAt: fixedTime(3)},
			{Seq: 2, Event: commands.Event{Kind: commands.EventAccepted, State: qovery.StateStopQueued, At: fixedTime(2)}, State: commands.NoticeSending, Attempts: 2},
			{Seq: 3, Event: commands.Event{Kind: commands.EventState, State: qovery.StateStopping, At: fixedTime(3)}, State: commands.NoticePending},
			{Seq: 4, Event: commands.Event{Kind: commands.EventState, State: qovery.StateStopError, At: fixedTime(4)}, State: commands.NoticeAbandoned, Attempts: 5},
		},
	}
}

// newOperation returns a minimal operation in phase on clusterID.
func newOperation(clusterID uuid.UUID, phase commands.Phase) commands.Operation {
	return commands.Operation{
		ID:          uuid.New(),
		ClusterID:   clusterID,
		ClusterName: "cluster-" + clusterID.String()[:8],
		RequestedAt: fixedTime(0),
		Phase:       phase,
	}
}

// checkAllSet fails if v, a struct, has a zero field, looking into structs and the first element
// of slices. A field added to Operation then has to be added to fullOperation, or the round trip
// would silently not cover it.
func checkAllSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.IsZero() {
				t.Errorf("fullOperation: %s is zero; set it so the round trip covers it", path)
			}
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			checkAllSet(t, path+"."+f.Name, v.Field(i))
		}
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("fullOperation: %s is empty; set it so the round trip covers it", path)
			return
		}
		checkAllSet(t, path+"[0]", v.Index(0))
	default:
		if v.IsZero() {
			t.Errorf("fullOperation: %s is zero; set it so the round trip covers it", path)
		}
	}
}

// normalize returns op with every time in UTC without a monotonic reading, and empty slices nil:
// a store need only keep the instant (as time.Time.Equal compares it) and the elements.
func normalize(op commands.Operation) commands.Operation {
	v := reflect.ValueOf(&op).Elem()
	normalizeValue(v)
	return op
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Round(0).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalizeValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		// Copy before normalizing so that the caller's slice is left as it was.
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalizeValue(c.Index(i))
		}
		v.Set(c)
	}
}

// diff lists the fields in which got and want differ, after normalizing both.
func diff(got, want commands.Operation) []string {
	g, w := reflect.ValueOf(normalize(got)), reflect.ValueOf(normalize(want))
	var diffs []string
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			diffs = append(diffs, fmt.Sprintf("%s: got %+v, want %+v", g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface()))
		}
	}
	return diffs
}

// checkEqual fails the test if got and want differ in any field.
func checkEqual(t *testing.T, what string, got, want commands.Operation) {
	t.Helper()
	for _, d := range diff(got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

// mustCreate creates op or fails the test.
func mustCreate(t *testing.T, s commands.Store, op commands.Operation) {
	t.Helper()
	if err := s.Create(t.Context(), op); err != nil {
		t.Fatalf("Create(%s) = %v; want nil", op.ID, err)
	}
}

// mustGet returns the stored operation or fails the test.
func mustGet(t *testing.T, s commands.Store, id uuid.UUID) commands.Operation {
	t.Helper()
	op, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s) = %v; want nil", id, err)
	}
	return op
}

// mustUpdate applies fn or fails the test.
func mustUpdate(t *testing.T, s commands.Store, id uuid.UUID, fn func(*commands.Operation)) commands.Operation {
	t.Helper()
	op, err := s.Update(t.Context(), id, nil, func(op *commands.Operation) error {
		fn(op)
		return nil
	})
	if err != nil {
		t.Fatalf("Update(%s) = %v; want nil", id, err)
	}
	return op
}

// finish moves op to phase with every notice posted, so that it is settled.
func finish(phase commands.Phase) func(*commands.Operation) {
	return func(op *commands.Operation) {
		op.Phase = phase
		op.FinishedAt = fixedTime(10)
		for i := range op.Notices {
			op.Notices[i].State = commands.NoticePosted
		}
	}
}

// ids returns the sorted ids of ops.
func ids(ops []commands.Operation) []string {
	s := make([]string, 0, len(ops))
	for _, op := range ops {
		s = append(s, op.ID.String())
	}
	slices.Sort(s)
	return s
}

// checkLists fails unless Active and Unsettled list exactly the operations given.
func checkLists(t *testing.T, s commands.Store, active, unsettled []commands.Operation) {
	t.Helper()
	gotActive, err := s.Active(t.Context())
	if err != nil {
		t.Fatalf("Active() = %v; want nil", err)
	}
	if got, want := ids(gotActive), ids(active); !slices.Equal(got, want) {
		t.Errorf("Active() ids = %v; want %v", got, want)
	}
	gotUnsettled, err := s.Unsettled(t.Context())
	if err != nil {
		t.Fatalf("Unsettled() = %v; want nil", err)
	}
	got := make([]string, 0, len(gotUnsettled))
	for _, id := range gotUnsettled {
		got = append(got, id.String())
	}
	slices.Sort(got)
	if want := ids(unsettled); !slices.Equal(got, want) {
		t.Errorf("Unsettled() ids = %v; want %v", got, want)
	}
}
