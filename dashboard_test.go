package main

import (
	"bufio"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/ops/metrics"
)

// The Grafana dashboard (deploy/grafana) against the metrics the bot really exports: a renamed or
// removed metric fails here rather than leaving an empty panel.

const dashboardFile = "deploy/grafana/qovery-slack-bot.json"

// dashboardPrefixes are the metric families the dashboard may query: the bot's own and those of the
// Go runtime and process collectors it registers.
var dashboardPrefixes = []string{"qovery_bot_", "go_", "process_"}

// exportedSeries returns the names of the series the bot's /metrics serves (for a histogram, its
// _bucket, _sum and _count), and the names of the families they belong to. The registry is built as
// newApp builds it, leases included, and every metric is touched once, since a vector exports
// nothing before its first label values.
func exportedSeries(t *testing.T) (series, families map[string]bool) {
	t.Helper()
	m := metrics.New()
	m.WatchLeases(func() (held, tookOver map[string]int64) { return nil, nil })
	m.OperationFinished("stop", "succeeded", time.Minute)
	m.Confirmation("confirmed")
	m.WatchStarted()
	m.Acked(time.Millisecond)
	ok := roundTripperFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	})
	for _, rt := range []http.RoundTripper{m.InstrumentQovery(ok), m.InstrumentSlack(ok)} {
		req, err := http.NewRequest(http.MethodGet, "http://example.invalid/api/chat.postMessage", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d; want 200", rec.Code)
	}
	series, families = map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			families[strings.Fields(rest)[0]] = true
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		series[name] = true
	}
	if len(series) == 0 {
		t.Fatalf("GET /metrics served no series:\n%s", rec.Body)
	}
	return series, families
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// dashboardQueries returns the PromQL of the dashboard's panels (targets[].expr, rows' panels
// included) and of its template variables (their query and definition).
func dashboardQueries(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s does not parse: %v", file, err)
	}
	var queries []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				walk(child, k)
			}
		case []any:
			for _, child := range v {
				walk(child, key)
			}
		case string:
			if key == "expr" || key == "query" || key == "definition" {
				queries = append(queries, v)
			}
		}
	}
	walk(dash, "")
	return queries
}

var (
	// promQLString is a quoted string in PromQL (a label value, a regular expression): never a
	// metric name.
	promQLString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promQLName   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// queriedMetrics returns the metric names expr uses: its identifiers with one of
// dashboardPrefixes, string literals left out.
func queriedMetrics(expr string) []string {
	var names []string
	for _, id := range promQLName.FindAllString(promQLString.ReplaceAllString(expr, `""`), -1) {
		for _, p := range dashboardPrefixes {
			if strings.HasPrefix(id, p) {
				names = append(names, id)
			}
		}
	}
	return names
}

// unknownMetrics returns the metric names that queries use and series lacks, sorted, once each. A
// histogram's family name alone is one of them: only its _bucket, _sum and _count are series.
func unknownMetrics(queries []string, series map[string]bool) []string {
	var unknown []string
	for _, q := range queries {
		for _, name := range queriedMetrics(q) {
			if !series[name] && !slices.Contains(unknown, name) {
				unknown = append(unknown, name)
			}
		}
	}
	slices.Sort(unknown)
	return unknown
}

func TestDashboardMetricsExist(t *testing.T) {
	series, families := exportedSeries(t)
	queries := dashboardQueries(t, dashboardFile)
	var used []string
	for _, q := range queries {
		used = append(used, queriedMetrics(q)...)
	}
	if len(used) == 0 {
		t.Fatalf("%s: found no metric in %d queries; is the file a Grafana dashboard?", dashboardFile, len(queries))
	}
	if unknown := unknownMetrics(queries, series); len(unknown) > 0 {
		t.Errorf("%s queries %v, which /metrics does not serve; it serves %v", dashboardFile, unknown, slices.Sorted(maps.Keys(series)))
	}

	// Every family of the bot's own is on the dashboard, so that a new metric is not forgotten.
	for f := range families {
		if !strings.HasPrefix(f, "qovery_bot_") {
			continue
		}
		shown := slices.ContainsFunc(used, func(name string) bool {
			return name == f || name == f+"_bucket" || name == f+"_sum" || name == f+"_count"
		})
		if !shown {
			t.Errorf("%s shows no panel of %s", dashboardFile, f)
		}
	}
}

// The check above catches what it should: a name the bot never exported, and a histogram queried
// by its family name rather than a series of it.
func TestDashboardUnknownMetrics(t *testing.T) {
	series, _ := exportedSeries(t)
	queries := []string{
		`sum by (le) (rate(qovery_bot_stop_duration_seconds_bucket{job=~"$job"}[5m]))`,
		`rate(qovery_bot_no_such_thing_total[5m]) + on() qovery_bot_ack_latency_seconds`,
		`label_values(qovery_bot_active_watches{job="qovery_bot_in_a_string"}, instance)`,
		`go_goroutines + process_resident_memory_bytes`,
	}
	want := []string{"qovery_bot_ack_latency_seconds", "qovery_bot_no_such_thing_total"}
	if got := unknownMetrics(queries, series); !slices.Equal(got, want) {
		t.Errorf("unknownMetrics(%q) = %v; want %v", queries, got, want)
	}
}

type dashboardTarget struct {
	Expr string `json:"expr"`
}

// The dashboard imports into any Grafana: its panels read the data source the importer picks.
func TestDashboardDataSource(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []dashboardTarget `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Errorf("dashboard uid %q, title %q; want both", dash.UID, dash.Title)
	}
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: data source %q; want the ${datasource} variable", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 || slices.ContainsFunc(p.Targets, func(q dashboardTarget) bool { return q.Expr == "" }) {
			t.Errorf("panel %q: targets %+v; want each with a PromQL expression", p.Title, p.Targets)
		}
	}
}
