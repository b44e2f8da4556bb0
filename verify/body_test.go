package verify

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseInput(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		want              input
		status            int
	}{
		{"json start", "application/json", `{"phone":"+44 7700 900123","channel":"sms"}`, input{Phone: "+44 7700 900123", Channel: "sms"}, 0},
		{"json charset", "application/json; charset=utf-8", `{"phone":"1","code":"123456"}`, input{Phone: "1", Code: "123456"}, 0},
		{"problem+json style suffix", "application/vnd.app+json", `{"email":"a@b.c"}`, input{Email: "a@b.c"}, 0},
		{"json unknown fields ignored", "application/json", `{"phone":"1","extra":[1,2,{}]}`, input{Phone: "1"}, 0},
		{"json null", "application/json", `null`, input{}, 0},
		{"form", "application/x-www-form-urlencoded", "phone=%2B447700900123&channel=call&code=12", input{Phone: "+447700900123", Channel: "call", Code: "12"}, 0},
		{"form first value wins", "application/x-www-form-urlencoded", "phone=1&phone=2", input{Phone: "1"}, 0},
		{"json trailing data", "application/json", `{"phone":"1"} {}`, input{}, http.StatusBadRequest},
		{"json wrong type", "application/json", `{"phone":123}`, input{}, http.StatusBadRequest},
		{"json array", "application/json", `[]`, input{}, http.StatusBadRequest},
		{"json truncated", "application/json", `{"phone":"1`, input{}, http.StatusBadRequest},
		{"json empty", "application/json", ``, input{}, http.StatusBadRequest},
		{"form bad escape", "application/x-www-form-urlencoded", "phone=%zz", input{}, http.StatusBadRequest},
		{"field too long", "application/json", `{"code":"` + strings.Repeat("1", maxFieldBytes+1) + `"}`, input{}, http.StatusBadRequest},
		{"too large", "application/json", `{"phone":"` + strings.Repeat("1", DefaultMaxBodyBytes) + `"}`, input{}, http.StatusRequestEntityTooLarge},
		{"no content type", "", `{}`, input{}, http.StatusUnsupportedMediaType},
		{"text", "text/plain", `phone=1`, input{}, http.StatusUnsupportedMediaType},
		{"multipart", "multipart/form-data; boundary=x", `--x--`, input{}, http.StatusUnsupportedMediaType},
		{"bad media type", "application/json; =", `{}`, input{}, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInput(tt.ctype, strings.NewReader(tt.body), DefaultMaxBodyBytes)
			if tt.status == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			var re *requestError
			if !errors.As(err, &re) || re.status != tt.status {
				t.Fatalf("got %v, want status %d", err, tt.status)
			}
			if p := ProblemFor(err); p.Status != tt.status {
				t.Fatalf("ProblemFor status %d, want %d", p.Status, tt.status)
			}
		})
	}
}

func TestParseInputReadError(t *testing.T) {
	_, err := parseInput("application/json", iotest.ErrReader(errors.New("boom")), DefaultMaxBodyBytes)
	var re *requestError
	if !errors.As(err, &re) || re.status != http.StatusBadRequest {
		t.Fatalf("got %v", err)
	}
}

// FuzzParseInput feeds arbitrary bodies and media types to the parser: it
// must not panic, must never return more than the bound allows, and must
// answer every failure with a 4xx.
func FuzzParseInput(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bodies", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		ctype := "application/json"
		if strings.HasSuffix(name, ".form") {
			ctype = "application/x-www-form-urlencoded"
		}
		f.Add(ctype, b)
	}
	f.Add("application/json; charset=utf-8", []byte(`{"phone":"\ud800","code":"\u0000"}`))
	f.Add("application/x-www-form-urlencoded", []byte("phone=%2B1&phone=2;code=3"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		const limit = 512
		in, err := parseInput(ctype, strings.NewReader(string(body)), limit)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.status < 400 || re.status > 499 {
				t.Fatalf("error %v is not a 4xx request error", err)
			}
			return
		}
		if len(body) > limit {
			t.Fatalf("accepted a %d-byte body over the %d-byte limit", len(body), limit)
		}
		for _, s := range []string{in.Phone, in.Email, in.Channel, in.Code, in.Locale} {
			if len(s) > maxFieldBytes {
				t.Fatalf("field of %d bytes accepted", len(s))
			}
		}
	})
}
