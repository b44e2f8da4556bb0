//go:build !unix

package redisstore

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
