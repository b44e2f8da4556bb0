package twilioctx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

// A request stalled at the server ends when the context does.
func TestRunCancelsStalledRequest(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	c := &client.Client{Credentials: client.NewCredentials("AC0", "t"), HTTPClient: &http.Client{Timeout: time.Minute}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, c, func(bc client.BaseClient) error {
			_, err := bc.SendRequest(http.MethodGet, ts.URL, url.Values{}, map[string]interface{}{})
			return err
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run = %v, want the deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request outlived its context")
	}
	if c.HTTPClient.Transport != nil {
		t.Error("Run changed the caller's client")
	}
}

// otherClient is a BaseClient that is not a *client.Client.
type otherClient struct {
	client.BaseClient
	block chan struct{}
}

func (o otherClient) AccountSid() string { return "AC0" }

func TestRunOtherClient(t *testing.T) {
	o := otherClient{block: make(chan struct{})}
	defer close(o.block)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, o, func(client.BaseClient) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled before: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := Run(ctx, o, func(bc client.BaseClient) error { <-o.block; return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unbindable client: %v", err)
	}
	if _, _, ok := Bind(context.Background(), o); ok {
		t.Error("bound a client it cannot copy")
	}
}
