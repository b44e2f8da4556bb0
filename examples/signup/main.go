// Command signup is the main example of the antifraud library: a small web
// app whose sign-up and sign-in by phone number protects itself the way
// Twilio's Anti-Fraud Developer's Guide describes.
//
//	go run ./examples/signup
//
// Then open http://localhost:8080 and sign up with a phone number. Nothing
// leaves the machine: codes are printed in the terminal and shown on a
// developer page, and every limit lives in memory. The dashboard at
// http://localhost:8081/admin (reachable from this machine only) draws the
// codes sent and confirmed per country, the ranges the pumping monitor
// blocked with its reasons, the refusals by reason and the spend budget;
// /metrics on the same address is what Prometheus scrapes. To watch the
// defenses work, press "Replay an attack" on the dashboard, or start with
//
//	go run ./examples/signup -attack
//
// which replays the pumpers of examples/pumpsim against the app: a range
// gets blocked within seconds, and the dashboard shows why.
//
// What protects the app:
//
//   - guard checks the phone field of "Text me a code" and "Call me with the
//     code": the number policy of the channel (calls only to the countries
//     the app serves, never to VoIP or premium numbers; texts anywhere but
//     known fraud destinations and the ranges the monitor blocked), limits
//     per client address, number, block and route, and the spend budget's
//     kill switch;
//   - verify sends the code: its own limits per number, address, block,
//     country and overall, a resend cooldown that grows, attempt limits on
//     checks;
//   - the pumping monitor (guard/pumping) counts codes sent against codes
//     confirmed per range of numbers, address and country, in the same
//     store take as verify's limits, and blocks what is pumped.
//
// Real parts by environment: REDIS_URL (redis://localhost:6379/0) keeps
// limits, cooldowns, the budget and the monitor's counters in Redis, shared
// by every instance; TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
// TWILIO_VERIFY_SERVICE_SID send real codes with Twilio Verify. The banner
// at startup says which parts are real and which are local.
//
// Flags:
//
//	-addr A             the app's address (default localhost:8080)
//	-admin-addr A       the dashboard's address (default localhost:8081)
//	-admin-allow L      client addresses allowed on the dashboard (default loopback)
//	-region R           region of numbers typed without +country (default US)
//	-voice-regions L    the only countries called (default US,CA,GB)
//	-trusted-proxies L  reverse proxies whose X-Forwarded-For is believed
//	-budget-hour N      spend budget per hour, in dollars (default 20)
//	-budget-day N       spend budget per day, in dollars (default 100)
//	-shadow             run the pumping monitor in shadow mode
//	-attack             replay a pumping attack once the app is up
//	-attack-gap D       time between two requests of the attack (default 150ms)
//	-v                  log the library's decisions
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the command; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("signup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "localhost:8080", "the app's `address`")
	adminAddr := fs.String("admin-addr", "localhost:8081", "the dashboard's `address`")
	adminAllow := fs.String("admin-allow", "127.0.0.0/8,::1", "client addresses or prefixes allowed on the dashboard")
	region := fs.String("region", "US", "region of numbers typed without +country")
	voiceRegions := fs.String("voice-regions", "US,CA,GB", "the only countries the app calls")
	proxies := fs.String("trusted-proxies", "", "reverse proxies whose X-Forwarded-For is believed (addresses or prefixes)")
	budgetHour := fs.Float64("budget-hour", 20, "spend budget per hour, in dollars")
	budgetDay := fs.Float64("budget-day", 100, "spend budget per day, in dollars")
	shadow := fs.Bool("shadow", false, "run the pumping monitor in shadow mode: decide and record, refuse nothing")
	attack := fs.Bool("attack", false, "replay a pumping attack once the app is up")
	attackGap := fs.Duration("attack-gap", 150*time.Millisecond, "time between two requests of the attack")
	verbose := fs.Bool("v", false, "log the library's decisions")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	a, err := newApp(options{
		Region: *region, VoiceRegions: splitList(*voiceRegions), TrustedProxies: splitList(*proxies),
		AdminAllow: splitList(*adminAllow), BudgetHour: *budgetHour, BudgetDay: *budgetDay,
		Shadow: *shadow, AttackGap: *attackGap,
		Getenv: getenv, Out: stdout, Logger: logger,
	})
	if err != nil {
		fmt.Fprintln(stderr, "signup:", err)
		return 1
	}
	defer a.Close(context.Background())

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "signup:", err)
		return 1
	}
	aln, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "signup:", err)
		return 1
	}
	a.publicURL, a.adminURL = urlOf(*addr, ln.Addr()), urlOf(*adminAddr, aln.Addr())
	a.banner(stdout)

	servers := []*http.Server{
		{Handler: a.public, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)},
		{Handler: a.admin, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)},
	}
	errc := make(chan error, 2)
	for i, l := range []net.Listener{ln, aln} {
		go func() { errc <- servers[i].Serve(l) }()
	}
	if *attack {
		go func() {
			if err := a.attack(ctx); err != nil {
				fmt.Fprintln(stderr, "signup: -attack:", err)
				return
			}
			fmt.Fprintf(stdout, "attack: replaying pumpers against the app; watch %s/admin\n", a.adminURL)
		}()
	}

	status := 0
	select {
	case <-ctx.Done():
	case err := <-errc:
		fmt.Fprintln(stderr, "signup:", err)
		status = 1
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "signup:", err)
		}
	}
	return status
}

// banner says where the app is and which of its parts are real.
func (a *app) banner(w io.Writer) {
	fmt.Fprintf(w, "antifraud signup example\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  app\t%s/\n", a.publicURL)
	fmt.Fprintf(tw, "  dashboard\t%s/admin\t(from %s only)\n", a.adminURL, joinList(a.opts.AdminAllow))
	fmt.Fprintf(tw, "  metrics\t%s/metrics\n", a.adminURL)
	if a.codes != nil {
		fmt.Fprintf(tw, "  codes page\t%s/dev/codes\n", a.adminURL)
	}
	for _, p := range a.parts {
		fmt.Fprintf(tw, "  %s\t%s:\t%s\n", p.Name, p.Kind, p.Detail)
	}
	monitor := "enforcing: ranges whose codes go unconfirmed are blocked"
	switch {
	case !a.monitor.available():
		monitor = "not in this build"
	case a.opts.Shadow:
		monitor = "shadow mode: decisions recorded, nothing refused"
	}
	fmt.Fprintf(tw, "  monitor\t%s\n", monitor)
	fmt.Fprintf(tw, "  budget\t$%.2f an hour, $%.2f a day\n", a.opts.BudgetHour, a.opts.BudgetDay)
	_ = tw.Flush()
	fmt.Fprintln(w)
}

// urlOf is the URL of a listener opened on flagAddr: with the host as
// written ("localhost") and the port as bound (for ":0").
func urlOf(flagAddr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(flagAddr)
	_, port, _ := net.SplitHostPort(bound.String())
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host, _, _ = net.SplitHostPort(bound.String())
	}
	return "http://" + net.JoinHostPort(host, port)
}

func joinList(l []string) string {
	s := ""
	for i, v := range l {
		if i > 0 {
			s += ", "
		}
		s += v
	}
	return s
}
