package numbers_test

import (
	"errors"
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
)

func TestParseChannelNames(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want numbers.Channel
	}{
		{"sms", numbers.SMS}, {" SMS ", numbers.SMS}, {"voice", numbers.Voice}, {"Call", numbers.Voice},
		{"whatsapp", numbers.WhatsApp}, {"WhatsApp", numbers.WhatsApp}, {"email", numbers.Email}, {"EMAIL", numbers.Email},
	} {
		got, err := numbers.ParseChannel(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseChannel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "fax", "sms\x00", "e-mail", "voice call"} {
		if _, err := numbers.ParseChannel(in); !errors.Is(err, numbers.ErrInvalidConfig) {
			t.Errorf("ParseChannel(%q): %v, want an error wrapping ErrInvalidConfig", in, err)
		}
	}
	for c, want := range map[numbers.Channel]string{numbers.SMS: "sms", numbers.Voice: "voice", numbers.WhatsApp: "whatsapp", numbers.Email: "email"} {
		if c.String() != want {
			t.Errorf("%d.String() = %q, want %q", c, c.String(), want)
		}
		if back, err := numbers.ParseChannel(c.String()); err != nil || back != c {
			t.Errorf("ParseChannel(%q) = %v, %v", c.String(), back, err)
		}
	}
}

// Email reaches no phone number: every policy refuses every number on it,
// with a reason, and the type options refuse it as a channel.
func TestPoliciesRefuseEmail(t *testing.T) {
	n, err := numbers.Parse("+14155552671", "")
	if err != nil {
		t.Fatal(err)
	}
	sms, err := numbers.SMSVerificationPolicy("US")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*numbers.Policy{numbers.ModeratePolicy(), sms} {
		if d := p.Check(n, numbers.SMS); !d.Allowed {
			t.Fatalf("SMS to a US mobile refused: %v", d)
		}
		d := p.Check(n, numbers.Email)
		if d.Allowed || d.Reason != numbers.ReasonTypeDenied || d.Rule != "unknown channel" || !errors.Is(d.Err(), numbers.ErrBlocked) {
			t.Errorf("Email: %v, want a denial for the channel", d)
		}
	}
	if _, err := numbers.NewPolicy(numbers.DenyTypes(numbers.Email, numbers.VoIP)); !errors.Is(err, numbers.ErrInvalidConfig) {
		t.Errorf("DenyTypes(Email): %v", err)
	}
}
