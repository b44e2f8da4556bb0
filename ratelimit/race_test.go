//go:build race

package ratelimit

// raceEnabled is set when the race detector runs, which makes atomic
// operations some ten times slower: long tests take a smaller sample.
const raceEnabled = true
