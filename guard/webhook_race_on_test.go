//go:build race

package guard

// webhookRace skips allocation counts, which the race detector changes.
const webhookRace = true
