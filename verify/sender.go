package verify

import (
	"context"

	"github.com/antifraud-go/antifraud/numbers"
)

// SendRequest is what a [Sender] needs to send a code.
type SendRequest struct {
	// To is the destination: a phone number in E.164 form, or an email
	// address for the Email channel. The Service passes numbers it has
	// parsed and checked; senders do not check them again.
	To string
	// Channel is how to send the code: numbers.SMS, numbers.Voice (a call),
	// numbers.WhatsApp or numbers.Email.
	Channel numbers.Channel
	// Locale optionally chooses the message language: a tag of Twilio
	// Verify's supported languages, such as "en" or "pt-BR", as the Service
	// passes it (checked and case-normalised). Empty lets the provider
	// choose from the number.
	Locale string
}

// Sender sends one-time codes and checks them. Implementations must be safe
// for concurrent use and must give up when ctx is done.
//
// The implementations here are [TwilioSender] (Twilio Verify) and
// [UnsafeLocalSender] (development only). A Sender does no policy or rate
// limiting of its own: use a [Service] in front of it.
type Sender interface {
	// SendCode sends a code to req.To over req.Channel. Sending again to a
	// number with a pending verification may send the same code again.
	SendCode(ctx context.Context, req SendRequest) error
	// CheckCode returns nil only when code is the right code for the
	// pending verification of to, which it then consumes. A wrong code is
	// an error wrapping [ErrInvalidCode]; no pending verification is
	// [ErrExpired]; too many wrong codes is [ErrTooManyAttempts].
	CheckCode(ctx context.Context, to, code string) error
}
