package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	var slackUp bool
	var logged []string
	h := Handler(map[string]Check{
		"slack": func(context.Context) error {
			return map[bool]error{true: nil, false: errors.New("not connected")}[slackUp]
		},
		"qovery": func(context.Context) error { return nil },
		"database": func(context.Context) error {
			return errors.New(`failed to connect to user=qbot database=bot host=db.internal: password authentication failed`)
		},
	}, WithFailed(func(name string, err error) { logged = append(logged, name+": "+err.Error()) }))
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q; want 200 ok", code, body)
	}
	if code, body := get("/readyz"); code != 503 || body != "database: failed\nqovery: ok\nslack: failed\n" {
		t.Errorf("/readyz with slack and the database down = %d %q; want 503 naming them, without their errors", code, body)
	}
	if len(logged) != 2 || !strings.Contains(logged[0], "password authentication failed") || !strings.Contains(logged[1], "slack: not connected") {
		t.Errorf("failures reported for the log = %q; want the database's and slack's errors", logged)
	}
	slackUp = true
	if code, body := get("/readyz"); code != 503 || body != "database: failed\nqovery: ok\nslack: ok\n" {
		t.Errorf("/readyz with the database down = %d %q; want 503", code, body)
	}
	if code, _ := get("/metrics"); code != 404 {
		t.Errorf("unknown path = %d; want 404", code)
	}
}
