package sanitize_test

import (
	"strings"
	"testing"
)

// TestStripPeeledLayers: text built so that each removal reveals another
// number ("OI0800-X" repeated: vanity letters that join into a new number
// once their neighbour is replaced) is stripped in a bounded number of
// rounds, and what is left has nothing Find would find.
func TestStripPeeledLayers(t *testing.T) {
	p := mustPolicy()
	for _, text := range []string{
		"OI0800-XOI0800-XOI0800-XOI0800-XXOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-XOI0800-",
		"call " + strings.Repeat("OI0800-X", 200),
	} {
		out, fs := p.Strip(text)
		if left := p.Find(out); len(left) > 0 {
			t.Errorf("Strip(%q) = %q leaves %v", text, out, left)
		}
		if again, _ := p.Strip(out); again != out {
			t.Errorf("not idempotent: %q -> %q", out, again)
		}
		if len(fs) == 0 {
			t.Errorf("Strip(%q) removed nothing", text)
		}
		for _, f := range fs {
			if f.Text != text[f.Start:f.End] {
				t.Errorf("finding %+v: Text is not text[Start:End]", f)
			}
		}
	}
}
