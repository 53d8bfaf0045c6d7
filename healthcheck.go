package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheckTimeout bounds `qovery-slack-bot healthcheck`; Docker's HEALTHCHECK has its own, longer
// one.
const healthcheckTimeout = 5 * time.Second

// runHealthcheck asks a bot running on this machine (or in this container) whether it serves: GET
// /healthz on QOVERY_BOT_HTTP_ADDR, with an empty or wildcard host replaced by loopback. It exists for
// Docker's HEALTHCHECK: the image has no shell and no curl. It returns an error unless the answer is
// 200.
func runHealthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	addr := strings.TrimSpace(getenv("QOVERY_BOT_HTTP_ADDR"))
	switch addr {
	case "":
		addr = defaultHTTPAddr
	case "off":
		return errors.New("healthcheck: the health endpoints are off (QOVERY_BOT_HTTP_ADDR=off)")
	}
	u, err := healthzURL(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: QOVERY_BOT_HTTP_ADDR: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// No proxy: the bot is local, and a proxy from the environment must not answer for it.
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: healthcheckTimeout}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s answered %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "ok: GET %s answered %s\n", u, resp.Status)
	return nil
}

// healthzURL is the /healthz URL of a server listening on addr (host:port), reached over loopback when
// addr listens on every interface.
func healthzURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("want host:port such as :8080, got %q", addr)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("%q has no fixed port to ask", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
