package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// Insight is the part of the Qovery client that tells what a cluster runs, costs and logged: read
// to show people what an action takes down before they confirm it, and why one failed.
type Insight interface {
	ClusterEnvironments(ctx context.Context, clusterID uuid.UUID) ([]qovery.ClusterEnvironment, error)
	ClusterCost(ctx context.Context, orgID, clusterID uuid.UUID) (*qovery.CostRange, error)
	ClusterLogs(ctx context.Context, orgID, clusterID uuid.UUID) ([]qovery.ClusterLog, error)
}

// maxNamedEnvironments is how many environments a confirmation names; the rest are counted.
const maxNamedEnvironments = 10

// DefaultInsightBudget bounds the reads of what a cluster runs and costs, which run beside the
// checks before a confirmation: past it, the confirmation goes out saying what could not be read.
const DefaultInsightBudget = 1500 * time.Millisecond

// Impact is what an operation takes down (a stop) or brings back (a start), as Qovery told it
// when the operation was requested. A read that failed leaves its part empty and says why.
type Impact struct {
	// Environments are the first maxNamedEnvironments environments, by project then name;
	// EnvironmentCount counts them all.
	Environments     []EnvironmentRef `json:",omitempty"`
	EnvironmentCount int              `json:",omitempty"`
	// EnvironmentsUnread says why the environments could not be read, or is "".
	EnvironmentsUnread string `json:",omitempty"`
	// Cost is the cluster's monthly cost, nil when unknown; CostUnread says why it could not be
	// read, or is "" (Qovery may simply not know it yet).
	Cost       *Cost  `json:",omitempty"`
	CostUnread string `json:",omitempty"`
}

// EnvironmentRef names one environment running on a cluster.
type EnvironmentRef struct {
	Project, Name string
	Services      int
}

// Cost is a monthly cost range in a currency (ISO 4217 code).
type Cost struct {
	Min, Max float64
	Currency string
}

// FormatCost renders a monthly cost range as people read it: "$150–300 / month", "€95 / month",
// "1,200–1,800 CHF / month".
func FormatCost(c Cost) string {
	amount := func(v float64) string { return groupThousands(int64(math.Round(v))) }
	value := amount(c.Min)
	if math.Round(c.Min) != math.Round(c.Max) {
		value += "–" + amount(c.Max)
	}
	switch c.Currency {
	case "USD":
		value = "$" + value
	case "EUR":
		value = "€" + value
	case "GBP":
		value = "£" + value
	default:
		value += " " + c.Currency
	}
	return value + " / month"
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ImpactText says what an operation of verb takes down or brings back, for its confirmation: the
// environments on the cluster (the first ones named) and what the cluster costs; what could not be
// read, it says so.
func ImpactText(imp Impact, verb Verb) Text {
	with := "stop with it"
	if verb == VerbStart {
		with = "come back with it"
	}
	var lines []Text
	switch {
	case imp.EnvironmentsUnread != "":
		lines = append(lines, Say(Icon("grey_question"), " Environments unavailable: "+imp.EnvironmentsUnread+"."))
	case imp.EnvironmentCount == 0:
		lines = append(lines, Say(Icon("package"), " No environment runs on this cluster."))
	default:
		noun := "environment runs"
		if imp.EnvironmentCount > 1 {
			noun = "environments run"
		}
		lines = append(lines, Say(Icon("package"), " ", Strong(fmt.Sprintf("%d %s", imp.EnvironmentCount, noun)), " on this cluster and "+with+":"))
		for _, e := range imp.Environments {
			lines = append(lines, Say("• "+e.Project+" / ", Strong(e.Name), fmt.Sprintf(" · %d service%s", e.Services, plural(e.Services))))
		}
		if more := imp.EnvironmentCount - len(imp.Environments); more > 0 {
			lines = append(lines, Say(fmt.Sprintf("…and %d more.", more)))
		}
	}
	switch {
	case imp.Cost != nil:
		lines = append(lines, Say(Icon("moneybag"), " The cluster costs "+FormatCost(*imp.Cost)+"."))
	case imp.CostUnread != "":
		lines = append(lines, Say(Icon("grey_question"), " Cost unavailable: "+imp.CostUnread+"."))
	}
	return Lines(lines...)
}

// impactLine says in one line what runs on a cluster and what it costs.
func impactLine(imp Impact) Text {
	var t Text
	switch {
	case imp.EnvironmentsUnread != "":
		t = Say("Environments unavailable: " + imp.EnvironmentsUnread)
	case imp.EnvironmentCount == 1:
		t = Say("1 environment runs on it")
	default:
		t = Say(fmt.Sprintf("%d environments run on it", imp.EnvironmentCount))
	}
	switch {
	case imp.Cost != nil:
		t = Say(t, " · costs ", Strong(FormatCost(*imp.Cost)))
	case imp.CostUnread != "":
		t = Say(t, " · cost unavailable: "+imp.CostUnread)
	}
	return t
}

// impactOf reads what a cluster runs and costs, both at once and within the insight budget, from
// the short cache when it holds them. It never fails: what it could not read, it says.
func (h *Handler) impactOf(ctx context.Context, clusterID uuid.UUID) Impact {
	if imp, ok := h.impacts.get(clusterID, h.now()); ok {
		return imp
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.InsightBudget)
	defer cancel()
	var imp Impact
	var g errgroup.Group
	g.Go(func() error {
		envs, err := h.q.ClusterEnvironments(ctx, clusterID)
		if err != nil {
			imp.EnvironmentsUnread = unread(ctx, err, h.cfg.InsightBudget)
			return nil
		}
		envs = slices.Clone(envs)
		slices.SortStableFunc(envs, func(a, b qovery.ClusterEnvironment) int {
			return cmp.Or(cmp.Compare(a.ProjectName, b.ProjectName), cmp.Compare(a.EnvironmentName, b.EnvironmentName))
		})
		imp.EnvironmentCount = len(envs)
		for _, e := range envs[:min(len(envs), maxNamedEnvironments)] {
			imp.Environments = append(imp.Environments, EnvironmentRef{Project: e.ProjectName, Name: e.EnvironmentName, Services: len(e.Services)})
		}
		return nil
	})
	g.Go(func() error {
		cost, err := h.q.ClusterCost(ctx, h.cfg.OrganizationID, clusterID)
		switch {
		case qovery.IsNotFound(err):
			// Qovery does not know this cluster's cost (yet): nothing to say.
		case err != nil:
			imp.CostUnread = unread(ctx, err, h.cfg.InsightBudget)
		default:
			imp.Cost = &Cost{Min: cost.Min, Max: cost.Max, Currency: cost.Currency}
		}
		return nil
	})
	_ = g.Wait()
	if imp.EnvironmentsUnread == "" && imp.CostUnread == "" {
		h.impacts.put(clusterID, imp, h.now())
	}
	return imp
}

// unread says in a few words why a read of Qovery failed.
func unread(ctx context.Context, err error, budget time.Duration) string {
	var qe *qovery.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "Qovery did not answer within " + budget.String()
	case errors.As(err, &qe):
		return fmt.Sprintf("Qovery answered %d", qe.StatusCode)
	}
	return "Qovery could not be reached"
}

// maxImpactEntries bounds the clusters the impact cache remembers; past it, it starts over.
const maxImpactEntries = 1024

// impactCache keeps what clusters run and cost for a short while: a burst of requests (a retried
// confirmation, a stop then a start) reads Qovery once.
type impactCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[uuid.UUID]impactEntry
}

type impactEntry struct {
	impact Impact
	at     time.Time
}

func (c *impactCache) get(id uuid.UUID, now time.Time) (Impact, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || now.Sub(e.at) >= c.ttl {
		return Impact{}, false
	}
	return e.impact, true
}

func (c *impactCache) put(id uuid.UUID, imp Impact, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxImpactEntries {
		c.entries = map[uuid.UUID]impactEntry{}
	}
	c.entries[id] = impactEntry{imp, now}
}
