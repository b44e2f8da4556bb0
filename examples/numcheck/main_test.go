package main

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestNumcheck(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		exit     int
		contains []string // substrings of stdout, in order
		stderr   string
	}{
		{
			name: "README job",
			args: []string{"-policy", "moderate", "-channel", "sms", "+14155552671", "+18762345678", "+37120012345"},
			exit: exitDenied,
			contains: []string{
				"INPUT", "E164", "REGION", "TYPE", "RESULT", "REASON", "RULE", "SOURCE",
				"+14155552671", "US", "FIXED_LINE_OR_MOBILE", "allowed",
				"+18762345678", "JM", "MOBILE", "denied", "high_risk_destination", "+1876 Jamaica", "https://www.twilio.com/docs/usage/anti-fraud-developer-guide",
				"+37120012345", "LV", "MOBILE", "denied", "high_risk_destination", "+371 Latvia",
			},
		},
		{
			name:     "all allowed",
			args:     []string{"+14155552671", "+44 7400 123456"},
			exit:     exitAllowed,
			contains: []string{"+14155552671", "allowed", "+447400123456", "GB", "MOBILE", "allowed"},
		},
		{
			name:     "stdin with national format",
			args:     []string{"-region", "us"},
			stdin:    "# users table\n(415) 555-2671\n\n  +1 900 234 5678  \ncall me\n",
			exit:     exitDenied,
			contains: []string{"(415) 555-2671", "+14155552671", "allowed", "+19002345678", "PREMIUM_RATE", "denied", "high_risk_destination", "call me", "invalid", "invalid_character"},
		},
		{
			name:     "voice channel",
			args:     []string{"-channel", "voice", "+442079460018", "+33884012345"},
			exit:     exitDenied,
			contains: []string{"+442079460018", "FIXED_LINE", "allowed", "+33884012345", "SHARED_COST", "denied", "type_denied"},
		},
		{
			name:     "sms verification policy",
			args:     []string{"-policy", "sms", "-allow", "US,CA", "+15062345678", "+447400123456"},
			exit:     exitDenied,
			contains: []string{"+15062345678", "CA", "allowed", "+447400123456", "denied", "region_denied", "region allow-list US CA [GB]"},
		},
		{
			name:     "vanity",
			args:     []string{"-vanity", "-region", "US", "-channel", "voice", "1-800-FLOWERS"},
			exit:     exitAllowed,
			contains: []string{"1-800-FLOWERS", "+18003569377", "TOLL_FREE", "allowed"},
		},
		{
			name:     "mask",
			args:     []string{"-mask", "+447400123456"},
			exit:     exitAllowed,
			contains: []string{"+44******3456", "+44******3456", "GB"},
		},
		{
			name:     "control characters are quoted",
			args:     []string{"\u202e+1 415 555 2671"},
			exit:     exitDenied,
			contains: []string{`"\u202e+1 415 555 2671"`, "invalid", "invalid_character", "control or invisible formatting character U+202E"},
		},
		{name: "unknown policy", args: []string{"-policy", "lax", "+14155552671"}, exit: exitUsage, stderr: "unknown policy"},
		{name: "unknown channel", args: []string{"-channel", "fax", "+14155552671"}, exit: exitUsage, stderr: "unknown channel"},
		{name: "unknown region", args: []string{"-region", "XX", "+14155552671"}, exit: exitUsage, stderr: "unknown region"},
		{name: "sms without allow", args: []string{"-policy", "sms", "+14155552671"}, exit: exitUsage, stderr: "needs -allow"},
		{name: "allow without sms", args: []string{"-allow", "US", "+14155552671"}, exit: exitUsage, stderr: "-allow only"},
		{name: "bad allow region", args: []string{"-policy", "sms", "-allow", "US,XX"}, exit: exitUsage, stderr: "unknown region"},
		{name: "unknown flag", args: []string{"-bogus"}, exit: exitUsage, stderr: "flag provided but not defined"},
		{name: "help", args: []string{"-h"}, exit: exitAllowed, stderr: "usage: numcheck"},
		{name: "line too long", stdin: strings.Repeat("1", 100<<10), exit: exitUsage, stderr: "token too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			exit := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if exit != tt.exit {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", exit, tt.exit, &stdout, &stderr)
			}
			out := stdout.String()
			for _, want := range tt.contains {
				i := strings.Index(out, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, stdout.String())
				}
				out = out[i+len(want):]
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderr)
			}
		})
	}
}

func TestNumcheckCSV(t *testing.T) {
	var stdout, stderr bytes.Buffer
	exit := run([]string{"-csv", "+14155552671", "+18762345678", "not a number"}, nil, &stdout, &stderr)
	if exit != exitDenied {
		t.Fatalf("exit %d: %s", exit, &stderr)
	}
	recs, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"input", "e164", "region", "type", "result", "reason", "rule", "entry", "source"},
		{"+14155552671", "+14155552671", "US", "FIXED_LINE_OR_MOBILE", "allowed", "allowed", "-", "", "-"},
	}
	if len(recs) != 4 {
		t.Fatalf("%d records: %v", len(recs), recs)
	}
	for i, w := range want {
		if strings.Join(recs[i], "|") != strings.Join(w, "|") {
			t.Errorf("record %d = %q, want %q", i, recs[i], w)
		}
	}
	if r := recs[2]; r[2] != "JM" || r[4] != "denied" || r[5] != "high_risk_destination" || !strings.HasPrefix(r[7], "+1876 Jamaica (JM)") || !strings.HasPrefix(r[8], "https://") {
		t.Errorf("Jamaica record %q", r)
	}
	if r := recs[3]; r[4] != "invalid" || r[5] != "invalid_character" {
		t.Errorf("invalid record %q", r)
	}
}
