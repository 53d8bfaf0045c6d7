package commands

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

func environments(n int) []qovery.ClusterEnvironment {
	envs := make([]qovery.ClusterEnvironment, n)
	for i := range envs {
		// Listed out of order: the confirmation sorts them by project, then name.
		envs[n-1-i] = qovery.ClusterEnvironment{EnvironmentID: uuid.New(), ProjectName: fmt.Sprintf("project-%02d", i%3),
			EnvironmentName: fmt.Sprintf("env-%03d", i), Services: make([]qovery.ClusterEnvironmentService, i%4)}
	}
	return envs
}

// The confirmation says what the operation takes down: every environment counted, the first ones
// named by project, and the cost.
func TestConfirmationShowsTheImpact(t *testing.T) {
	for _, tc := range []struct {
		name      string
		envs      int
		wantNamed int
	}{
		{"no environment", 0, 0},
		{"three", 3, 3},
		{"a hundred and fifty", 150, maxNamedEnvironments},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.q.envs = environments(tc.envs)
			f.q.cost = &qovery.CostRange{Min: 150, Max: 300, Currency: "USD"}
			op := f.requestStop(t, "staging")
			imp := op.Impact
			if imp.EnvironmentCount != tc.envs || len(imp.Environments) != tc.wantNamed || imp.EnvironmentsUnread != "" {
				t.Fatalf("impact = %d counted, %d named (%q); want %d and %d", imp.EnvironmentCount, len(imp.Environments), imp.EnvironmentsUnread, tc.envs, tc.wantNamed)
			}
			for i := 1; i < len(imp.Environments); i++ {
				a, b := imp.Environments[i-1], imp.Environments[i]
				if a.Project > b.Project || (a.Project == b.Project && a.Name > b.Name) {
					t.Fatalf("environments not sorted by project then name: %+v", imp.Environments)
				}
			}
			if imp.Cost == nil || FormatCost(*imp.Cost) != "$150–300 / month" {
				t.Fatalf("cost = %+v", imp.Cost)
			}
		})
	}
}

// What cannot be read is said, and the confirmation goes out all the same, within the budget.
func TestConfirmationWithoutTheImpact(t *testing.T) {
	f := newFixture(t)
	f.h.cfg.InsightBudget = 20 * time.Millisecond
	f.q.envErr = &qovery.Error{StatusCode: 503}
	op := f.requestStop(t, "staging")
	if op.Impact.EnvironmentsUnread != "Qovery answered 503" || op.Impact.Cost != nil || op.Impact.CostUnread != "" {
		t.Fatalf("impact = %+v; want the environments unread (503) and no cost (404: unknown, not an error)", op.Impact)
	}

	g := newFixture(t)
	g.h.cfg.InsightBudget = 20 * time.Millisecond
	g.q.block = true // Qovery never answers these reads
	op = g.requestStop(t, "staging")
	want := "Qovery did not answer within 20ms"
	if op.Impact.EnvironmentsUnread != want || op.Impact.CostUnread != want {
		t.Fatalf("impact = %+v; want both reads said unanswered", op.Impact)
	}
}

// A second request soon after reads Qovery's insight once; a refused request does not wait for it.
func TestImpactIsCachedBriefly(t *testing.T) {
	f := newFixture(t)
	f.q.envs = environments(2)
	op := f.requestStop(t, "staging")
	if _, err := f.cancel(t, tclick{Ref: op.Ref(), UserID: "U1"}); err != nil {
		t.Fatal(err)
	}
	f.requestStop(t, "staging")
	if f.q.insightRead != 1 {
		t.Fatalf("environment reads = %d; want 1 (cached)", f.q.insightRead)
	}
	f.clock.Advance(time.Minute)
	op = f.requestStop(t, "staging-us")
	if f.q.insightRead != 2 || op.Impact.EnvironmentCount != 2 {
		t.Fatalf("environment reads = %d; want a new one for another cluster", f.q.insightRead)
	}
}

func TestFormatCost(t *testing.T) {
	for _, tc := range []struct {
		c    Cost
		want string
	}{
		{Cost{150, 300, "USD"}, "$150–300 / month"},
		{Cost{95, 95, "EUR"}, "€95 / month"},
		{Cost{1200, 1800.4, "CHF"}, "1,200–1,800 CHF / month"},
		{Cost{1234567, 1234567, "GBP"}, "£1,234,567 / month"},
	} {
		if got := FormatCost(tc.c); got != tc.want {
			t.Errorf("FormatCost(%+v) = %q; want %q", tc.c, got, tc.want)
		}
	}
}
