// Package core holds what package ratelimit and its store-author package
// ratelimit/gcra share without importing each other the wrong way round:
// gcra imports ratelimit (for Request and Result), so the state type and the
// constants live here, and ratelimit hands gcra its step function through
// the variables below when it is initialized.
//
// It is internal: package gcra documents the contract.
package core

import "time"

// State is the state of one key; see gcra.State, which has the same fields.
type State struct {
	TAT      int64
	PTAT     int64
	BoxUntil int64
	Level    int64
	Expire   int64
}

// Resolution, MaxWindow and MaxKeyLen are documented in package gcra.
const (
	Resolution = time.Microsecond
	MaxWindow  = 10 * 365 * 24 * time.Hour
	MaxKeyLen  = 512
)

// Defaults of a Penalty's Max and Reset.
const (
	DefaultPenaltyMax   = 24 * time.Hour
	DefaultPenaltyReset = 24 * time.Hour
)

// Step and Validate are set by package ratelimit's init to its step and
// validation functions, of types
//
//	func(now int64, reqs []ratelimit.Request, states []State, results []ratelimit.Result) (allowed bool, binding int)
//	func(reqs []ratelimit.Request) error
//
// This package cannot name those types (ratelimit imports it), hence any.
var Step, Validate any

// Interval is a limit's GCRA interval: period/rate truncated to Resolution.
func Interval(rate int, period time.Duration) time.Duration {
	if rate <= 0 || period <= 0 {
		return 0
	}
	return (period / time.Duration(rate)).Truncate(Resolution)
}

// PenaltyInterval is the GCRA interval of a penalty's denial counter.
func PenaltyInterval(after int, within time.Duration) time.Duration {
	return (within / time.Duration(after)).Truncate(Resolution)
}

// PenaltyMax is a penalty's Max with its default applied, never below For.
func PenaltyMax(maxBox, boxFor time.Duration) time.Duration {
	if maxBox == 0 {
		maxBox = DefaultPenaltyMax
	}
	return max(maxBox, boxFor)
}

// PenaltyReset is a penalty's Reset with its default applied.
func PenaltyReset(reset time.Duration) time.Duration {
	if reset == 0 {
		return DefaultPenaltyReset
	}
	return reset
}
