// Command numcheck checks phone numbers against a numbers.Policy and prints
// one line per number: the input, its E.164 form, region and type, whether
// the policy allows it, the reason code, the rule that fired and that rule's
// source.
//
// Numbers come from the arguments or, when there are none, from standard
// input, one per line (blank lines and lines starting with '#' are skipped).
// Use it to audit the numbers already stored in a user table before turning
// a policy on, or to gate a script:
//
//	go run ./examples/numcheck -channel voice +14155552671 +18762345678
//	psql -Atc 'select phone from users' | go run ./examples/numcheck -region US -csv > audit.csv
//
// Flags:
//
//	-region R    region for numbers in national format, such as US
//	-policy P    moderate (default), or sms (SMS verification; needs -allow)
//	-allow L     comma-separated regions for -policy sms, such as US,CA
//	-channel C   sms (default), voice or whatsapp
//	-vanity      accept vanity numbers such as 1-800-FLOWERS
//	-csv         write CSV instead of aligned columns
//	-mask        mask the numbers in the output (+44******0123)
//
// Exit status: 0 when every number is allowed, 1 when any is denied or cannot
// be parsed, 2 on usage errors.
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/nyaruka/phonenumbers/v2"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitAllowed = 0
	exitDenied  = 1
	exitUsage   = 2
)

type config struct {
	region  string
	policy  *numbers.Policy
	channel numbers.Channel
	parse   []numbers.ParseOption
	csv     bool
	mask    bool
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, inputs, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitAllowed
	}
	if err != nil {
		fmt.Fprintln(stderr, "numcheck:", err)
		return exitUsage
	}
	out := newWriter(stdout, cfg.csv)
	out.header()
	denied := false
	check := func(s string) {
		if !cfg.check(s, out) {
			denied = true
		}
	}
	if len(inputs) > 0 {
		for _, s := range inputs {
			check(s)
		}
	} else {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 4096), 64<<10)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			check(line)
		}
		if err := sc.Err(); err != nil {
			out.flush()
			fmt.Fprintln(stderr, "numcheck: reading standard input:", err)
			return exitUsage
		}
	}
	if err := out.flush(); err != nil {
		fmt.Fprintln(stderr, "numcheck:", err)
		return exitUsage
	}
	if denied {
		return exitDenied
	}
	return exitAllowed
}

func parseFlags(args []string, stderr io.Writer) (*config, []string, error) {
	fs := flag.NewFlagSet("numcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: numcheck [flags] [number ...]   (numbers from standard input when none are given)")
		fs.PrintDefaults()
	}
	region := fs.String("region", "", "region for numbers in national format, such as US")
	policy := fs.String("policy", "moderate", "policy: moderate, or sms (SMS verification; needs -allow)")
	allow := fs.String("allow", "", "comma-separated regions for -policy sms, such as US,CA")
	channel := fs.String("channel", "sms", "channel: sms, voice or whatsapp")
	vanity := fs.Bool("vanity", false, "accept vanity numbers such as 1-800-FLOWERS")
	asCSV := fs.Bool("csv", false, "write CSV")
	mask := fs.Bool("mask", false, "mask the numbers in the output")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg := &config{region: strings.ToUpper(*region), csv: *asCSV, mask: *mask}
	if cfg.region != "" && !phonenumbers.GetSupportedRegions()[cfg.region] {
		return nil, nil, fmt.Errorf("unknown region %q", *region)
	}
	ch, err := numbers.ParseChannel(*channel)
	if err != nil {
		return nil, nil, err
	}
	cfg.channel = ch
	switch *policy {
	case "moderate":
		cfg.policy = numbers.ModeratePolicy()
	case "sms":
		if *allow == "" {
			return nil, nil, errors.New("-policy sms needs -allow, such as -allow US,CA")
		}
		cfg.policy, err = numbers.SMSVerificationPolicy(strings.Split(*allow, ",")...)
		if err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("unknown policy %q (want moderate or sms)", *policy)
	}
	if *allow != "" && *policy != "sms" {
		return nil, nil, errors.New("-allow only goes with -policy sms")
	}
	if *vanity {
		cfg.parse = append(cfg.parse, numbers.AllowVanity())
	}
	return cfg, fs.Args(), nil
}

// check checks one input, writes its line and reports whether it is allowed.
func (c *config) check(input string, out *writer) bool {
	r := row{input: input, e164: "-", region: "-", typ: "-", result: "denied", rule: "-", source: "-"}
	if c.mask {
		r.input = numbers.Mask(input)
	}
	n, err := numbers.Parse(input, c.region, c.parse...)
	if err != nil {
		r.result = "invalid"
		r.reason = string(numbers.ReasonNotANumber)
		var pe *numbers.ParseError
		if errors.As(err, &pe) {
			r.reason = string(pe.Reason)
		}
		r.rule = strings.TrimPrefix(err.Error(), "numbers: ")
		out.write(r)
		return false
	}
	d := c.policy.Check(n, c.channel)
	r.reason = string(d.Reason)
	r.e164 = n.E164
	if c.mask {
		r.e164 = n.String()
	}
	if n.Region != "" {
		r.region = n.Region
	}
	r.typ = n.Type().String()
	if d.Allowed {
		r.result = "allowed"
	}
	if d.Rule != "" {
		r.rule = d.Rule
	}
	r.entry = d.Entry
	if d.Source != "" {
		r.source = d.Source
	}
	out.write(r)
	return d.Allowed
}

type row struct {
	input, e164, region, typ, result, reason, rule, entry, source string
}

// writer writes rows as aligned columns or as CSV.
type writer struct {
	tw   *tabwriter.Writer
	cw   *csv.Writer
	rows int
}

// flushEvery bounds how many rows the column writer holds to align them, so
// that a long standard input streams (columns may shift between blocks; use
// -csv for machines).
const flushEvery = 1000

func newWriter(w io.Writer, asCSV bool) *writer {
	if asCSV {
		return &writer{cw: csv.NewWriter(w)}
	}
	return &writer{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
}

func (w *writer) header() {
	if w.cw != nil {
		w.cw.Write([]string{"input", "e164", "region", "type", "result", "reason", "rule", "entry", "source"})
		return
	}
	fmt.Fprintln(w.tw, "INPUT\tE164\tREGION\tTYPE\tRESULT\tREASON\tRULE\tSOURCE")
}

func (w *writer) write(r row) {
	if w.cw != nil {
		w.cw.Write([]string{r.input, r.e164, r.region, r.typ, r.result, r.reason, r.rule, r.entry, r.source})
		return
	}
	if w.rows++; w.rows%flushEvery == 0 {
		w.tw.Flush()
	}
	rule := r.rule
	if r.entry != "" {
		rule += " [" + r.entry + "]"
	}
	fmt.Fprintf(w.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", display(r.input), r.e164, r.region, r.typ, r.result, r.reason, rule, r.source)
}

func (w *writer) flush() error {
	if w.cw != nil {
		w.cw.Flush()
		return w.cw.Error()
	}
	return w.tw.Flush()
}

// display quotes input that holds control, bidi or other invisible
// characters, so that the output shows what was there and a terminal does
// not act on it.
func display(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) || r == '\t' {
			return strconv.Quote(s)
		}
	}
	return s
}
