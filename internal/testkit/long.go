package testkit

import "os"

// EnvLong is the environment variable that turns on long test runs (full
// differential tests, key floods); CI sets it.
const EnvLong = "ANTIFRAUD_LONG"

// Long reports whether long test runs are on: EnvLong is set and not "0".
// Without it, tests run a representative sample quickly.
func Long() bool {
	v := os.Getenv(EnvLong)
	return v != "" && v != "0"
}
