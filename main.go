// Command qovery-slack-bot is a Slack app (Socket Mode) that stops Qovery clusters from Slack:
// `/qovery stop <cluster>`, a confirmation click, and the cluster watched to STOPPED in a thread.
//
// Usage:
//
//	qovery-slack-bot                 serve Slack with the configuration in the environment
//	qovery-slack-bot console         a local console against a simulated organization (no accounts needed)
//	qovery-slack-bot console --real  the same against the real Qovery API (typed input only)
//	qovery-slack-bot doctor          check the configuration, tokens, scopes, data directory or database, and health address
//	qovery-slack-bot version         print the version
//	qovery-slack-bot healthcheck     GET /healthz of the running bot (the image's HEALTHCHECK)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	// The time zone database, built in: schedules name IANA zones, and the distroless image has
	// no zoneinfo of its own.
	_ "time/tzdata"

	"github.com/qovery-slack-bot/qovery-slack-bot/bot"
)

func main() {
	setMemoryLimit(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "qovery-slack-bot:", err)
		os.Exit(1)
	}
}

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT sets one. Without a
// limit the heap grows to twice its peak before a collection and is returned to the system slowly;
// with it, the bot's memory stays near what it needs (a thousand watches take about 20 MB of heap
// and stacks). It is soft: a bot that needs more gets more, at the cost of more frequent collections.
const defaultMemoryLimit = 48 << 20

// setMemoryLimit applies defaultMemoryLimit unless GOMEMLIMIT is set (the runtime reads that itself).
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// run is the whole program; main only adds the process around it, so that tests run it in process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "":
		return serve(ctx, getenv, stderr)
	case "console":
		return runConsole(ctx, args[1:], getenv, consoleIO{in: stdin, out: stdout, errOut: stderr, interactive: isTerminal(stdin)})
	case "doctor":
		return runDoctor(ctx, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "qovery-slack-bot", version())
		return nil
	case "healthcheck":
		return runHealthcheck(ctx, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: qovery-slack-bot [console [--real] [--log FILE]|doctor|version|healthcheck]\n\n"+
			"Without arguments it serves Slack (see README.md for the environment variables).\n"+
			"`console` runs a local chat against a simulated Qovery organization, whatever QOVERY_API_TOKEN says;\n"+
			"  the bot's log goes to a file named in its banner (`--log FILE` picks it, `--log -` is standard error).\n"+
			"`console --real` runs it against the real Qovery API (QOVERY_API_TOKEN, QOVERY_API_URL), from a terminal only,\n"+
			"  and asks for the organization's name before the first confirmed action.\n"+
			"`doctor` checks the configuration, the tokens, the data directory (or the database) and the health address, one line each.\n"+
			"`version` prints the version.\n"+
			"`healthcheck` asks the running bot's /healthz (for Docker's HEALTHCHECK).")
		return nil
	default:
		return fmt.Errorf("unknown command %q; run with `help` for usage", verb)
	}
}

// serve runs the bot. A failure to start is explained as doctor explains it (a line of cause, a line
// of fix), and no error it returns holds a token or the database password.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer, opts ...func(*appOptions)) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return configProblem(getenv, err)
	}
	return redactSecrets(serveConfig(ctx, cfg, stderr, opts...), cfg)
}

func serveConfig(ctx context.Context, cfg config, stderr io.Writer, opts ...func(*appOptions)) error {
	var o appOptions
	for _, opt := range opts {
		opt(&o)
	}
	reopen, stopHangups := hangups(cfg, o)
	defer stopHangups()
	log, audit, closeLogs, err := openLoggers(cfg, stderr, reopen)
	if err != nil {
		return err
	}
	defer closeLogs()
	ln := o.healthListener
	if ln == nil && cfg.HTTPAddr != "" {
		// Listen before anything else, so a taken port fails start-up at once.
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			problem, fix := healthAddrProblem(ctx, cfg.HTTPAddr, err)
			return explain(problem, fix, err)
		}
		defer ln.Close()
	}
	a, err := newApp(ctx, cfg, log, audit, opts...)
	if err != nil {
		return err
	}
	err = a.run(ctx, ln)
	if ae, ok := errors.AsType[*bot.AuthTestError](err); ok {
		problem, fix := slackBotProblem(cfg.SlackAPIURL, ae.Err)
		return explain(problem, fix, err)
	}
	if se, ok := errors.AsType[*bot.SocketModeError](err); ok && slackErrorCode(se.Err) != "" {
		problem, fix := slackAppProblem(cfg.SlackAPIURL, se.Err)
		return explain(problem, fix, err)
	}
	return err
}
