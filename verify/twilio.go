package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/antifraud-go/antifraud/internal/twilioctx"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// Twilio error codes the senders map onto this package's errors.
const (
	twilioNotFound           = 20404
	twilioTooManyRequests    = 20429
	twilioInvalidParameter   = 60200
	twilioMaxCheckAttempts   = 60202
	twilioMaxSendAttempts    = 60203
	twilioConcurrentRequests = 60212
	twilioFraudGuard         = 60410
	twilioGeoPermission      = 60605
)

// Retry-after values for provider limits, which Twilio's error body does not
// carry.
const (
	// twilioSendWindow is Verify's window for 5 sends to one number and
	// the lifetime of a verification.
	twilioSendWindow = 10 * time.Minute
	// twilioShortRetry is for account-level throttling (20429) and
	// concurrent starts for one number (60212), which clear in moments.
	twilioShortRetry = time.Second
)

const (
	opSend  = "send"
	opCheck = "check"
)

// TwilioSender sends and checks codes with Twilio Verify (the v2 API), through
// twilio-go. It is safe for concurrent use.
//
// # Context
//
// twilio-go's requests take no context. For each call, TwilioSender copies
// the twilio-go *client.Client (a shallow copy sharing credentials and
// transport) and gives the copy an http.Client whose transport runs the
// request under the call's context, so a deadline or a cancellation ends the
// HTTP request and the reading of its answer. The client's own timeout
// (http.Client.Timeout, 10 s when it has no http.Client) still applies, as
// part of that context.
//
// A client.BaseClient that is not a *client.Client cannot be bound to a
// context: the call then runs in a goroutine and SendCode or CheckCode
// returns when ctx is done, while the abandoned request runs on until the
// client's own timeout.
//
// # Errors
//
// Twilio's answers map onto this package's errors; every one unwraps to a
// [*ProviderError] with the Twilio code:
//
//	60200 invalid parameter        send: ErrInvalidNumber; check: ErrInvalidCode
//	60202 max check attempts       *LimitError (ErrTooManyAttempts), retry after 10 minutes
//	60203 max send attempts        *LimitError (ErrRateLimited), retry after 10 minutes
//	60212 concurrent requests      *LimitError (ErrRateLimited), retry after 1 second
//	20429 too many requests        *LimitError (ErrRateLimited), retry after 1 second
//	60410 Fraud Guard prefix block *BlockedError, Reason "fraud_guard"
//	60605 geo permission           *BlockedError, Reason "geo_permission"
//	20404 not found                check: ErrExpired; send: ErrProvider
//	anything else                  ErrProvider
//
// A check is a success only when Twilio answers status "approved". A wrong
// code comes back as HTTP 200 with status "pending": that is
// [ErrInvalidCode].
type TwilioSender struct {
	service string
	api     *openapi.ApiService
}

// NewTwilioSender returns a sender for the Verify service serviceSID (a
// "VA..." SID) over api: what a *twilio.RestClient holds as VerifyV2, or,
// for a twilio-go client.BaseClient c of your own,
// openapi.NewApiServiceWithClient(c). The edge and region set on api's
// request handler are read on every call. Its errors wrap
// [ErrInvalidConfig].
func NewTwilioSender(api *openapi.ApiService, serviceSID string) (*TwilioSender, error) {
	if api == nil || api.RequestHandler() == nil || api.RequestHandler().Client == nil {
		return nil, fmt.Errorf("%w: nil twilio Verify API service", ErrInvalidConfig)
	}
	if err := checkServiceSID(serviceSID); err != nil {
		return nil, err
	}
	return &TwilioSender{service: serviceSID, api: api}, nil
}

func checkServiceSID(sid string) error {
	if len(sid) != 34 || !strings.HasPrefix(sid, "VA") {
		return fmt.Errorf("%w: Verify service SID must be \"VA\" and 32 characters", ErrInvalidConfig)
	}
	for i := 2; i < len(sid); i++ {
		if !isAlnum(sid[i]) {
			return fmt.Errorf("%w: Verify service SID has a character out of [0-9A-Za-z]", ErrInvalidConfig)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// twilioChannels are Twilio Verify's names of the channels.
var twilioChannels = [...]string{numbers.SMS: "sms", numbers.Voice: "call", numbers.WhatsApp: "whatsapp", numbers.Email: "email"}

// SendCode starts (or resends) a Twilio verification. A channel Twilio
// Verify does not know is [ErrInvalidChannel]; a locale that is not one of
// its languages is [ErrInvalidLocale] (see [StartRequest.Locale]), sent to
// nobody.
func (s *TwilioSender) SendCode(ctx context.Context, req SendRequest) error {
	if int(req.Channel) >= len(twilioChannels) {
		return ErrInvalidChannel
	}
	locale, err := canonicalLocale(req.Locale)
	if err != nil {
		return err
	}
	params := &openapi.CreateVerificationParams{}
	params.SetTo(req.To)
	params.SetChannel(twilioChannels[req.Channel])
	if locale != "" {
		params.SetLocale(locale)
	}
	return s.call(ctx, opSend, func(api *openapi.ApiService) error {
		_, err := api.CreateVerification(s.service, params)
		return err
	})
}

// CheckCode checks code against the pending verification of to. It returns
// nil only when Twilio answers status "approved".
func (s *TwilioSender) CheckCode(ctx context.Context, to, code string) error {
	if code == "" {
		return ErrInvalidCode
	}
	params := &openapi.CreateVerificationCheckParams{}
	params.SetTo(to)
	params.SetCode(code)
	var status string
	err := s.call(ctx, opCheck, func(api *openapi.ApiService) error {
		res, err := api.CreateVerificationCheck(s.service, params)
		if err == nil && res != nil && res.Status != nil {
			status = *res.Status
		}
		return err
	})
	if err != nil {
		return err
	}
	return checkStatus(status)
}

// checkStatus maps the status of a verification check. Only "approved" is
// a success; anything unknown is a wrong code, never a pass.
func checkStatus(status string) error {
	switch status {
	case "approved":
		return nil
	case "max_attempts_reached":
		return &LimitError{RetryAfter: twilioSendWindow, Scope: "attempts"}
	case "expired", "canceled", "deleted":
		return ErrExpired
	default: // "pending", "failed", empty, unknown
		return ErrInvalidCode
	}
}

// call runs fn with an API service bound to ctx, and maps its error.
func (s *TwilioSender) call(ctx context.Context, op string, fn func(*openapi.ApiService) error) error {
	if err := ctx.Err(); err != nil {
		return &ProviderError{Op: op, Err: err}
	}
	handler := s.api.RequestHandler()
	bound, cancel, ok := twilioctx.Bind(ctx, handler.Client)
	if ok {
		defer cancel()
		api := openapi.NewApiService(&client.RequestHandler{Client: bound, Edge: handler.Edge, Region: handler.Region})
		return mapTwilioError(ctx, op, fn(api))
	}
	done := make(chan error, 1)
	go func() { done <- fn(s.api) }()
	select {
	case err := <-done:
		return mapTwilioError(ctx, op, err)
	case <-ctx.Done():
		return &ProviderError{Op: op, Err: ctx.Err()}
	}
}

// mapTwilioError turns a twilio-go error into this package's errors.
func mapTwilioError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	pe := &ProviderError{Op: op, Err: err}
	var rest *client.TwilioRestError
	var v1 *client.RestErrorV1
	switch {
	case errors.As(err, &rest):
		pe.Code, pe.Status, pe.Message = rest.Code, rest.Status, rest.Message
	case errors.As(err, &v1):
		pe.Code, pe.Status, pe.Message = v1.Code, v1.HttpStatusCode, v1.Message
	default:
		if cerr := ctx.Err(); cerr != nil {
			// The caller's context ended the call: make that the cause
			// errors.Is finds, whatever the transport said.
			pe.Err = errors.Join(cerr, err)
		}
		return pe
	}
	switch pe.Code {
	case twilioInvalidParameter:
		if op == opCheck {
			pe.kind = ErrInvalidCode
		} else {
			pe.kind = ErrInvalidNumber
		}
		return pe
	case twilioMaxCheckAttempts:
		pe.kind = ErrTooManyAttempts
		return &LimitError{RetryAfter: twilioSendWindow, Scope: "attempts", Err: pe}
	case twilioMaxSendAttempts:
		pe.kind = ErrRateLimited
		return &LimitError{RetryAfter: twilioSendWindow, Scope: "provider", Err: pe}
	case twilioConcurrentRequests, twilioTooManyRequests:
		pe.kind = ErrRateLimited
		return &LimitError{RetryAfter: twilioShortRetry, Scope: "provider", Err: pe}
	case twilioFraudGuard:
		pe.kind = ErrBlocked
		return &BlockedError{Reason: "fraud_guard", Err: pe}
	case twilioGeoPermission:
		pe.kind = ErrBlocked
		return &BlockedError{Reason: "geo_permission", Err: pe}
	case twilioNotFound:
		if op == opCheck {
			pe.kind = ErrExpired
		}
		return pe
	}
	return pe
}
