package pumping

import (
	"strings"
	"testing"
)

// FuzzUnblockKey feeds Unblock's parser what an operator (or an admin form)
// might type: it must never panic, accept only keys that name a block, and
// give back a key that parses to itself.
func FuzzUnblockKey(f *testing.F) {
	for _, s := range []string{"+44 7711 12", "44771112", "+0", "+", "+1234567890123456", "2001:db8::1",
		"2001:db8::/48", "::ffff:203.0.113.7", "fe80::1%eth0", "203.0.113.7/24", "gb", "GB", "+44", "+0", "+999",
		"23415", strings.Repeat("x", 300), "\x00", "１２３"} {
		for sc := ScopeRange; sc <= ScopeCountry+1; sc++ {
			f.Add(uint8(sc), s)
		}
	}
	f.Fuzz(func(t *testing.T, scope uint8, key string) {
		k, err := normalizeKey(Scope(scope), key)
		if err != nil {
			return
		}
		if k == "" || len(k) > 2*maxNetwork {
			t.Fatalf("normalizeKey(%d, %q) = %q", scope, key, k)
		}
		again, err := normalizeKey(Scope(scope), k)
		if err != nil || again != k {
			t.Fatalf("normalizeKey(%d, %q) = %q, which normalizes to %q, %v", scope, key, k, again, err)
		}
		switch Scope(scope) {
		case ScopeRange:
			if k[0] != '+' || k[1] == '0' || strings.Trim(k[1:], "0123456789") != "" {
				t.Fatalf("range key %q", k)
			}
		case ScopeCountry:
			if len(k) < 2 || len(k) > 4 {
				t.Fatalf("country key %q", k)
			}
		}
	})
}
