// Package twilioctx runs twilio-go requests under a context.Context, which
// twilio-go's generated API services do not take.
//
// It is internal: nothing here is API.
package twilioctx

import (
	"context"
	"net/http"
	"time"

	"github.com/twilio/twilio-go/client"
)

// DefaultTimeout is twilio-go's own timeout for a client without an
// http.Client, kept when Bind builds one.
const DefaultTimeout = 10 * time.Second

// Bind returns a copy of c whose requests run under ctx and under c's own
// timeout (its http.Client's, DefaultTimeout when it has none), and a
// function that releases the timeout. The copy is shallow: credentials,
// edge, region and transport are shared. It reports false when c is not a
// *client.Client, whose fields it needs; the caller then runs the request
// as it is.
func Bind(ctx context.Context, c client.BaseClient) (client.BaseClient, context.CancelFunc, bool) {
	cc, ok := c.(*client.Client)
	if !ok || cc == nil {
		return nil, nil, false
	}
	bound := *cc
	timeout := DefaultTimeout
	hc := &http.Client{CheckRedirect: noRedirect}
	var next http.RoundTripper
	if cc.HTTPClient != nil {
		timeout = cc.HTTPClient.Timeout
		next = cc.HTTPClient.Transport
		hc.CheckRedirect = cc.HTTPClient.CheckRedirect
		hc.Jar = cc.HTTPClient.Jar
	}
	cancel := context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	hc.Transport = &transport{ctx: ctx, next: next}
	bound.HTTPClient = hc
	return &bound, cancel, true
}

// Run calls fn with c bound to ctx. When c cannot be bound, fn runs in a
// goroutine with c as it is and Run returns when ctx is done; the request
// then runs on until c's own timeout.
func Run(ctx context.Context, c client.BaseClient, fn func(client.BaseClient) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if bound, cancel, ok := Bind(ctx, c); ok {
		defer cancel()
		return fn(bound)
	}
	done := make(chan error, 1)
	go func() { done <- fn(c) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// noRedirect is twilio-go's redirect policy for the http.Client it builds.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// transport runs every request under ctx.
type transport struct {
	ctx  context.Context
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req.WithContext(t.ctx))
}
