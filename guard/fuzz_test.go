package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// FuzzHandlers posts arbitrary bodies of arbitrary media types to the
// phone middleware and to the verify handlers: no panic; the next handler
// gets the body byte for byte; every other answer is a 2xx with JSON or a
// 4xx problem+json that parses (a limit may fire as the fuzzer repeats
// inputs).
func FuzzHandlers(f *testing.F) {
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
		for h := range 3 {
			f.Add(uint8(h), ctype, b)
		}
	}
	f.Add(uint8(0), "multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+447400123456\r\n--b--\r\n"))
	f.Add(uint8(1), "application/json", []byte(`{"phone":"+1 415 555 0100","channel":"call"}`))
	f.Add(uint8(2), "application/json", []byte(`{"email":"a@example.com","code":"1234"}`))

	sender, err := verify.NewUnsafeLocalSender(verify.LocalConfig{Out: io.Discard})
	if err != nil {
		f.Fatal(err)
	}
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = store.Close(context.Background()) })
	lim, err := ratelimit.New(store)
	if err != nil {
		f.Fatal(err)
	}
	svc, err := verify.New(sender, lim, verify.Config{DefaultRegion: "US",
		Channels: []numbers.Channel{numbers.SMS, numbers.Voice, numbers.WhatsApp, numbers.Email}})
	if err != nil {
		f.Fatal(err)
	}
	g, err := guard.New(lim, guard.WithRegion("US"), guard.WithMaxBody(2048))
	if err != nil {
		f.Fatal(err)
	}
	var got []byte
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	handlers := []http.Handler{
		g.Phone("fuzz", numbers.SMS, guard.PerPhone(ratelimit.PerHour(1000)))(next),
		g.VerifyStart(svc),
		g.VerifyCheck(svc, nil),
	}

	f.Fuzz(func(t *testing.T, h uint8, ctype string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		got = nil
		handlers[int(h)%len(handlers)].ServeHTTP(rec, req)
		if rec.Code == http.StatusNoContent {
			if !bytes.Equal(got, body) {
				t.Fatalf("next handler read %q, sent %q", got, body)
			}
			return
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("status %d, body %q is not JSON: %v", rec.Code, rec.Body, err)
		}
		switch {
		case rec.Code >= 200 && rec.Code < 300:
		case rec.Code >= 400 && rec.Code < 500:
			if rec.Header().Get("Content-Type") != "application/problem+json" || v["status"] != float64(rec.Code) {
				t.Fatalf("problem %d: %v %q", rec.Code, rec.Header(), rec.Body)
			}
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body)
		}
	})
}
