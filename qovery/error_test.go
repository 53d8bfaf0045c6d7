package qovery

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCheckResponse(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name        string
		code        int
		body        string
		retryAfter  string
		wantMessage string
		wantRetry   time.Duration
	}{
		{name: "detail", code: 409, body: `{"status":409,"detail":"Cluster is already stopped"}`, wantMessage: "Cluster is already stopped"},
		{name: "message", code: 400, body: `{"message":"bad input"}`, wantMessage: "bad input"},
		{name: "error", code: 400, body: `{"error":"nope"}`, wantMessage: "nope"},
		{name: "detail wins", code: 400, body: `{"error":"e","message":"m","detail":"d"}`, wantMessage: "d"},
		{name: "null detail falls back", code: 400, body: `{"detail":null,"message":"m"}`, wantMessage: "m"},
		{name: "structured detail", code: 422, body: `{"detail":[{"loc":"x"}]}`, wantMessage: `[{"loc":"x"}]`},
		{name: "json without known keys", code: 500, body: `{"status":500}`, wantMessage: `{"status":500}`},
		{name: "plain text", code: 502, body: "  Bad gateway\n", wantMessage: "Bad gateway"},
		{name: "html collapsed", code: 502, body: "<html>\n  <body>\n\tupstream down\n</body></html>", wantMessage: "<html> <body> upstream down </body></html>"},
		{name: "empty", code: 403, body: "", wantMessage: ""},
		{name: "truncated", code: 500, body: long, wantMessage: long[:200] + "…"},
		{name: "truncated at rune boundary", code: 500, body: strings.Repeat("é", 150), wantMessage: strings.Repeat("é", 100) + "…"},
		{name: "token redacted", code: 401, body: `{"detail":"bad token qov_secret_test_token"}`, wantMessage: "bad token [REDACTED]"},
		{name: "retry-after seconds", code: 429, body: `{}`, retryAfter: "7", wantMessage: "{}", wantRetry: 7 * time.Second},
		{name: "retry-after garbage", code: 503, body: ``, retryAfter: "soon", wantRetry: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{
				StatusCode: tc.code,
				Header:     http.Header{},
				Body:       io.NopCloser(strings.NewReader(tc.body)),
			}
			if tc.retryAfter != "" {
				resp.Header.Set("Retry-After", tc.retryAfter)
			}
			err := checkResponse(resp, http.MethodGet, "/organization", testToken)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("checkResponse: got %v, want *Error", err)
			}
			if qe.Message != tc.wantMessage {
				t.Errorf("Message: got %q, want %q", qe.Message, tc.wantMessage)
			}
			if qe.RetryAfter != tc.wantRetry {
				t.Errorf("RetryAfter: got %v, want %v", qe.RetryAfter, tc.wantRetry)
			}
			if qe.StatusCode != tc.code {
				t.Errorf("StatusCode: got %v, want %v", qe.StatusCode, tc.code)
			}
		})
	}
}

func TestCheckResponseSuccess(t *testing.T) {
	for _, code := range []int{200, 201, 202, 204, 299} {
		resp := &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody}
		if err := checkResponse(resp, http.MethodGet, "/x", testToken); err != nil {
			t.Errorf("checkResponse(%d): got %v, want nil", code, err)
		}
	}
}

func TestCheckResponseReadsBoundedBody(t *testing.T) {
	body := &countingReader{r: strings.NewReader(strings.Repeat("a", 1<<20))}
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(body)}
	_ = checkResponse(resp, http.MethodGet, "/x", testToken)
	if body.n > maxErrorBodySize {
		t.Errorf("bytes read: got %v, want at most %v", body.n, maxErrorBodySize)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{StatusCode: 409, Method: "POST", Path: "/organization/o/cluster/c/stop", Message: "busy"}, "qovery: POST /organization/o/cluster/c/stop: 409 Conflict: busy"},
		{&Error{StatusCode: 403, Method: "GET", Path: "/organization"}, "qovery: GET /organization: 403 Forbidden"},
		{&Error{StatusCode: 599, Method: "GET", Path: "/organization", Message: "odd"}, "qovery: GET /organization: 599: odd"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error(): got %v, want %v", got, tc.want)
		}
	}
}

func TestErrorPredicates(t *testing.T) {
	tests := []struct {
		code                                int
		temporary, unauth, forbid, nf, conf bool
	}{
		{code: 400},
		{code: 401, unauth: true},
		{code: 403, forbid: true},
		{code: 404, nf: true},
		{code: 409, conf: true},
		{code: 429, temporary: true},
		{code: 500, temporary: true},
		{code: 503, temporary: true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &Error{StatusCode: tc.code})
			var qe *Error
			errors.As(err, &qe)
			got := []bool{qe.Temporary(), IsUnauthorized(err), IsForbidden(err), IsNotFound(err), IsConflict(err)}
			want := []bool{tc.temporary, tc.unauth, tc.forbid, tc.nf, tc.conf}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("[Temporary Unauthorized Forbidden NotFound Conflict]: got %v, want %v", got, want)
			}
		})
	}
	if IsNotFound(errors.New("404")) {
		t.Error("IsNotFound(plain error) = true, want false")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"5", 5 * time.Second},
		{" 5 ", 5 * time.Second},
		{"99999999999", 24 * time.Hour},
		{"Mon, 01 Jan 2024 12:00:30 GMT", 30 * time.Second},
		{"Mon, 01 Jan 2024 11:00:00 GMT", 0},
		{"tomorrow", 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q): got %v, want %v", tc.in, got, tc.want)
		}
	}
}
