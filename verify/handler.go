package verify

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// HandlerOption configures a handler returned by [Service.StartHandler] or
// [Service.CheckHandler].
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	maxBody  int64
	clientIP func(*http.Request) netip.Addr
	onError  func(http.ResponseWriter, *http.Request, error)
	approved func(http.ResponseWriter, *http.Request, CheckResult)
}

// WithMaxBodyBytes bounds the request body. The default is
// [DefaultMaxBodyBytes]; larger bodies get 413.
func WithMaxBodyBytes(n int64) HandlerOption {
	return func(c *handlerConfig) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithClientIP sets how the handler learns the client's address. The
// default is the address of the connection (http.Request.RemoteAddr), which
// behind a proxy is the proxy's: then pass a function that reads the
// forwarding header of your trusted proxies only, never one a client can set
// unchecked.
func WithClientIP(f func(*http.Request) netip.Addr) HandlerOption {
	return func(c *handlerConfig) {
		if f != nil {
			c.clientIP = f
		}
	}
}

// WithErrorHandler replaces how the handler answers an error. The default
// writes [ProblemFor](err).
func WithErrorHandler(f func(http.ResponseWriter, *http.Request, error)) HandlerOption {
	return func(c *handlerConfig) {
		if f != nil {
			c.onError = f
		}
	}
}

// WithApproved sets what the check handler does when a code is approved:
// typically mark the number verified in the session and answer. The default
// answers 200 with {"status":"approved"}. It is ignored by the start handler.
func WithApproved(f func(http.ResponseWriter, *http.Request, CheckResult)) HandlerOption {
	return func(c *handlerConfig) {
		if f != nil {
			c.approved = f
		}
	}
}

func newHandlerConfig(opts []HandlerOption) handlerConfig {
	c := handlerConfig{
		maxBody:  DefaultMaxBodyBytes,
		clientIP: remoteAddr,
		onError:  func(w http.ResponseWriter, _ *http.Request, err error) { ProblemFor(err).Write(w) },
		approved: func(w http.ResponseWriter, _ *http.Request, _ CheckResult) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "approved"})
		},
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// remoteAddr is the address of the connection.
func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// startResponse is the body of a successful start.
type startResponse struct {
	Status      string `json:"status"`
	To          string `json:"to"`
	Channel     string `json:"channel"`
	ResendAfter int64  `json:"resend_after"`
}

// StartHandler returns a handler that starts a verification. It accepts a
// POST with a JSON or form body of at most the configured size:
//
//	{"phone": "+44 7700 900123", "channel": "sms"}
//	phone=%2B447700900123&channel=sms
//
// ("email" instead of "phone" for the email channel, and an optional
// "locale"). It answers 202 with {"status":"pending", "to": the masked
// destination, "channel", "resend_after": seconds}, or an RFC 9457 problem
// (see [ProblemFor]).
func (s *Service) StartHandler(opts ...HandlerOption) http.Handler {
	c := newHandlerConfig(opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := readInput(w, r, c.maxBody)
		if err != nil {
			c.onError(w, r, err)
			return
		}
		req := StartRequest{Phone: in.Phone, Email: in.Email, ClientIP: c.clientIP(r), Locale: in.Locale}
		if in.Channel != "" {
			ch, err := numbers.ParseChannel(in.Channel)
			if err != nil {
				c.onError(w, r, ErrInvalidChannel)
				return
			}
			req.Channel = ch
		}
		res, err := s.Start(r.Context(), req)
		if err != nil {
			c.onError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, startResponse{
			Status: "pending", To: res.Masked, Channel: res.Channel.String(),
			ResendAfter: int64(roundUpSecond(res.ResendAfter) / time.Second),
		})
	})
}

// CheckHandler returns a handler that checks a code. It accepts a POST with
// a JSON or form body:
//
//	{"phone": "+44 7700 900123", "code": "123456"}
//
// ("email" instead of "phone" for a code sent by email). On approval it
// calls the WithApproved function, which by default answers 200 with
// {"status":"approved"}; otherwise it answers an RFC 9457 problem.
func (s *Service) CheckHandler(opts ...HandlerOption) http.Handler {
	c := newHandlerConfig(opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := readInput(w, r, c.maxBody)
		if err != nil {
			c.onError(w, r, err)
			return
		}
		res, err := s.Check(r.Context(), CheckRequest{Phone: in.Phone, Email: in.Email, Code: in.Code, ClientIP: c.clientIP(r)})
		if err != nil {
			c.onError(w, r, err)
			return
		}
		c.approved(w, r, res)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
