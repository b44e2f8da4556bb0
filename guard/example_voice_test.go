package guard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// A call center's voice webhook: two calls an hour per caller, 30 per
// block of 10,000 callers, 10 an hour from withheld numbers, and a block
// list that an operator changes during an attack.
func ExampleCallFlood() {
	store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	limiter, _ := ratelimit.New(store)
	defer limiter.Close(context.Background())

	blocked := &numbers.PrefixSet{Name: "tdos"}
	flood, err := guard.NewCallFlood(limiter, guard.CallFloodConfig{
		PerCaller: ratelimit.PerHour(2),
		PerPrefix: ratelimit.PerHour(30),
		Anonymous: ratelimit.PerHour(10),
		Blocked:   blocked,
	})
	if err != nil {
		panic(err)
	}
	voice := flood.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<Response><Dial>+15005550006</Dial></Response>")
	}))
	// In the app: mux.Handle("POST /twilio/voice", webhook.Handler(voice))

	call := func(from string) {
		form := url.Values{"From": {from}, "To": {"+15005550001"}}
		r := httptest.NewRequest(http.MethodPost, "/twilio/voice", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		voice.ServeHTTP(rec, r)
		fmt.Println(rec.Body.String())
	}
	call("+14155550100")
	call("+14155550100")
	call("+14155550100") // a third time within the hour

	_ = blocked.Add(numbers.Entry{Prefix: "+1876", Note: "inbound pumping"})
	call("+18765550123")
	// Output:
	// <Response><Dial>+15005550006</Dial></Response>
	// <Response><Dial>+15005550006</Dial></Response>
	// <?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>
	// <?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>
}
