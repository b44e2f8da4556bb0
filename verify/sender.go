package verify

import (
	"context"
	"strings"
)

// Channel is how a code reaches the user.
type Channel string

// Channels understood by the senders in this package. The values are
// Twilio Verify's.
const (
	SMS      Channel = "sms"
	Call     Channel = "call"
	WhatsApp Channel = "whatsapp"
	Email    Channel = "email"
)

// ParseChannel returns the channel named by s (case-insensitive, surrounding
// space ignored), and false when s names none of [SMS], [Call], [WhatsApp] or
// [Email]. The empty string is not a channel: callers choose their default.
func ParseChannel(s string) (Channel, bool) {
	s = strings.TrimSpace(s)
	for _, c := range [...]Channel{SMS, Call, WhatsApp, Email} {
		if strings.EqualFold(s, string(c)) {
			return c, true
		}
	}
	return "", false
}

// Phone reports whether the channel sends to a phone number (all but
// [Email]).
func (c Channel) Phone() bool { return c != Email }

// SendRequest is what a [Sender] needs to send a code.
type SendRequest struct {
	// To is the destination: a phone number in E.164 form, or an email
	// address for the Email channel. The Service passes numbers it has
	// parsed and checked; senders do not check them again.
	To string
	// Channel is how to send the code.
	Channel Channel
	// Locale optionally chooses the message language, such as "en" or
	// "pt-BR". Empty lets the provider choose from the number.
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
