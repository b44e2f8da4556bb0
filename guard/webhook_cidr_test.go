package guard

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestAllowFrom(t *testing.T) {
	mw, err := AllowFrom(nil, "192.0.2.0/24", "2001:db8::/32", "198.51.100.7", " ::ffff:203.0.113.0/120 ")
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, tt := range []struct {
		remote string
		want   int
	}{
		{"192.0.2.10:5060", http.StatusNoContent},
		{"[::ffff:192.0.2.10]:443", http.StatusNoContent}, // mapped
		{"[2001:db8::1%eth0]:443", http.StatusNoContent},  // zoned
		{"198.51.100.7:1", http.StatusNoContent},
		{"203.0.113.200:1", http.StatusNoContent},
		{"198.51.100.8:1", http.StatusForbidden},
		{"192.0.3.1:1", http.StatusForbidden},
		{"[2001:db9::1]:1", http.StatusForbidden},
		{"@unix", http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		r := httptest.NewRequest(http.MethodPost, "/admin/reset", nil)
		r.RemoteAddr = tt.remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tt.want {
			t.Errorf("%q: %d, want %d", tt.remote, rec.Code, tt.want)
		}
	}
}

// With a resolver that sees through trusted proxies, the allow list checks
// the client, not the proxy; a request whose client is unknown is refused.
func TestAllowFromClientAddr(t *testing.T) {
	resolve := func(r *http.Request) (netip.Addr, error) {
		if v := r.Header.Get("X-Test-Client"); v != "" {
			return netip.ParseAddr(v)
		}
		return netip.Addr{}, errors.New("no client address")
	}
	mw, err := AllowFrom(resolve, "10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for client, want := range map[string]int{"10.1.2.3": 200, "10.2.0.1": 403, "": 403} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.1.0.1:80" // the proxy, inside the list
		if client != "" {
			r.Header.Set("X-Test-Client", client)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("client %q: %d, want %d", client, rec.Code, want)
		}
	}
}

func TestAllowFromConfigErrors(t *testing.T) {
	for _, bad := range [][]string{nil, {"not an address"}, {"10.0.0.0/33"}, {"fe80::1%eth0"}, {"::ffff:10.0.0.0/80"}} {
		if _, err := AllowFrom(nil, bad...); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzAllowFrom: a prefix list and an address from outside; whatever they
// are, the check never panics and agrees with netip on canonical forms.
func FuzzAllowFrom(f *testing.F) {
	f.Add("192.0.2.0/24", "192.0.2.1:80")
	f.Add("2001:db8::/32", "[2001:db8::1%lo]:1")
	f.Add("::ffff:10.0.0.0/104", "10.1.1.1:1")
	f.Fuzz(func(t *testing.T, prefix, remote string) {
		mw, err := AllowFrom(nil, prefix)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		rec := httptest.NewRecorder()
		passed := false
		mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true })).ServeHTTP(rec, r)
		p, _ := parseAllowed(prefix)
		a, aerr := remoteAddr(r)
		want := aerr == nil && p.Contains(a.Unmap().WithZone(""))
		if passed != want {
			t.Fatalf("prefix %q remote %q: passed %v, want %v", prefix, remote, passed, want)
		}
	})
}
