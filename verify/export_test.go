package verify

import "strings"

// UseFakeNumbers replaces the numbers policy of s with a fake for tests:
// numbers must be "+" and 8 to 15 digits; "+44" is GB, "+1" is US, others
// have no region; numbers starting "+3712" are blocked with reason
// "premium_rate".
func UseFakeNumbers(s *Service) {
	s.number = func(phone string, ch Channel) (destination, error) {
		phone = strings.ReplaceAll(phone, " ", "")
		if len(phone) < 9 || len(phone) > 16 || phone[0] != '+' {
			return destination{}, ErrInvalidNumber
		}
		for i := 1; i < len(phone); i++ {
			if phone[i] < '0' || phone[i] > '9' {
				return destination{}, ErrInvalidNumber
			}
		}
		d := destination{to: phone, key: "phone:" + phone}
		switch {
		case strings.HasPrefix(phone, "+44"):
			d.region, d.callingCode = "GB", 44
		case strings.HasPrefix(phone, "+1"):
			d.region, d.callingCode = "US", 1
		case strings.HasPrefix(phone, "+371"):
			d.region, d.callingCode = "LV", 371
		}
		if ch != "" && strings.HasPrefix(phone, "+3712") {
			return d, &BlockedError{Reason: "premium_rate", Rule: "prefix:+3712"}
		}
		return d, nil
	}
}
