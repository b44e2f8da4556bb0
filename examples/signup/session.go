package main

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// The example keeps sessions and accounts in the memory of the process:
// enough to show the flow. A real app keeps them in its database; what the
// defenses share between instances lives in the limiter's store.

const (
	sessionCookie = "signup_session"
	sessionTTL    = 24 * time.Hour
	maxSessions   = 10000
	maxAccounts   = 100000
)

// session is what the app remembers of one browser.
type session struct {
	// pending is the verification under way: the number a code was sent
	// to, how, and when the next one may be asked for.
	pending *pending
	// user is the signed-in account's number, or "".
	user string
	// welcome is true right after signing up (not in).
	welcome bool
	seen    time.Time
}

type pending struct {
	number      numbers.Number
	channel     numbers.Channel
	resendAfter time.Time
}

// sessions maps cookie values to sessions, bounded.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessions() *sessions { return &sessions{m: make(map[string]*session)} }

// get returns a copy of r's session, and whether there is one.
func (s *sessions) get(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[c.Value]
	if ss == nil || time.Since(ss.seen) > sessionTTL {
		return session{}, false
	}
	ss.seen = time.Now()
	return *ss, true
}

// update runs f on r's session, creating it (and its cookie) when needed.
func (s *sessions) update(w http.ResponseWriter, r *http.Request, f func(*session)) {
	s.change(w, r, false, f)
}

// signIn runs f on r's session under a new cookie value, so that a value
// learnt before signing in is worth nothing after.
func (s *sessions) signIn(w http.ResponseWriter, r *http.Request, f func(*session)) {
	s.change(w, r, true, f)
}

func (s *sessions) change(w http.ResponseWriter, r *http.Request, renew bool, f func(*session)) {
	var id string
	if c, err := r.Cookie(sessionCookie); err == nil {
		id = c.Value
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[id]
	if ss == nil || renew {
		if ss == nil {
			ss = &session{}
			s.evict()
		}
		delete(s.m, id)
		id = rand.Text()
		s.m[id] = ss
		http.SetCookie(w, &http.Cookie{
			Name: sessionCookie, Value: id, Path: "/", MaxAge: int(sessionTTL / time.Second),
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
		})
	}
	ss.seen = time.Now()
	f(ss)
}

// evict makes room for a new session: expired ones go first, then the
// least recently seen. Called with s.mu held.
func (s *sessions) evict() {
	if len(s.m) < maxSessions {
		return
	}
	var oldest string
	var oldestSeen time.Time
	for id, ss := range s.m {
		if time.Since(ss.seen) > sessionTTL {
			delete(s.m, id)
			continue
		}
		if oldest == "" || ss.seen.Before(oldestSeen) {
			oldest, oldestSeen = id, ss.seen
		}
	}
	if len(s.m) >= maxSessions {
		delete(s.m, oldest)
	}
}

// accounts are the users who confirmed a number, by E.164.
type accounts struct {
	mu sync.Mutex
	m  map[string]time.Time // created
}

func newAccounts() *accounts { return &accounts{m: make(map[string]time.Time)} }

// signIn records that e164 confirmed a code; it reports whether the account
// is new.
func (a *accounts) signIn(e164 string) (created bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.m[e164]; ok {
		return false
	}
	if len(a.m) >= maxAccounts {
		for k := range a.m { // a demo: forget any one
			delete(a.m, k)
			break
		}
	}
	a.m[e164] = time.Now()
	return true
}
