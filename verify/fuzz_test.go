package verify_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// FuzzHandlers posts arbitrary bodies to the start and check handlers of a
// Service over the local sender: no panic, and every answer is a 2xx with
// JSON or a 4xx problem+json that parses (a limit may fire as the fuzzer
// repeats inputs).
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
		f.Add(false, ctype, b)
		f.Add(true, ctype, b)
	}
	f.Add(false, "application/json", []byte(`{"phone":"+1 415 555 0100","channel":"call"}`))
	f.Add(true, "application/json", []byte(`{"email":"a@example.com","code":"1234"}`))

	sender, err := verify.NewUnsafeLocalSender(verify.LocalConfig{Out: io.Discard})
	if err != nil {
		f.Fatal(err)
	}
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = store.Close(f.Context()) })
	lim, err := ratelimit.New(store)
	if err != nil {
		f.Fatal(err)
	}
	svc, err := verify.New(sender, lim, verify.Config{DefaultRegion: "US", Channels: allChannels})
	if err != nil {
		f.Fatal(err)
	}
	start, check := svc.StartHandler(verify.WithMaxBodyBytes(512)), svc.CheckHandler(verify.WithMaxBodyBytes(512))

	f.Fuzz(func(t *testing.T, isCheck bool, ctype string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h := start
		if isCheck {
			h = check
		}
		h.ServeHTTP(rec, req)
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("status %d, body %q is not JSON: %v", rec.Code, rec.Body, err)
		}
		switch {
		case rec.Code >= 200 && rec.Code < 300:
		case rec.Code >= 400 && rec.Code < 500:
			if rec.Header().Get("Content-Type") != verify.ProblemContentType || v["status"] != float64(rec.Code) {
				t.Fatalf("problem %d: %v %q", rec.Code, rec.Header(), rec.Body)
			}
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body)
		}
	})
}
