package main

import (
	"bytes"
	"io"
	"regexp"
	"sync"
	"time"
)

// devCodes receives what verify's UnsafeLocalSender prints, passes it on to
// the terminal, and keeps the last codes for the developer page, so that the
// flow can be tried in a browser without a terminal in sight. It exists only
// when codes are local: with Twilio Verify nobody but the phone sees a code.
type devCodes struct {
	out io.Writer

	mu    sync.Mutex
	line  []byte
	codes []devCode // newest last, at most maxDevCodes
}

// devCode is one code the local sender printed.
type devCode struct {
	Time    time.Time
	Channel string
	To      string // masked, as the sender prints it
	Code    string
}

const maxDevCodes = 200

// localCodeLine matches the local sender's line for a code:
// "verify: UNSAFE local sender: sms code for +1******0100 is 123456".
var localCodeLine = regexp.MustCompile(`local sender: (\w+) code for (\S+) is (\d+)\s*$`)

func newDevCodes(out io.Writer) *devCodes { return &devCodes{out: out} }

// Write passes p on and records the codes of the complete lines in it.
func (d *devCodes) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.line = append(d.line, p...)
	for {
		i := bytes.IndexByte(d.line, '\n')
		if i < 0 {
			break
		}
		if m := localCodeLine.FindSubmatch(d.line[:i]); m != nil {
			if len(d.codes) == maxDevCodes {
				d.codes = append(d.codes[:0], d.codes[1:]...)
			}
			d.codes = append(d.codes, devCode{Time: time.Now(), Channel: string(m[1]), To: string(m[2]), Code: string(m[3])})
		}
		d.line = d.line[i+1:]
	}
	if len(d.line) > 4096 { // no newline in sight: not the sender's output
		d.line = d.line[:0]
	}
	return d.out.Write(p)
}

// list returns the codes, newest first.
func (d *devCodes) list() []devCode {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]devCode, len(d.codes))
	for i, c := range d.codes {
		out[len(out)-1-i] = c
	}
	return out
}

// latest returns the newest code sent to the masked destination to.
func (d *devCodes) latest(to string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.codes) - 1; i >= 0; i-- {
		if d.codes[i].To == to {
			return d.codes[i].Code, true
		}
	}
	return "", false
}
