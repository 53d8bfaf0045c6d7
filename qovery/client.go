// Package qovery is a small typed client for the parts of the Qovery REST API
// that list organizations and clusters, read cluster status, and stop or
// deploy (start) a cluster.
//
// The client authenticates with an organization API token sent as
// "Authorization: Token <token>", returns [*Error] for any non-2xx answer,
// retries idempotent GETs on transient failures, and never retries a POST:
// a stop or deploy whose answer was lost must be followed by a status read,
// not by a second request. It never logs; errors carry the details.
package qovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// DefaultBaseURL is the Qovery API root. Paths hang directly off the
	// host; there is no version prefix.
	DefaultBaseURL = "https://api.qovery.com"

	defaultUserAgent = "qovery-slack-bot"
	// defaultTimeout bounds a whole request, body included, so a stalled
	// server cannot hang a caller that forgot a context deadline.
	defaultTimeout = 30 * time.Second
	// maxDrainSize is how much of an unread body is discarded to let the
	// connection be reused; larger leftovers just close the connection.
	maxDrainSize = 64 << 10
)

// Client talks to the Qovery API. It is safe for concurrent use. Create one
// with [NewClient].
type Client struct {
	baseURL    *url.URL
	token      string
	httpClient *http.Client
	userAgent  string
	retry      RetryPolicy
	// unauthorized is whether the latest answer was 401.
	unauthorized atomic.Bool
}

// Option configures a [Client] in [NewClient]. An Option returns an error for
// invalid input rather than letting a bad value surface on the first request.
type Option func(*Client) error

// RetryPolicy bounds the retries of GET requests on transient failures: 5xx,
// 429, timeouts and connection errors. POST requests are never retried.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included;
	// 1 disables retries.
	MaxAttempts int
	// MinBackoff is the wait before the first retry; it doubles on each
	// further retry, with jitter, up to MaxBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps any single wait, including one asked for by a
	// Retry-After header.
	MaxBackoff time.Duration
}

// DefaultRetryPolicy returns the policy a [Client] uses unless [WithRetry] is
// given: 3 attempts, waiting from 500ms up to 10s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, MinBackoff: 500 * time.Millisecond, MaxBackoff: 10 * time.Second}
}

// NewClient returns a client that authenticates with token, a Qovery
// organization API token (usually "qov_…"). Surrounding whitespace is
// trimmed, as the Qovery CLI does, because tokens often come from files or
// environment variables with a trailing newline.
func NewClient(token string, opts ...Option) (*Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("qovery: new client: token must not be empty")
	}
	base, err := parseBaseURL(DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("qovery: new client: %w", err)
	}
	c := &Client{
		baseURL:    base,
		token:      token,
		httpClient: &http.Client{Timeout: defaultTimeout},
		userAgent:  defaultUserAgent,
		retry:      DefaultRetryPolicy(),
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("qovery: new client: %w", err)
		}
	}
	return c, nil
}

// WithBaseURL points the client at another API root, such as a test server.
// rawURL must be an absolute http or https URL without query, fragment or
// credentials; a path prefix is kept.
func WithBaseURL(rawURL string) Option {
	return func(c *Client) error {
		u, err := parseBaseURL(rawURL)
		if err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

// WithHTTPClient makes the client send requests through hc, e.g. to share a
// transport or record traffic. hc's Timeout is used as is, so set one.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("http client must not be nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header, which lets Qovery tell this
// bot's traffic apart.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(ua) == "" {
			return errors.New("user agent must not be empty")
		}
		c.userAgent = ua
		return nil
	}
}

// WithRetry replaces [DefaultRetryPolicy].
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		switch {
		case p.MaxAttempts < 1:
			return fmt.Errorf("retry policy: MaxAttempts %d must be at least 1", p.MaxAttempts)
		case p.MinBackoff < 0:
			return fmt.Errorf("retry policy: MinBackoff %v must not be negative", p.MinBackoff)
		case p.MaxBackoff < p.MinBackoff:
			return fmt.Errorf("retry policy: MaxBackoff %v must not be less than MinBackoff %v", p.MaxBackoff, p.MinBackoff)
		}
		c.retry = p
		return nil
	}
}

// Unauthorized reports whether Qovery's latest answer was 401: the token is invalid or revoked, and
// nothing will work until it is replaced. Readiness probes use it.
func (c *Client) Unauthorized() bool { return c.unauthorized.Load() }

// BaseURL returns the API root the client sends requests to.
func (c *Client) BaseURL() string { return c.baseURL.String() }

func parseBaseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("base URL %q: scheme must be http or https", rawURL)
	case u.Host == "":
		return nil, fmt.Errorf("base URL %q: host is missing", rawURL)
	case u.User != nil:
		// Credentials in the URL would leak into error messages.
		return nil, fmt.Errorf("base URL: must not contain credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("base URL %q: must not have a query or fragment", rawURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// do sends one API request and decodes a JSON answer into v. body, if not
// nil, is sent as JSON. An empty 2xx body leaves v untouched. GETs are
// retried according to the client's RetryPolicy; other methods are sent once.
func (c *Client) do(ctx context.Context, method, path string, body, v any) error {
	_, err := c.doStatus(ctx, method, path, body, v)
	return err
}

// list GETs a list endpoint, whose answer is {"results": [...]}, and returns the results; doing
// names the call in the error.
func list[T any](ctx context.Context, c *Client, path, doing string) ([]T, error) {
	var l struct {
		Results []T `json:"results"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return l.Results, nil
}

// doStatus is do, also returning the HTTP status of the successful answer.
func (c *Client) doStatus(ctx context.Context, method, path string, body, v any) (int, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, fmt.Errorf("qovery: %s %s: encode request: %w", method, path, err)
		}
	}
	attempts := 1
	// Only GETs are idempotent here: a retried stop whose first answer was
	// lost could start a second operation, so the caller re-reads the
	// status instead.
	if method == http.MethodGet {
		attempts = max(c.retry.MaxAttempts, 1)
	}
	for attempt := 1; ; attempt++ {
		code, err := c.send(ctx, method, path, payload, v)
		if err == nil {
			return code, nil
		}
		if attempt >= attempts || !retryable(err) {
			return 0, err
		}
		// A Client.Timeout also reads as context.DeadlineExceeded and is
		// retried; only the caller's own context ends the loop.
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return 0, err
		}
		var qe *Error
		var retryAfter time.Duration
		if errors.As(err, &qe) {
			retryAfter = qe.RetryAfter
		}
		timer := time.NewTimer(c.retry.backoff(attempt, retryAfter))
		select {
		case <-ctx.Done():
			timer.Stop()
			// Keep the last failure in the text: "context canceled" alone
			// would hide why we were waiting.
			return 0, fmt.Errorf("%v; not retried: %w", err, ctx.Err())
		case <-timer.C:
		}
	}
}

// send makes a single attempt of do.
func (c *Client) send(ctx context.Context, method, path string, payload []byte, v any) (int, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), body)
	if err != nil {
		return 0, fmt.Errorf("qovery: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Token "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.httpClient.Do(req)
	if err == nil {
		c.unauthorized.Store(resp.StatusCode == http.StatusUnauthorized)
	}
	if err != nil {
		// The context's error is more useful than the transport's.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, fmt.Errorf("qovery: %s %s: %w", method, path, ctxErr)
		}
		// *url.Error repeats the method and full URL, which our prefix
		// already names.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("qovery: %s %s: %w", method, path, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainSize))
		_ = resp.Body.Close()
	}()

	if err := checkResponse(resp, method, path, c.token); err != nil {
		return 0, err
	}
	if v == nil {
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			// An empty 2xx body: real servers answer stop with 200 and
			// nothing, though the spec documents a body.
			return resp.StatusCode, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, fmt.Errorf("qovery: %s %s: %w", method, path, ctxErr)
		}
		return 0, fmt.Errorf("qovery: %s %s: decode %d response: %w", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

func (c *Client) url(path string) string {
	u := *c.baseURL
	u.Path += path
	return u.String()
}

// retryable reports whether a failed GET may succeed if sent again: the
// server said so (5xx, 429), or the connection failed or timed out before a
// full answer arrived.
func retryable(err error) bool {
	var qe *Error
	if errors.As(err, &qe) {
		return qe.Temporary()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// Dial, DNS, read and write failures all surface as *net.OpError.
	var oe *net.OpError
	return errors.As(err, &oe)
}

// backoff returns the wait before retry number attempt (1 for the first
// retry). A server's Retry-After wins, capped by MaxBackoff; otherwise the
// wait doubles from MinBackoff, with jitter so that several pollers hit by
// the same outage do not retry in lockstep.
func (p RetryPolicy) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.MaxBackoff)
	}
	d := Backoff(attempt, p.MinBackoff, p.MaxBackoff)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return d
}

// Backoff returns the exponential wait before retry number attempt (1 for the first retry):
// first, doubled on each further retry, at most limit. It has no jitter, so a schedule stored
// as a time stays the same when read back; callers that want jitter add it, as the client's
// GET retries do. It cannot overflow, however large attempt is.
func Backoff(attempt int, first, limit time.Duration) time.Duration {
	d := first
	for i := 1; i < attempt && d > 0 && d < limit; i++ {
		if d > limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}
