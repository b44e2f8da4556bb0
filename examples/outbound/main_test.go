package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/internal/testkit"
)

func newServer(t *testing.T) (*testkit.Buffer, *httptest.Server, *http.Client) {
	t.Helper()
	out := &testkit.Buffer{}
	a, err := newApp(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return out, srv, &http.Client{Jar: jar}
}

func invite(t *testing.T, c *http.Client, srv *httptest.Server, to, note string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"to": to, "note": note})
	res, err := c.Post(srv.URL+"/invite", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	detail, _ := m["detail"].(string)
	return res.StatusCode, detail
}

func TestInvitations(t *testing.T) {
	out, srv, c := newServer(t)
	for _, tc := range []struct {
		name, to, note string
		status         int
		detail         string
	}{
		{"allowed", "+44 7700 900123", "Join me!", http.StatusOK, ""},
		{"same number again", "+44 7700 900123", "Join me!", http.StatusTooManyRequests, "Too many requests"},
		{"link in the note", "+44 7700 900124", "Claim your prize at prize-now.com", http.StatusUnprocessableEntity, "cannot carry links"},
		{"number in the note", "+44 7700 900124", "or call +44 20 7946 0018", http.StatusUnprocessableEntity, "cannot carry links"},
		{"fraud destination", "+1 876 210 4567", "Join me!", http.StatusForbidden, "cannot be used here"},
		{"premium rate", "+44 909 879 0000", "", http.StatusForbidden, "cannot be used here"},
		{"not a number", "tomorrow", "", http.StatusUnprocessableEntity, "not a phone number"},
		{"no note", "+44 7700 900125", "", http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, detail := invite(t, c, srv, tc.to, tc.note)
			if status != tc.status || !strings.Contains(detail, tc.detail) {
				t.Fatalf("%d %q, want %d %q", status, detail, tc.status, tc.detail)
			}
		})
	}
	sent := out.String()
	if strings.Count(sent, "SMS to ") != 2 || !strings.Contains(sent, `SMS to +44******0123`) || strings.Contains(sent, "prize") {
		t.Errorf("sent:\n%s", sent)
	}
	if strings.Contains(sent, "7700900123") {
		t.Error("a whole number was printed")
	}
}

// A user may send five invitations a day, whatever the numbers.
func TestPerUserLimit(t *testing.T) {
	_, srv, c := newServer(t)
	for i := range 6 {
		status, detail := invite(t, c, srv, fmt.Sprintf("+44 7700 9%05d", 1000*i+17), "")
		if want := map[bool]int{true: http.StatusTooManyRequests, false: http.StatusOK}[i == 5]; status != want {
			t.Fatalf("invitation %d: %d %s", i+1, status, detail)
		}
	}
	// Another user still may.
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar}
	if status, detail := invite(t, other, srv, "+44 7700 900999", ""); status != http.StatusOK {
		t.Fatalf("another user: %d %s", status, detail)
	}
}

// A browser without scripts gets pages.
func TestForm(t *testing.T) {
	out, srv, c := newServer(t)
	res, err := c.PostForm(srv.URL+"/invite", url.Values{"to": {"+44 7700 900123"}, "note": {"see you at evil.com"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), `id="problem"`) {
		t.Fatalf("%d\n%s", res.StatusCode, b)
	}
	res, err = c.PostForm(srv.URL+"/invite", url.Values{"to": {"+44 7700 900123"}, "note": {"see you there"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "Invitation sent to") || !strings.Contains(out.String(), "see you there") {
		t.Fatalf("%d\n%s", res.StatusCode, b)
	}
}

func TestRunBadFlag(t *testing.T) {
	if status := run(context.Background(), []string{"-nope"}, io.Discard, io.Discard); status != 2 {
		t.Fatalf("exit %d", status)
	}
}
