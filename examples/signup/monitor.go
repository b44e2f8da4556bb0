package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/antifraud-go/antifraud/guard/pumping"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// monitor is the pumping monitor (guard/pumping) as the app uses it: its
// counters ride in verify's take, its range blocks reach the number policy
// through its Blocklist, and the dashboard lists its blocks with the
// decisions behind them.
type monitor struct {
	m *pumping.Monitor
}

// block is a block in force, with the decision that put it there.
type block struct {
	Scope, Key string
	Signal     string
	Strike     int
	Until      time.Time
	Shadow     bool
	// From the decision, when it is still remembered:
	Decided   time.Time
	Level     int
	Threshold int
	Learnt    int
	Region    string
	Masked    string // the number of the send that tripped it, masked
}

func newMonitor(lim *ratelimit.Limiter, shadow bool, onDecision func(scope, signal string), logger *slog.Logger) (*monitor, error) {
	m, err := pumping.New(lim, pumping.Config{
		Shadow:     shadow,
		OnDecision: func(d pumping.Decision) { onDecision(d.Scope.String(), string(d.Signal)) },
		Logger:     logger,
	})
	if err != nil {
		return nil, err
	}
	return &monitor{m: m}, nil
}

func (m *monitor) available() bool { return true }

// blocklist is where range blocks go: the number policy consults it.
func (m *monitor) blocklist() *numbers.PrefixSet { return m.m.Blocklist() }

// verify is the monitor as verify.Config.Monitor takes it.
func (m *monitor) verify() verify.Monitor { return m.m.ForVerify() }

// blocks lists the blocks in force, each with its latest decision.
func (m *monitor) blocks() []block {
	decisions := m.m.Decisions() // oldest first
	var out []block
	for _, b := range m.m.Blocks() {
		v := block{Scope: b.Scope.String(), Key: b.Key, Signal: string(b.Signal), Strike: b.Strike, Until: b.Until, Shadow: b.Shadow}
		for i := len(decisions) - 1; i >= 0; i-- {
			if d := decisions[i]; d.Scope == b.Scope && d.Key == b.Key {
				v.Decided, v.Level, v.Threshold, v.Learnt = d.Time, d.Level, d.Threshold, d.Baseline.Learnt
				v.Region, v.Masked = d.Region, d.Masked
				break
			}
		}
		out = append(out, v)
	}
	return out
}

// unblock lifts the block of key in scope ("range", "address", "network"
// or "country").
func (m *monitor) unblock(ctx context.Context, scope, key string) (bool, error) {
	for _, s := range []pumping.Scope{pumping.ScopeRange, pumping.ScopeAddress, pumping.ScopeNetwork, pumping.ScopeCountry} {
		if s.String() == scope {
			return m.m.Unblock(ctx, s, key)
		}
	}
	return false, fmt.Errorf("unknown scope %q", scope)
}
