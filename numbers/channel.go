package numbers

import (
	"strconv"
	"strings"
)

// Channel is the way a destination will be reached. Type rules are set per
// channel: a number that is fine to call may be useless or costly to text.
// The zero value is [SMS].
//
// The same type names the channel of a verification code in package verify,
// which is why [Email] is here: it is the one channel that reaches no phone
// number, and every [Policy] refuses it.
type Channel uint8

// Channels that reach a phone number. A [Policy] has type rules for each.
const (
	SMS      Channel = iota // text messages, including verification codes
	Voice                   // phone calls, including voice verification ("call" in Twilio Verify)
	WhatsApp                // WhatsApp messages

	numChannels = iota
)

// Email is a code sent to an email address (Twilio Verify's "email"
// channel). It reaches no phone number: [Policy.Check] denies every number
// on it ([ReasonTypeDenied], rule "unknown channel"), and the type options
// refuse it as a channel.
const Email Channel = WhatsApp + 1

var channelNames = [numChannels + 1]string{SMS: "sms", Voice: "voice", WhatsApp: "whatsapp", Email: "email"}

// String returns "sms", "voice", "whatsapp" or "email" ("unknown" for a
// value this package does not define).
func (c Channel) String() string {
	if int(c) < len(channelNames) {
		return channelNames[c]
	}
	return "unknown"
}

// ParseChannel reads a channel name, in any case, with surrounding space
// ignored: "sms", "voice" (or "call", as Twilio Verify names it),
// "whatsapp" or "email". The empty string is not a channel: callers choose
// their default. The error wraps [ErrInvalidConfig].
func ParseChannel(s string) (Channel, error) {
	t := strings.TrimSpace(s)
	for c, name := range channelNames {
		if strings.EqualFold(t, name) {
			return Channel(c), nil
		}
	}
	if strings.EqualFold(t, "call") {
		return Voice, nil
	}
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return 0, configError("unknown channel " + strconv.Quote(s) + ` (want "sms", "voice", "call", "whatsapp" or "email")`)
}
