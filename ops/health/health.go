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

// Handler serves /healthz and /readyz. checks are named, and /readyz lists each one's result.
func Handler(checks map[string]Check) http.Handler {
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
				lines = append(lines, fmt.Sprintf("%s: %v", name, err))
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
