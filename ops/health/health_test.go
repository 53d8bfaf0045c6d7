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
	h := Handler(map[string]Check{
		"slack": func(context.Context) error {
			return map[bool]error{true: nil, false: errors.New("not connected")}[slackUp]
		},
		"qovery": func(context.Context) error { return nil },
	})
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q; want 200 ok", code, body)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "slack: not connected") || !strings.Contains(body, "qovery: ok") {
		t.Errorf("/readyz with slack down = %d %q; want 503 naming slack", code, body)
	}
	slackUp = true
	if code, body := get("/readyz"); code != 200 || body != "qovery: ok\nslack: ok\n" {
		t.Errorf("/readyz all up = %d %q; want 200", code, body)
	}
	if code, _ := get("/metrics"); code != 404 {
		t.Errorf("unknown path = %d; want 404", code)
	}
}
