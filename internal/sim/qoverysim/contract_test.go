package qoverysim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// specServer is the server the spec declares. Recorded requests are
// rewritten to it before routing, since the fake listens elsewhere.
const specServer = "https://api.qovery.com"

// spec is the Qovery OpenAPI document and a router over it.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// specPath locates the spec: $QOVERY_OPENAPI_SPEC, or
// ../shared/qovery-openapi/openapi.yaml from the module root.
func specPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("QOVERY_OPENAPI_SPEC"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "qovery-openapi", "openapi.yaml")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// loadSpec loads and checks the spec, or skips the test if it is absent.
func loadSpec(t *testing.T) *spec {
	t.Helper()
	path := specPath(t)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("Qovery's OpenAPI spec is not at %s: set QOVERY_OPENAPI_SPEC to a copy of it to run the contract tests (README, Tests)", path)
	}
	start := time.Now()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	loaded := time.Since(start)
	// The router assumes a valid document; an invalid one would make
	// every check below meaningless.
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("validate %s: %v", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	t.Logf("spec %s: loaded in %v, validated and routed in %v", path, loaded.Round(time.Millisecond), (time.Since(start) - loaded).Round(time.Millisecond))
	return &spec{doc: doc, router: router}
}

func (sp *spec) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		// Error statuses are part of the contract too.
		IncludeResponseStatus: true,
		AuthenticationFunc:    tokenAuth,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
		},
	}
}

// tokenAuth accepts the spec's ApiKeyAuth scheme only when it is used the
// way Qovery's API tokens must be: "Authorization: Token <token>". The
// alternative bearerAuth scheme is for human JWTs, which the bot never
// sends, so it is refused.
func tokenAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "ApiKeyAuth" {
		return fmt.Errorf("scheme %s is not used by the bot", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get(in.SecurityScheme.Name)
	if !strings.HasPrefix(h, "Token ") || len(h) == len("Token ") {
		return errors.New(`Authorization is not "Token <token>"`)
	}
	return nil
}

// validate checks one recorded exchange against the spec.
func (sp *spec) validate(ctx context.Context, ex exchange) error {
	req := ex.req.Clone(ctx)
	base, _ := req.URL.Parse(specServer)
	req.URL.Scheme, req.URL.Host = base.Scheme, base.Host
	req.Host = base.Host
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("route %s %s: %w", req.Method, req.URL.Path, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: sp.options()}
	if err := openapi3filter.ValidateRequest(ctx, reqIn); err != nil {
		return fmt.Errorf("request %s %s (%s): %w", req.Method, req.URL.Path, route.Operation.OperationID, err)
	}
	respIn := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 ex.status,
		Header:                 ex.header,
		Options:                sp.options(),
	}
	respIn.SetBodyBytes(ex.body)
	if err := openapi3filter.ValidateResponse(ctx, respIn); err != nil {
		return fmt.Errorf("response %d to %s %s (%s): %w\nbody: %s", ex.status, req.Method, req.URL.Path, route.Operation.OperationID, err, ex.body)
	}
	return nil
}

// exchange is one request the client sent and the answer it got.
type exchange struct {
	req    *http.Request
	status int
	header http.Header
	body   []byte
}

// recorder is an http.RoundTripper that keeps every exchange, so the
// client's real requests and the fake's real answers are what gets checked.
type recorder struct {
	mu  sync.Mutex
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.log = append(r.log, exchange{req: req.Clone(context.Background()), status: resp.StatusCode, header: resp.Header.Clone(), body: body})
	r.mu.Unlock()
	return resp, nil
}

// take returns the exchanges recorded since the last call.
func (r *recorder) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.log
	r.log = nil
	return log
}

// TestContract checks the client's requests and the fake's answers against
// the Qovery OpenAPI spec, loaded once for both subtests.
func TestContract(t *testing.T) {
	start := time.Now()
	sp := loadSpec(t)
	t.Run("client and fake conform", func(t *testing.T) { testConformance(t, sp) })
	t.Run("validator rejects violations", func(t *testing.T) { testViolations(t, sp) })
	t.Logf("contract test took %v", time.Since(start).Round(time.Millisecond))
}

// testConformance drives every route through a recording client, in success
// and error cases, and validates each exchange.
func testConformance(t *testing.T, sp *spec) {
	s := qoverysim.NewServer(t)
	demo := s.SeedDemo()
	org := demo.OrganizationID
	fresh := s.AddCluster(org, qoverysim.ClusterSpec{Name: "fresh-azure", CloudProvider: "AZURE", Region: "westeurope", Status: qovery.StateReady})
	emptyOrg := s.AddOrganization("Empty Org")
	unknown := uuid.MustParse("00000000-0000-4000-8000-000000000000")

	rec := &recorder{}
	hc := &http.Client{Transport: rec, Timeout: 10 * time.Second}
	c := s.Client(qovery.WithHTTPClient(hc), qovery.WithRetry(qovery.RetryPolicy{MaxAttempts: 1}))
	bad, err := qovery.NewClient("qov_wrong", qovery.WithBaseURL(s.URL()), qovery.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}

	type call = func(ctx context.Context) error
	status := func(cl *qovery.Client, o, id uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.ClusterStatus(ctx, o, id); return err }
	}
	stop := func(cl *qovery.Client, o, id uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.StopCluster(ctx, o, id); return err }
	}
	deploy := func(cl *qovery.Client, o, id uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.DeployCluster(ctx, o, id); return err }
	}
	clusters := func(cl *qovery.Client, o uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.Clusters(ctx, o); return err }
	}
	statuses := func(cl *qovery.Client, o uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.ClusterStatuses(ctx, o); return err }
	}
	environments := func(cl *qovery.Client, id uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.ClusterEnvironments(ctx, id); return err }
	}
	cost := func(cl *qovery.Client, o, id uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.ClusterCost(ctx, o, id); return err }
	}
	logs := func(cl *qovery.Client, o, id uuid.UUID) call {
		return func(ctx context.Context) error { _, err := cl.ClusterLogs(ctx, o, id); return err }
	}
	ttl := 3
	lock := func(cl *qovery.Client, id uuid.UUID, days *int) call {
		return func(ctx context.Context) error {
			_, err := cl.LockCluster(ctx, id, "Freeze before the release", days)
			return err
		}
	}
	unlock := func(cl *qovery.Client, id uuid.UUID) call {
		return func(ctx context.Context) error { return cl.UnlockCluster(ctx, id) }
	}

	// In order: later steps depend on the state left by earlier ones.
	steps := []struct {
		name string
		call call
		want int
	}{
		{"list organizations", func(ctx context.Context) error { _, err := c.Organizations(ctx); return err }, 200},
		{"list organizations, bad token", func(ctx context.Context) error { _, err := bad.Organizations(ctx); return err }, 401},
		{"list clusters", clusters(c, org), 200},
		{"list clusters, empty organization", clusters(c, emptyOrg), 200},
		{"list clusters, unknown organization", clusters(c, unknown), 403},
		{"list clusters, bad token", clusters(bad, org), 401},
		{"all statuses", statuses(c, org), 200},
		{"all statuses, empty organization", statuses(c, emptyOrg), 200},
		{"all statuses, unknown organization", statuses(c, unknown), 403},
		{"status, locked cluster", status(c, org, demo.Clusters["data-platform"]), 200},
		{"status, last execution id", status(c, org, demo.Clusters["preview-scw"]), 200},
		{"status, never deployed", status(c, org, fresh), 200},
		{"status, unknown cluster", status(c, org, unknown), 404},
		{"status, unknown organization", status(c, unknown, demo.Clusters["staging"]), 403},
		{"status, bad token", status(bad, org, demo.Clusters["staging"]), 401},
		{"stop", stop(c, org, demo.Clusters["staging"]), 202},
		{"status, stop queued", status(c, org, demo.Clusters["staging"]), 200},
		{"stop, in progress", stop(c, org, demo.Clusters["staging"]), 409},
		{"stop, already stopped", stop(c, org, demo.Clusters["sandbox-gcp"]), 409},
		{"stop, locked", stop(c, org, demo.Clusters["data-platform"]), 409},
		{"stop, unknown cluster", stop(c, org, unknown), 404},
		{"stop, unknown organization", stop(c, unknown, demo.Clusters["staging"]), 403},
		{"stop, bad token", stop(bad, org, demo.Clusters["staging-us"]), 401},
		{"deploy", deploy(c, org, demo.Clusters["sandbox-gcp"]), 201},
		{"status, deployment queued", status(c, org, demo.Clusters["sandbox-gcp"]), 200},
		{"deploy, never deployed", deploy(c, org, fresh), 201},
		{"deploy, already deployed", deploy(c, org, demo.Clusters["production-eu"]), 400},
		{"deploy, unknown cluster", deploy(c, org, unknown), 404},
		{"deploy, unknown organization", deploy(c, unknown, fresh), 403},
		{"deploy, bad token", deploy(bad, org, fresh), 401},
		{"environments", environments(c, demo.Clusters["production-eu"]), 200},
		{"environments, none", environments(c, demo.Clusters["staging-us"]), 200},
		{"environments, unknown cluster", environments(c, unknown), 404},
		{"environments, bad token", environments(bad, demo.Clusters["staging"]), 401},
		{"cost, range", cost(c, org, demo.Clusters["staging"]), 200},
		{"cost, total", cost(c, org, demo.Clusters["staging-us"]), 200},
		{"cost, unknown", cost(c, org, demo.Clusters["sandbox-gcp"]), 404},
		{"cost, unknown organization", cost(c, unknown, demo.Clusters["staging"]), 403},
		{"logs, with an error", logs(c, org, demo.Clusters["preview-scw"]), 200},
		{"logs, none", logs(c, org, demo.Clusters["staging-us"]), 200},
		{"logs, unknown cluster", logs(c, org, unknown), 404},
		{"lock", lock(c, demo.Clusters["staging-us"], &ttl), 200},
		{"status, locked in Slack", status(c, org, demo.Clusters["staging-us"]), 200},
		{"lock, no expiry", lock(c, fresh, nil), 200},
		{"lock, unknown cluster", lock(c, unknown, nil), 404},
		{"unlock", unlock(c, demo.Clusters["staging-us"]), 204},
		{"unlock, unknown cluster", unlock(c, unknown), 404},
		{"unlock, bad token", unlock(bad, fresh), 401},
		{"all statuses, mixed states", statuses(c, org), 200},
		{"list clusters, mixed states", clusters(c, org), 200},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			err := step.call(t.Context())
			var qe *qovery.Error
			switch {
			case step.want < 300 && err != nil:
				t.Fatalf("call: got %v, want success", err)
			case step.want >= 300 && (!errors.As(err, &qe) || qe.StatusCode != step.want):
				t.Fatalf("call: got %v, want a %d *qovery.Error", err, step.want)
			}
			log := rec.take()
			if len(log) != 1 {
				t.Fatalf("exchanges: got %d, want 1", len(log))
			}
			if err := sp.validate(t.Context(), log[0]); err != nil {
				t.Error(err)
			}
		})
	}

	// Every route of the fake was exercised.
	seen := make(map[qoverysim.Route]bool)
	for _, r := range s.Requests() {
		seen[r.Route] = true
	}
	for _, r := range qoverysim.Routes() {
		if !seen[r] {
			t.Errorf("route %s not exercised", r)
		}
	}
}

// testViolations makes sure the validator is not vacuous: it must reject
// answers and requests that break the spec.
func testViolations(t *testing.T, sp *spec) {
	id := "4b8e3a52-1d6f-4c1e-8f3a-7d2b9c0e5f11"
	statusPath := "/organization/" + id + "/cluster/" + id + "/status"
	good := `{"cluster_id":"` + id + `","status":"DEPLOYED","is_deployed":true,"reason":"UNSPECIFIED"}`
	tests := []struct {
		name   string
		auth   string
		path   string
		status int
		body   string
		ok     bool
	}{
		{name: "valid", auth: "Token qov_x", path: statusPath, status: 200, body: good, ok: true},
		{name: "bearer token", auth: "Bearer qov_x", path: statusPath, status: 200, body: good},
		{name: "no token", path: statusPath, status: 200, body: good},
		{name: "unknown state", auth: "Token qov_x", path: statusPath, status: 200, body: strings.Replace(good, "DEPLOYED", "SOMETHING_NEW", 1)},
		{name: "missing reason", auth: "Token qov_x", path: statusPath, status: 200, body: strings.Replace(good, `,"reason":"UNSPECIFIED"`, "", 1)},
		{name: "bad uuid", auth: "Token qov_x", path: statusPath, status: 200, body: strings.Replace(good, id, "not-a-uuid", 1)},
		{name: "empty execution id is fine", auth: "Token qov_x", path: statusPath, status: 200, body: strings.Replace(good, `"reason"`, `"last_execution_id":"","reason"`, 1), ok: true},
		{name: "undocumented status", auth: "Token qov_x", path: statusPath, status: 418, body: `{}`},
		{name: "409 on status", auth: "Token qov_x", path: statusPath, status: 409, body: `{}`},
		{name: "malformed path uuid", auth: "Token qov_x", path: "/organization/x/cluster/" + id + "/status", status: 200, body: good},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, specServer+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			ex := exchange{req: req, status: tc.status, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(tc.body)}
			err = sp.validate(t.Context(), ex)
			if got := err == nil; got != tc.ok {
				t.Errorf("valid: got %v (%v), want %v", got, err, tc.ok)
			}
		})
	}
}

// TestStatesMatchSpec keeps qovery.States in step with the spec's ClusterStateEnum: same values, same
// order. A new spec value fails here, as a reminder to give it a constant (decoding it already works).
func TestStatesMatchSpec(t *testing.T) {
	s := loadSpec(t)
	ref, ok := s.doc.Components.Schemas["ClusterStateEnum"]
	if !ok || ref.Value == nil {
		t.Fatal("the spec has no ClusterStateEnum schema")
	}
	var want []string
	for _, v := range ref.Value.Enum {
		want = append(want, fmt.Sprint(v))
	}
	var got []string
	for _, st := range qovery.States() {
		got = append(got, string(st))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("qovery.States() = %v\nspec ClusterStateEnum = %v", got, want)
	}
	if len(want) != 24 {
		t.Errorf("the spec has %d cluster states; this bot was written for 24", len(want))
	}
}
