// Command outbound is a runnable example of a "send a message to a friend"
// endpoint, the kind of feature that turns an app into a free SMS gateway
// for phishers and pumpers. guard's outbound check runs before anything is
// sent: the destination must pass the number policy, the user's own words
// must carry no call to action (no link, phone number, email address or
// short code), and limits per destination, per range of destinations and
// per sending user hold, all or nothing. The app's own template, with its
// own link, is not checked: only what the user wrote.
//
//	go run ./examples/outbound
//
// serves the page on http://localhost:8083. Messages are printed, not sent:
// nothing needs credentials or the internet. The same endpoint answers
// JSON:
//
//	curl -i localhost:8083/invite -H 'Content-Type: application/json' -d '{"to":"+44 7700 900123","note":"Join me!"}'
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("outbound", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "localhost:8083", "the `address` to serve on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a, err := newApp(stdout)
	if err != nil {
		fmt.Fprintln(stderr, "outbound:", err)
		return 1
	}
	defer a.close()
	srv := &http.Server{Addr: *addr, Handler: a, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(stdout, "invitations on http://%s/ (printed here, never sent)\n", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "outbound:", err)
		return 1
	}
	return 0
}

// The limits of an invitation: one a day to a number, 20 a day into one
// block of 1,000 numbers, 5 a day per user.
var inviteRules = []guard.Rule{
	guard.PerPhone(ratelimit.PerDay(1)),
	guard.PerBlock(3, ratelimit.PerDay(20)),
	guard.PerUser(ratelimit.PerDay(5)),
}

// app sends invitations.
type app struct {
	http.Handler
	guard *guard.Guard
	store *ratelimit.MemoryStore
	out   io.Writer
	mu    sync.Mutex // serialises writes to out
}

//go:embed index.html
var indexHTML string

var page = template.Must(template.New("index").Parse(indexHTML))

func newApp(out io.Writer) (*app, error) {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.New(store)
	if err != nil {
		return nil, err
	}
	// Invitations go to mobiles anywhere but the known fraud destinations
	// (numbers.ModeratePolicy, the guard's default), with the user's note
	// checked by sanitize's default text policy.
	g, err := guard.New(limiter, guard.WithRegion("US"))
	if err != nil {
		return nil, err
	}
	a := &app{guard: g, store: store, out: out}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { a.render(w, r, http.StatusOK, "", "") })
	mux.HandleFunc("POST /invite", a.invite)
	a.Handler = http.NewCrossOriginProtection().Handler(mux)
	return a, nil
}

func (a *app) close() { _ = a.store.Close(context.Background()) }

// invite checks an invitation and sends it.
func (a *app) invite(w http.ResponseWriter, r *http.Request) {
	var in struct{ To, Note string }
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
			a.fail(w, r, fmt.Errorf("%w: %v", guard.ErrBadRequest, err))
			return
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		in.To, in.Note = r.PostFormValue("to"), r.PostFormValue("note")
	}
	user := a.user(w, r)
	addr, _ := a.guard.ClientAddr(r)
	n, err := a.guard.CheckOutbound(r.Context(), "invite", guard.Outbound{
		To: in.To, Channel: numbers.SMS, Text: in.Note, User: user, Addr: addr,
	}, inviteRules...)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The app's own words and link, then the user's checked note.
	msg := "A friend invited you to Parcelbox: https://parcelbox.example/join"
	if note := strings.TrimSpace(in.Note); note != "" {
		msg += "\n" + note
	}
	a.mu.Lock()
	fmt.Fprintf(a.out, "SMS to %s (not sent, this is an example): %q\n", n, msg)
	a.mu.Unlock()
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "sent", "to": n.String()})
		return
	}
	a.render(w, r, http.StatusOK, "Invitation sent to "+n.String()+".", "")
}

// fail answers a refused invitation with the library's problem.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := guard.ProblemFor(err)
	if wantsJSON(r) {
		p.ServeHTTP(w, r)
		return
	}
	a.render(w, r, p.Status, "", p.Detail)
}

func (a *app) render(w http.ResponseWriter, _ *http.Request, status int, notice, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = page.Execute(w, struct{ Notice, Problem string }{notice, problem})
}

// user identifies the sending user: in this example, a cookie of its own;
// in an app, the signed-in account.
func (a *app) user(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("user"); err == nil && c.Value != "" {
		return c.Value
	}
	id := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: "user", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return id
}

func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
