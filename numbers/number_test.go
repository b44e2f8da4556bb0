package numbers_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
)

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+447700900123", "+44******0123"},
		{"+14155552671", "+1******2671"},
		{"+37121234567", "+371****4567"},
		{"+8823421234", "+882****234"}, // 7 national digits: 3 shown
		{"+2474012", "+247**12"},       // short: half the national number stays hidden
		{"+1", "**"},
		{"", ""},
		{"(415) 555-2671", "**************"},
		{"+1 415 555 2671", "***************"},
		{strings.Repeat("9", 40), strings.Repeat("*", 20)},
	}
	for _, tt := range tests {
		if got := numbers.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNumberHelpers(t *testing.T) {
	n := mustParse(t, "+14155552671")
	if n.NationalNumber != "4155552671" || n.CallingCode != 1 {
		t.Errorf("national %q cc %d", n.NationalNumber, n.CallingCode)
	}
	var zero numbers.Number
	if zero.Type() != numbers.UnknownType || zero.String() != "" {
		t.Error("zero Number helpers")
	}
	// Printing and logging mask the number.
	if s := fmt.Sprint(n); s != "+1******2671" {
		t.Errorf("fmt.Sprint = %q", s)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("sent", "to", n)
	if strings.Contains(buf.String(), "4155552671") || !strings.Contains(buf.String(), "to=+1******2671") {
		t.Errorf("log line %q", buf.String())
	}
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("sent", "to", n)
	if strings.Contains(buf.String(), "4155552671") || !strings.Contains(buf.String(), `"to":"+1******2671"`) {
		t.Errorf("JSON log line %q", buf.String())
	}
}

func TestTypeAndChannelNames(t *testing.T) {
	if numbers.PremiumRate.String() != "PREMIUM_RATE" || numbers.UnknownType.String() != "UNKNOWN" || numbers.Type(99).String() != "Type(99)" {
		t.Error("Type.String")
	}
	for _, tt := range []struct {
		in   string
		want numbers.Channel
	}{{"sms", numbers.SMS}, {"SMS", numbers.SMS}, {"voice", numbers.Voice}, {"call", numbers.Voice}, {"whatsapp", numbers.WhatsApp}} {
		got, err := numbers.ParseChannel(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseChannel(%q) = %v, %v", tt.in, got, err)
		}
		if got.String() != strings.ToLower(tt.in) && tt.in != "call" {
			t.Errorf("String() = %q", got)
		}
	}
	if _, err := numbers.ParseChannel("fax"); err == nil {
		t.Error("ParseChannel(fax) succeeded")
	}
	if numbers.Channel(9).String() != "unknown" {
		t.Error("Channel(9).String()")
	}
}
