package numbers

import (
	"strconv"
	"strings"
)

// Channel is the way a number will be reached. Type rules are set per
// channel: a number that is fine to call may be useless or costly to text.
// The zero value is [SMS].
type Channel uint8

// Channels.
const (
	SMS      Channel = iota // text messages, including verification codes
	Voice                   // phone calls, including voice verification
	WhatsApp                // WhatsApp messages

	numChannels = iota
)

var channelNames = [numChannels]string{SMS: "sms", Voice: "voice", WhatsApp: "whatsapp"}

// String returns "sms", "voice" or "whatsapp".
func (c Channel) String() string {
	if int(c) < len(channelNames) {
		return channelNames[c]
	}
	return "unknown"
}

// ParseChannel reads a channel name, in any case: "sms", "voice" (or "call",
// as Twilio Verify names it) or "whatsapp". The error wraps [ErrConfig].
func ParseChannel(s string) (Channel, error) {
	switch strings.ToLower(s) {
	case "sms":
		return SMS, nil
	case "voice", "call":
		return Voice, nil
	case "whatsapp":
		return WhatsApp, nil
	}
	return 0, configError("unknown channel " + strconv.Quote(s) + ` (want "sms", "voice" or "whatsapp")`)
}
