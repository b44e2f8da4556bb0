package guard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/antifraud-go/antifraud/guard"
)

// The endpoint that resets the kill switch answers the office network only.
func ExampleAllowFrom() {
	onlyOffice, err := guard.AllowFrom(nil, "192.0.2.0/24", "2001:db8:1::/48")
	if err != nil {
		panic(err)
	}
	reset := onlyOffice(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "switch reset")
	}))

	for _, from := range []string{"192.0.2.44:51234", "203.0.113.9:40000"} {
		r := httptest.NewRequest(http.MethodPost, "/admin/budget/reset", nil)
		r.RemoteAddr = from
		rec := httptest.NewRecorder()
		reset.ServeHTTP(rec, r)
		fmt.Println(from, rec.Code)
	}
	// Output:
	// 192.0.2.44:51234 200
	// 203.0.113.9:40000 403
}
