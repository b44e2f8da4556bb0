package redisstore

import (
	"encoding/binary"
	"fmt"
	"math"
)

// state is a decoded key value, in microseconds, for tests; PX is the
// PXAT it says the key has, in ms.
type state struct {
	TAT, PTAT, BoxUntil, Level, Expire, PX int64
}

// decodeState decodes a value written by takeLua.
func decodeState(v []byte) (state, error) {
	f := func(i int) int64 {
		return int64(math.Float64frombits(binary.LittleEndian.Uint64(v[8*i:])))
	}
	switch len(v) {
	case 8:
		t := f(0)
		return state{TAT: t, Expire: t}, nil
	case 16:
		t := f(0)
		return state{TAT: t, Expire: t, PX: f(1)}, nil
	case 40:
		return state{TAT: f(0), PTAT: f(1), BoxUntil: f(2), Level: f(3), Expire: f(4)}, nil
	case 48:
		return state{TAT: f(0), PTAT: f(1), BoxUntil: f(2), Level: f(3), Expire: f(4), PX: f(5)}, nil
	}
	return state{}, fmt.Errorf("redisstore: state of %d bytes", len(v))
}
