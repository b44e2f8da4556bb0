package main

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// recorder keeps what the dashboard draws: the codes sent and confirmed and
// the requests refused, as a bounded ring of events in the memory of this
// process (a real app would read its metrics store instead; /metrics is
// what an operator scrapes).
//
// Events keep whole numbers, so that sends can be counted by any range the
// monitor blocks; the pages only ever show them masked, or as ranges that
// hide their last digits.
type recorder struct {
	now func() time.Time

	mu     sync.Mutex
	events []event // a ring of at most maxEvents
	next   int
}

type eventKind uint8

const (
	evSent eventKind = iota + 1
	evConfirmed
	evRefused
)

// event is one thing the dashboard counts.
type event struct {
	t       time.Time
	kind    eventKind
	channel numbers.Channel
	e164    string // "" when the request had no usable number
	region  string
	reason  string  // why a request was refused
	route   string  // where it was refused
	cost    float64 // what a send cost, at the example's prices
}

const maxEvents = 50000

func newRecorder(now func() time.Time) *recorder {
	if now == nil {
		now = time.Now
	}
	return &recorder{now: now}
}

func (r *recorder) add(e event) {
	e.t = r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) < maxEvents {
		r.events = append(r.events, e)
		return
	}
	r.events[r.next] = e
	r.next = (r.next + 1) % maxEvents
}

func (r *recorder) sent(n numbers.Number, ch numbers.Channel, cost float64) {
	r.add(event{kind: evSent, channel: ch, e164: n.E164, region: n.Region, cost: cost})
}

func (r *recorder) confirmed(n numbers.Number) {
	r.add(event{kind: evConfirmed, e164: n.E164, region: n.Region})
}

func (r *recorder) refused(n numbers.Number, ch numbers.Channel, route, reason string) {
	r.add(event{kind: evRefused, channel: ch, e164: n.E164, region: n.Region, route: route, reason: reason})
}

// since returns the events from t on, oldest first.
func (r *recorder) since(t time.Time) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event
	for i := range r.events {
		e := r.events[(r.next+i)%len(r.events)]
		if !e.t.Before(t) {
			out = append(out, e)
		}
	}
	return out
}

// series is counts per time bucket.
type series struct {
	sent, confirmed []int
}

// window is the span the dashboard shows, cut into buckets.
type window struct {
	end     time.Time
	span    time.Duration
	buckets int
}

func (w window) start() time.Time { return w.end.Add(-w.span) }

// bucket returns the bucket of t, or -1 when t is outside the window.
func (w window) bucket(t time.Time) int {
	d := t.Sub(w.start())
	if d < 0 || t.After(w.end) {
		return -1
	}
	return min(int(d*time.Duration(w.buckets)/w.span), w.buckets-1)
}

func newSeries(n int) *series { return &series{sent: make([]int, n), confirmed: make([]int, n)} }

func (s *series) add(w window, e event) {
	b := w.bucket(e.t)
	if b < 0 {
		return
	}
	switch e.kind {
	case evSent:
		s.sent[b]++
	case evConfirmed:
		s.confirmed[b]++
	}
}

func (s *series) totals() (sent, confirmed int) {
	for i := range s.sent {
		sent += s.sent[i]
		confirmed += s.confirmed[i]
	}
	return sent, confirmed
}

// countrySeries is one country's sends and confirmations.
type countrySeries struct {
	Region string
	*series
}

// byCountry returns the series of the countries of events, at most limit
// of them: those with the most unconfirmed sends first (where pumping
// shows), then the busiest.
func byCountry(w window, events []event, limit int) []countrySeries {
	m := map[string]*series{}
	for _, e := range events {
		if e.kind != evSent && e.kind != evConfirmed {
			continue
		}
		region := e.region
		if region == "" {
			region = "other"
		}
		s := m[region]
		if s == nil {
			s = newSeries(w.buckets)
			m[region] = s
		}
		s.add(w, e)
	}
	out := make([]countrySeries, 0, len(m))
	for r, s := range m {
		out = append(out, countrySeries{r, s})
	}
	slices.SortFunc(out, func(a, b countrySeries) int {
		as, ac := a.totals()
		bs, bc := b.totals()
		if au, bu := max(as-ac, 0), max(bs-bc, 0); au != bu {
			return bu - au
		}
		if as != bs {
			return bs - as
		}
		return strings.Compare(a.Region, b.Region)
	})
	return out[:min(limit, len(out))]
}

// inRange returns the series of the sends and confirmations to numbers that
// start with prefix ("+" and digits).
func inRange(w window, events []event, prefix string) *series {
	s := newSeries(w.buckets)
	for _, e := range events {
		if strings.HasPrefix(e.e164, prefix) {
			s.add(w, e)
		}
	}
	return s
}

// reasonCount is how often requests were refused for one reason.
type reasonCount struct {
	Reason string
	Count  int
}

// refusals counts the refusals of events by reason, most frequent first.
func refusals(events []event) []reasonCount {
	m := map[string]int{}
	for _, e := range events {
		if e.kind == evRefused {
			m[e.reason]++
		}
	}
	out := make([]reasonCount, 0, len(m))
	for r, n := range m {
		out = append(out, reasonCount{r, n})
	}
	slices.SortFunc(out, func(a, b reasonCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return out
}

// lastRefused returns the n most recent refusals of events, newest first.
func lastRefused(events []event, n int) []event {
	var out []event
	for i := len(events) - 1; i >= 0 && len(out) < n; i-- {
		if events[i].kind == evRefused {
			out = append(out, events[i])
		}
	}
	return out
}

// spent sums what the sends of events cost.
func spent(events []event) float64 {
	var sum float64
	for _, e := range events {
		if e.kind == evSent {
			sum += e.cost
		}
	}
	return sum
}
