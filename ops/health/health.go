// Package health serves the bot's liveness and readiness over HTTP, for Kubernetes probes and load
// balancers: /healthz answers while the process serves HTTP at all, /readyz only while every
// readiness check passes.
package health

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Check reports a problem with one dependency, or nil.
type Check func(ctx context.Context) error

// Option configures a [Handler].
type Option func(*options)

type options struct {
	failed func(name string, err error)
}

// WithFailed makes /readyz pass each failing check's name and error to failed, for the log.
func WithFailed(failed func(name string, err error)) Option {
	return func(o *options) { o.failed = failed }
}

// Handler serves /healthz and /readyz. checks are named, and /readyz lists each one's result as ok
// or failed, never the error: the endpoint is often reachable by more than the operators (a load
// balancer, a shared cluster), and an error's text can name a database user, host or database.
// [WithFailed] passes the errors on, for the log.
func Handler(checks map[string]Check, opts ...Option) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	names := make([]string, 0, len(checks))
	for name := range checks {
		names = append(names, name)
	}
	sort.Strings(names)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var lines []string
		ready := true
		for _, name := range names {
			if err := checks[name](ctx); err != nil {
				ready = false
				lines = append(lines, name+": failed")
				if o.failed != nil {
					o.failed(name, err)
				}
			} else {
				lines = append(lines, name+": ok")
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	})
	return mux
}
