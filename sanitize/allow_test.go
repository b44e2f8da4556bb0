package sanitize_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/sanitize"
)

func TestWithAllow(t *testing.T) {
	p, err := sanitize.NewPolicy(sanitize.WithAllow("example.com", "+14155550100", "72345"), sanitize.WithRegion("US"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		kept bool // the call to action stays in the text
	}{
		{"Your order shipped: https://example.com/orders/42", true},
		{"Sign in at www.example.com", true},
		{"See https://links.example.com/x?y=1#z", true},
		{"See https://EXAMPLE.com:8443/path", true},
		{"Write to support@example.com", true},
		{"Questions? Call +1 415 555 0100", true},
		{"Questions? Call (415) 555-0100", true},
		{"Reply STOP to 72345", true},
		// Not the app's own.
		{"Verify at https://example.com.evil.test/login", false},
		{"Verify at https://notexample.com/login", false},
		{"Verify at https://example.co/login", false},
		{"Call +1 415 555 0199 now", false},
		{"Reply to 72346 now", false},
		{"Write to support@evil.test", false},
		// The app's own domain, dressed up: refused.
		{"Verify at https://example.com@evil.test/login", false},
		{"Verify at hxxps://example[.]com/login", false},
		{"Verify at https://ｅｘａｍｐｌｅ．ｃｏｍ/login", false},
		{"Verify at https://exаmple.com/login", false}, // Cyrillic а
	}
	for _, tt := range tests {
		out, removed := p.Strip(tt.text)
		if kept := out == tt.text; kept != tt.kept {
			t.Errorf("Strip(%q) = %q (removed %d), kept %v, want %v", tt.text, out, len(removed), kept, tt.kept)
		}
		if err := p.Check(tt.text); (err == nil) != tt.kept {
			t.Errorf("Check(%q) = %v, want allowed %v", tt.text, err, tt.kept)
		}
		if len(p.Find(tt.text)) == 0 {
			t.Errorf("Find(%q) reports nothing: allowed findings are still reported", tt.text)
		}
	}
	// Allowed and foreign in one message: only the foreign one goes.
	out, removed := p.Strip("Track at example.com/t/1 or call 0906 170 1461")
	if !strings.Contains(out, "example.com/t/1") || len(removed) != 1 {
		t.Fatalf("mixed message: %q, removed %v", out, removed)
	}
}

func TestWithAllowConfig(t *testing.T) {
	for _, bad := range []string{"", " ", "+1 415 555 0100", "+999", "12", "123456789", "localhost", "exa mple.com", "-x.com", "http://example.com", "ex_ample.com"} {
		if _, err := sanitize.NewPolicy(sanitize.WithAllow(bad)); !errors.Is(err, sanitize.ErrInvalidConfig) {
			t.Errorf("WithAllow(%q): %v, want ErrInvalidConfig", bad, err)
		}
	}
	if _, err := sanitize.NewPolicy(sanitize.WithAllow("Example.COM.", "+447400123456", "123")); err != nil {
		t.Fatal(err)
	}
}
