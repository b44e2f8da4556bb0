package main

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// The dashboard's charts are SVG written on the server: no front-end build,
// no chart library, nothing from a CDN, and they render with scripts off.
// Colours and fonts come from the style sheet (classes), so the markup
// carries only geometry.

const (
	chartW, chartH = 320, 120
	padL, padR     = 30, 6
	padT, padB     = 10, 20
)

// barChart draws sends and confirmations per bucket of w: a bar of sends,
// the confirmations over it, and a dashed line at each of marks (when
// blocks were decided).
func barChart(label string, s *series, w window, marks []time.Time) template.HTML {
	var b strings.Builder
	top := 1
	for i := range s.sent {
		top = max(top, s.sent[i], s.confirmed[i])
	}
	top = niceCeil(top)
	plotW := float64(chartW - padL - padR)
	plotH := float64(chartH - padT - padB)
	bw := plotW / float64(w.buckets)
	y := func(v int) float64 { return padT + plotH - plotH*float64(v)/float64(top) }

	sent, conf := s.totals()
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s: %d sent, %d confirmed">`,
		chartW, chartH, template.HTMLEscapeString(label), sent, conf)
	fmt.Fprintf(&b, `<title>%s: %d codes sent, %d confirmed</title>`, template.HTMLEscapeString(label), sent, conf)
	// Grid and axis labels.
	for _, v := range []int{top / 2, top} {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, padL-4, y(v)+3, v)
	}
	fmt.Fprintf(&b, `<line class="base" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y(0), y(0))
	for i, t := range []string{"−" + shortDuration(w.span), "−" + shortDuration(w.span/2), "now"} {
		anchor := [...]string{"start", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`,
			padL+plotW*float64(i)/2, chartH-5, anchor, t)
	}
	// Bars: sends, then confirmations over them, slightly narrower.
	for i := range s.sent {
		x := padL + bw*float64(i)
		if v := s.sent[i]; v > 0 {
			fmt.Fprintf(&b, `<rect class="sent" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d sent</title></rect>`,
				x+bw*0.1, y(v), bw*0.8, y(0)-y(v), v)
		}
		if v := s.confirmed[i]; v > 0 {
			fmt.Fprintf(&b, `<rect class="confirmed" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d confirmed</title></rect>`,
				x+bw*0.25, y(v), bw*0.5, y(0)-y(v), v)
		}
	}
	for _, t := range marks {
		if i := w.bucket(t); i >= 0 {
			x := padL + plotW*float64(t.Sub(w.start()))/float64(w.span)
			fmt.Fprintf(&b, `<line class="mark" x1="%.1f" x2="%.1f" y1="%d" y2="%.1f"/>`, x, x, padT, y(0))
			fmt.Fprintf(&b, `<text class="mark-label" x="%.1f" y="%d" text-anchor="end">blocked</text>`, x-3, padT+8)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every value above is a number or escaped
}

// reasonChart draws refusals by reason as horizontal bars.
func reasonChart(rc []reasonCount) template.HTML {
	const rowH, labelW, w = 22, 170, 420
	if len(rc) == 0 {
		return ""
	}
	top := 1
	for _, r := range rc {
		top = max(top, r.Count)
	}
	h := rowH*len(rc) + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart reasons" viewBox="0 0 %d %d" role="img" aria-label="Refusals by reason">`, w, h)
	for i, r := range rc {
		y := i*rowH + 2
		bar := float64(w-labelW-50) * float64(r.Count) / float64(top)
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+15, template.HTMLEscapeString(reasonLabel(r.Reason)))
		fmt.Fprintf(&b, `<rect class="refused" x="%d" y="%d" width="%.1f" height="%d" rx="2"/>`, labelW, y+3, max(bar, 2), rowH-8)
		fmt.Fprintf(&b, `<text class="count" x="%.1f" y="%d">%d</text>`, float64(labelW)+max(bar, 2)+6, y+15, r.Count)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// meter draws spend against a budget.
func meter(spent, budget float64, tripped bool) template.HTML {
	const w, h = 320, 26
	frac := 0.0
	if budget > 0 {
		frac = min(spent/budget, 1)
	}
	class := "spend"
	if tripped {
		class = "spend tripped"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart meter" viewBox="0 0 %d %d" role="img" aria-label="spent %.2f of %.2f">`, w, h, spent, budget)
	fmt.Fprintf(&b, `<rect class="track" x="0" y="4" width="%d" height="18" rx="4"/>`, w)
	fmt.Fprintf(&b, `<rect class="%s" x="0" y="4" width="%.1f" height="18" rx="4"/>`, class, float64(w)*frac)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds n up to 2, 4 or 6 times a power of ten, or a power of
// ten past 1: a top whose half is a whole number.
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{2, 4, 6, 10} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}

// shortDuration writes d briefly: "10m", "1h".
func shortDuration(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	if d >= time.Minute {
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Second)) + "s"
}
