package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/console"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/qoverysim"
	"github.com/qovery-slack-bot/qovery-slack-bot/internal/sim/slacksim"
)

// Console timings are compressed so that a whole stop plays out in seconds.
const (
	consolePollInterval = time.Second
	consoleStaleGrace   = 10 * time.Second
	consolePacing       = 200 * time.Millisecond
)

// consoleIO is the terminal the console runs in.
type consoleIO struct {
	in          io.Reader
	out, errOut io.Writer
	// interactive says that standard input is a terminal: a person types the lines, and the
	// terminal shows them. Only then does `console --real` run.
	interactive bool
}

// isTerminal reports whether r is a character device such as a terminal, rather than a pipe or a
// file. /dev/null is a character device too; nothing is read from it.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// consoleFlags are the command line of `console`.
type consoleFlags struct {
	// real uses the Qovery API of QOVERY_API_TOKEN and QOVERY_API_URL instead of the simulation.
	real bool
	// log is where the bot's log goes: a file, "-" for standard error, or "" for a new file in the
	// temporary directory. Never the chat: the terminal shows the conversation only.
	log string
}

func parseConsoleFlags(args []string, stderr io.Writer) (consoleFlags, error) {
	var f consoleFlags
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.real, "real", false, "use the real Qovery API (QOVERY_API_TOKEN, QOVERY_API_URL); typed input only, the organization's name asked before the first confirmed action")
	fs.StringVar(&f.log, "log", "", "the file the bot's log goes to (`-` for standard error); by default a new file in the temporary directory, named in the banner")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: qovery-slack-bot console [--real] [--log FILE]\n\n"+
			"A local chat with the bot in a simulated Slack workspace, against a simulated Qovery organization\n"+
			"(QOVERY_API_TOKEN in the environment is ignored). With --real, against the real Qovery API:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("console: unexpected argument %q; usage: console [--real] [--log FILE]", fs.Arg(0))
	}
	return f, nil
}

// runConsole runs the real bot against an in-process fake Slack, with the terminal as the Slack
// user's chat window, and a simulated Qovery organization; with --real, the Qovery API of the
// environment instead.
func runConsole(ctx context.Context, args []string, getenv func(string) string, tio consoleIO) error {
	flags, err := parseConsoleFlags(args, tio.errOut)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if flags.real && !tio.interactive {
		return errors.New("console --real: standard input is not a terminal; real clusters are stopped from typed input only, " +
			"never from a pipe or a file (without --real the script plays on the simulated organization)")
	}
	if flags.real && getenv("QOVERY_API_TOKEN") == "" {
		return errors.New("console --real: QOVERY_API_TOKEN is not set; export an organization API token (see README.md)")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	slackFake := slacksim.NewServer()
	defer slackFake.Close()
	const userID, userName, channelID, channelName = "U0ALICE", "alice", "C0OPS", "ops"
	// bob is a second person, for what needs one (QOVERY_BOT_FOUR_EYES): `as @bob <line>`.
	const bobID, bobName = "U0BOB", "bob"

	env := map[string]string{
		"SLACK_APP_TOKEN":          slackFake.AppToken(),
		"SLACK_BOT_TOKEN":          slackFake.BotToken(),
		"SLACK_API_URL":            slackFake.APIURL(),
		"QOVERY_BOT_POLL_INTERVAL": consolePollInterval.String(),
		"LOG_LEVEL":                "info",
		"LOG_FORMAT":               "json",
	}
	if flags.log == "-" {
		env["LOG_LEVEL"], env["LOG_FORMAT"] = "warn", "console"
	}
	// The policy and the bot's own knobs are passed on from the environment; the Qovery API's
	// variables only with --real, so that a token exported for other tools is never used by mistake.
	passOn := []string{"QOVERY_BOT_POLL_INTERVAL", "QOVERY_BOT_WATCH_TIMEOUT", "QOVERY_BOT_CONFIRM_TTL", "LOG_LEVEL", "LOG_FORMAT",
		"QOVERY_BOT_ALLOWED_USERS", "QOVERY_BOT_ALLOWED_CHANNELS", "QOVERY_BOT_ALLOWED_USERGROUPS",
		"QOVERY_BOT_PROTECTED_CLUSTERS", "QOVERY_BOT_FOUR_EYES", "QOVERY_BOT_AUDIT_LOG"}
	if flags.real {
		passOn = append(passOn, "QOVERY_API_TOKEN", "QOVERY_API_URL", "QOVERY_ORGANIZATION_ID")
	}
	for _, name := range passOn {
		if v := getenv(name); v != "" {
			env[name] = v
		}
	}
	if !flags.real {
		q := qoverysim.Start()
		defer q.Close()
		demo := q.SeedDemo()
		env["QOVERY_API_TOKEN"], env["QOVERY_API_URL"] = q.Token(), q.URL()
		env["QOVERY_ORGANIZATION_ID"] = demo.OrganizationID.String()
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	// The console's two people are the ones in its workspace allowed to stop clusters, unless the
	// environment says otherwise.
	if getenv("QOVERY_BOT_ALLOWED_USERS") == "" && getenv("QOVERY_BOT_ALLOWED_USERGROUPS") == "" {
		cfg.Policy.Users = []string{userID, bobID}
	}
	logOut, logName, closeLogOut, err := consoleLog(flags.log, tio.errOut)
	if err != nil {
		return err
	}
	defer closeLogOut()
	log, audit, closeLogs, err := newLoggers(cfg, logOut)
	if err != nil {
		return err
	}
	defer closeLogs()
	cfg.HTTPAddr = "" // the console serves no health endpoints
	a, err := newApp(ctx, cfg, log, audit, func(o *appOptions) {
		o.staleGrace = consoleStaleGrace
		o.expirySweep = time.Second
		o.memoryStore = true // the console's simulated world ends with it
		o.pacing = consolePacing
	})
	if err != nil {
		return err
	}
	var guard *console.Guard
	if flags.real {
		host := apiHost(cfg.QoveryAPIURL)
		fmt.Fprintf(tio.out, "Qovery Slack bot, local console: a simulated Slack workspace and %s, organization %q.\n", realAPIName(host), a.org.Name)
		fmt.Fprintf(tio.out, "A confirmed stop is REAL: it is sent to %s and stops the cluster (a confirmed start deploys it); so are the runs of a schedule created here, while the console runs. Before the first one you type the organization's name.\n", host)
		guard = &console.Guard{
			Actions: []string{commands.ActionConfirm, commands.ActionScheduleCreate},
			Word:    a.org.Name,
			Prompt: fmt.Sprintf("This click acts on the real organization %q at %s. Type the organization's name to go on (anything else cancels the click):",
				a.org.Name, host),
		}
	} else {
		fmt.Fprintln(tio.out, "Qovery Slack bot, local console: a simulated Slack workspace and a simulated Qovery organization (`console --real` uses the real API).")
		if getenv("QOVERY_API_TOKEN") != "" {
			fmt.Fprintln(tio.out, "QOVERY_API_TOKEN is set but ignored: nothing real is stopped here. `console --real` uses it.")
		}
	}
	if logName != "" {
		fmt.Fprintf(tio.out, "The bot's log goes to %s.\n", logName)
	}

	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	botErr := make(chan error, 1)
	go func() { botErr <- a.run(botCtx, nil) }()
	// The bot shuts down the way the program does on SIGTERM (a watch it stops says so in its
	// thread), while the console still prints.
	shutdown := sync.OnceValue(func() error {
		stopBot()
		return <-botErr
	})
	// Ready when the fake Slack has a socket that got its hello, which is after slack-go reports
	// the connection on its side.
	connected := make(chan error, 1)
	go func() { connected <- slackFake.WaitConnected(ctx) }()
	select {
	case err := <-connected:
		if err != nil {
			return shutdown() // ctx done
		}
	case err := <-botErr:
		return err
	}

	err = console.Run(ctx, slackFake, tio.in, tio.out, console.Options{
		UserID: userID, UserName: userName, ChannelID: channelID, ChannelName: channelName,
		Users:    map[string]string{userID: userName, bobID: bobName},
		Echo:     !tio.interactive,
		Handling: a.bot.Handling,
		Busy:     a.busy,
		Shutdown: func() { _ = shutdown() },
		Guard:    guard,
	})
	if berr := shutdown(); berr != nil && !errors.Is(berr, context.Canceled) {
		return errors.Join(err, berr)
	}
	return err
}

// consoleLog opens where the bot's log goes (see consoleFlags.log) and returns its name when it is
// a file. A temporary file still empty when closed (the console did not get as far as starting the
// bot) is removed.
func consoleLog(name string, stderr io.Writer) (w io.Writer, fileName string, closeFn func(), err error) {
	var f *os.File
	switch name {
	case "-":
		return stderr, "", func() {}, nil
	case "":
		f, err = os.CreateTemp("", "qovery-slack-bot-console-*.log")
	default:
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("console log: %w", err)
	}
	return f, f.Name(), func() {
		st, err := f.Stat()
		_ = f.Close()
		if name == "" && err == nil && st.Size() == 0 {
			_ = os.Remove(f.Name())
		}
	}, nil
}

// apiHost is the host of the Qovery API URL, as the banner names it.
func apiHost(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return apiURL
	}
	return u.Host
}

// realAPIName says which Qovery API the console talks to: "real" only for Qovery's own host.
func realAPIName(host string) string {
	if def := apiHost(defaultQoveryAPIURL); host == def {
		return fmt.Sprintf("the REAL Qovery API (%s)", host)
	}
	return fmt.Sprintf("the Qovery API at %s (QOVERY_API_URL)", host)
}
