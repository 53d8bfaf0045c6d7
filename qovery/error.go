package qovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// maxErrorBodySize bounds how much of an error body is read, so a proxy's
	// HTML page or a runaway response cannot exhaust memory.
	maxErrorBodySize = 4 << 10
	// maxMessageLen bounds a raw (non-JSON) body quoted in an error message,
	// which ends up in logs and chat.
	maxMessageLen = 200
	// maxRetryAfterSeconds keeps a parsed Retry-After within a day.
	maxRetryAfterSeconds = 24 * 60 * 60
)

// Error is returned for any response outside 2xx. Callers test for it with
// errors.As, or with [IsUnauthorized], [IsForbidden], [IsNotFound] and
// [IsConflict].
type Error struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Method and Path identify the request, e.g. "POST" and
	// "/organization/{id}/cluster/{id}/stop". Path never contains the host,
	// the query or any credential.
	Method, Path string
	// Message is the server's explanation: the "detail" field Qovery puts in
	// its JSON error bodies, or the trimmed raw body. It may be empty.
	Message string
	// RetryAfter is the delay the server asked for with a Retry-After header,
	// or zero.
	RetryAfter time.Duration
}

// Error formats e as "qovery: POST /path: 409 Conflict: message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "qovery: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: a 5xx or a
// 429. Other 4xx mean the request itself is wrong and retrying cannot help.
func (e *Error) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// IsUnauthorized reports whether err is an [*Error] with status 401: the
// token is missing, wrong or revoked.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is an [*Error] with status 403. Qovery also
// answers 403 for resources the token cannot see, so it may mean "not found".
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsNotFound reports whether err is an [*Error] with status 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is an [*Error] with status 409, which stop
// returns when the cluster is already stopped or an operation is running.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

func hasStatus(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == code
}

// checkResponse returns nil for a 2xx response and an *Error otherwise. It
// reads at most maxErrorBodySize bytes of the body and removes the token from
// the message in case the server echoes it.
func checkResponse(resp *http.Response, method, path, token string) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	e := &Error{
		StatusCode: resp.StatusCode,
		Method:     method,
		Path:       path,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodySize))
	msg := errorMessage(body)
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[REDACTED]")
	}
	e.Message = msg
	return e
}

// errorMessage extracts a human message from an error body. Qovery sends
// {"status":N,"detail":"…"}; "message" and "error" cover proxies and older
// endpoints. Anything else is quoted raw, on one line and truncated.
func errorMessage(body []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		for _, key := range []string{"detail", "message", "error"} {
			raw, ok := fields[key]
			if !ok || string(raw) == "null" {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				if s = oneLine(s); s != "" {
					return truncate(s)
				}
				continue
			}
			// A structured detail (e.g. a list of validation errors) is
			// still more useful than nothing.
			return truncate(oneLine(string(raw)))
		}
	}
	return truncate(oneLine(string(body)))
}

// oneLine collapses whitespace so multi-line bodies (HTML error pages) stay
// readable in a log line or a chat message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	cut := maxMessageLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// parseRetryAfter decodes a Retry-After header, given either in seconds or as
// an HTTP date. Invalid or past values yield zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap absurd values so the multiplication cannot overflow; the
		// retry loop caps the wait far lower anyway.
		secs = min(secs, maxRetryAfterSeconds)
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
