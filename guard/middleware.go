package guard

import (
	"context"
	"errors"
	"net/http"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// Limit returns middleware that takes rules for every request of the route
// name before calling the next handler. Rules are keyed by client address,
// user, route or nothing (PerAddr, PerUser, PerRoute, Global); rules on a
// phone number need Phone.
//
// An allowed request gets the IETF RateLimit and RateLimit-Policy headers
// of its tightest rule; a refused one the guard's deny handler (by default
// a problem: 429 with Retry-After, 503 when the store fails and the guard
// fails closed, 400 when the client's address is unusable).
//
// Limit panics, with an error wrapping ErrInvalidConfig, if the name or a
// rule is invalid: routes are written in the program, and a mistake shows
// when it starts. Check validates the same without panicking.
func (g *Guard) Limit(name string, rules ...Rule) func(http.Handler) http.Handler {
	rt := g.mustCompile(name, false, rules)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in input
			kb := new(keyBuf)
			o, err := rt.check(r, &in, kb)
			if err != nil {
				rt.refuse(w, r, &in, 0, nil, err)
				return
			}
			rt.setHeaders(w.Header(), o, kb)
			next.ServeHTTP(w, r)
		})
	}
}

// check runs a limit-only route for r. It reports an allowed request;
// the caller reports a refusal.
func (rt *route) check(r *http.Request, in *input, kb *keyBuf) (outcome, error) {
	if err := rt.who(r, in); err != nil {
		return outcome{rule: -1}, err
	}
	o, err := rt.take(r.Context(), in, kb)
	return o, rt.pass(r.Context(), in, 0, err)
}

// who finds the client's address and user, when the route needs them.
func (rt *route) who(r *http.Request, in *input) error {
	if rt.needAddr {
		a, err := rt.g.rv.clientAddr(r)
		if err != nil {
			return err
		}
		in.addr = a
	}
	if rt.needUser && rt.g.cfg.user != nil {
		in.user = rt.g.cfg.user(r)
	}
	return nil
}

// pass applies the fail mode to a take's error and reports an allowed
// request: a store failure is let through when the guard fails open.
func (rt *route) pass(ctx context.Context, in *input, ch numbers.Channel, err error) error {
	if err != nil && !(rt.g.cfg.failOpen && errors.Is(err, ratelimit.ErrUnavailable)) {
		return err
	}
	rt.allowed(ctx, in, ch, err)
	return nil
}

// refuse reports a refusal and answers it with the deny handler.
func (rt *route) refuse(w http.ResponseWriter, r *http.Request, in *input, ch numbers.Channel, st *state, err error) {
	rt.denied(r.Context(), in, ch, err)
	if st == nil {
		st = &state{}
	}
	st.Context, st.err = r.Context(), err
	rt.denyHeaders(w.Header(), err)
	rt.g.deny.ServeHTTP(w, r.WithContext(st))
}

// Check takes rules for r as the middleware of Limit(name, rules...)
// does, for code that is not a handler. It returns nil when r may go on;
// otherwise an error as FailureReason describes, or one wrapping
// ErrInvalidConfig for an invalid name or rule. Turn an error into a
// response with ProblemFor.
func (g *Guard) Check(r *http.Request, name string, rules ...Rule) error {
	rt, err := g.cached(name, false, rules)
	if err != nil {
		return err
	}
	var in input
	var kb keyBuf
	if _, err = rt.check(r, &in, &kb); err != nil {
		rt.denied(r.Context(), &in, 0, err)
	}
	return err
}

// Phone returns middleware that guards an endpoint which sends a text or
// places a call to a number from the request: "call me", "send a code",
// signup with a phone number. For every request it
//
//  1. finds the client's address (see WithTrustedProxies);
//  2. reads the body, at most WithMaxBody bytes (413 beyond), and finds
//     the phone field (WithField) in a JSON, form or multipart body or the
//     URL query; a field repeated, or not a JSON string, is a 400;
//  3. parses the number with the default region (WithRegion): 422 if it
//     is not one;
//  4. applies the number policy for ch (WithPolicy): 403 if it refuses,
//     and the refusal counts against the address (WithRefusalLimit);
//  5. takes the rules, all or nothing, with the probing box's check, in
//     one call to the limiter (one round trip with a Redis store): 429;
//  6. calls next with the body restored byte for byte and the parsed
//     number available from Number(r).
//
// A number the policy refuses spends nothing from the rules. Phone panics
// as Limit does for an invalid name or rule.
func (g *Guard) Phone(name string, ch numbers.Channel, rules ...Rule) func(http.Handler) http.Handler {
	rt := g.mustCompile(name, true, rules)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st := &state{Context: r.Context()} // one allocation for the request's state and keys
			var in input
			body, o, err := rt.checkPhone(r, ch, &in, st, &st.kb)
			if err != nil {
				rt.refuse(w, r, &in, ch, st, err)
				return
			}
			rt.setHeaders(w.Header(), o, &st.kb)
			r2 := r.WithContext(st)
			if body != nil {
				st.body.Reset(body)
				r2.Body = &st.body
			}
			next.ServeHTTP(w, r2)
		})
	}
}

// checkPhone runs a phone route for r; it reports the decision. It
// returns the body it read (nil when r has none), which the caller gives
// the next handler.
func (rt *route) checkPhone(r *http.Request, ch numbers.Channel, in *input, st *state, kb *keyBuf) ([]byte, outcome, error) {
	o := outcome{rule: -1}
	if err := rt.who(r, in); err != nil {
		return nil, o, err
	}
	body, err := readBody(r, rt.g.cfg.maxBody, st.buf[:0])
	if err != nil {
		return nil, o, err
	}
	var vals [1]string
	if _, err := extract(r.Header.Get("Content-Type"), body, r.URL.RawQuery, &rt.g.phone, vals[:]); err != nil {
		return nil, o, err
	}
	o, err = rt.phone(r.Context(), vals[0], ch, in, st, kb)
	return body, o, err
}

// number parses, checks and limits one number: the part of a phone route
// after the number is found.
func (rt *route) phone(ctx context.Context, raw string, ch numbers.Channel, in *input, st *state, kb *keyBuf) (outcome, error) {
	o := outcome{rule: -1}
	if b := rt.g.cfg.budget; b != nil {
		if err := b.Check(ctx); err != nil {
			return o, err
		}
	}
	num, err := numbers.Parse(raw, rt.g.cfg.region)
	if err != nil {
		return o, err
	}
	st.num, st.hasNum = num, true
	in.num = &st.num
	p := rt.g.policy(ch)
	if p == nil {
		return o, configError("route %s: no policy for channel %d", rt.name, ch)
	}
	if d := p.Check(num, ch); !d.Allowed {
		return o, rt.refused(ctx, in.addr, d.Err())
	}
	if in.text != "" {
		// After the policy: a destination it refuses counts as probing,
		// whatever the text.
		if err := checkText(rt.g.cfg.text, in.text); err != nil {
			return o, err
		}
	}
	o, err = rt.take(ctx, in, kb)
	return o, rt.pass(ctx, in, ch, err)
}

// CheckPhone runs the checks of Phone(name, ch, rules...) on r, for code
// that is not a handler. It reads r's body and replaces it with a reader
// of the same bytes. It returns the parsed number when r may go on;
// otherwise an error as FailureReason describes, or one wrapping
// ErrInvalidConfig for an invalid name or rule.
func (g *Guard) CheckPhone(r *http.Request, name string, ch numbers.Channel, rules ...Rule) (numbers.Number, error) {
	rt, err := g.cached(name, true, rules)
	if err != nil {
		return numbers.Number{}, err
	}
	st := &state{Context: r.Context()}
	var in input
	body, _, err := rt.checkPhone(r, ch, &in, st, &st.kb)
	if body != nil {
		st.body.Reset(body)
		r.Body = &st.body
	}
	if err != nil {
		rt.denied(r.Context(), &in, ch, err)
		return st.num, err
	}
	return st.num, nil
}
