package numbers

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers/v2"
)

// Category groups the entries of a [Dataset].
type Category string

// Categories of the embedded high-risk dataset.
const (
	// CategoryTopTen: the Anti-Fraud Developer's Guide's top ten fraudulent
	// destinations: Latvia, Lithuania, Serbia, Somalia, the two Congos, the
	// Pacific islands (+67x/+68x/+69x), the Caribbean islands (their own
	// calling codes and NANP area codes such as +1 876), Chad, Gambia, Sierra
	// Leone and Guinea.
	CategoryTopTen Category = "top10"
	// CategoryPremiumRate: premium-rate ranges from libphonenumber's metadata,
	// limited to prefixes that no fixed-line or mobile range shares.
	CategoryPremiumRate Category = "premium-rate"
	// CategoryNonGeographic: global service calling codes that belong to no
	// country (+800, +808, +870, +878, +881, +882, +883, +888, +979).
	CategoryNonGeographic Category = "non-geographic"
	// CategorySMSBlocklist: countries that Microsoft Entra External ID and
	// Braze leave out of SMS by default against SMS pumping. Broad (it
	// includes large markets such as +62 Indonesia and +7 Russia); not used by
	// [ModeratePolicy].
	CategorySMSBlocklist Category = "sms-blocklist"
)

// Entry is one prefix of a [Dataset] and where it comes from.
type Entry struct {
	// Prefix is "+" and the leading E.164 digits it matches, such as "+371"
	// or "+1876".
	Prefix string
	// Category groups the entry.
	Category Category
	// Regions lists the ISO 3166-1 codes the prefix belongs to ("001" for
	// non-geographic codes).
	Regions []string
	// Name is a human-readable name for the destination.
	Name string
	// Note says why the entry is there.
	Note string
	// Source is where the entry comes from: a URL.
	Source string
}

// String returns a one-line description, such as
// "+371 Latvia (LV): guide top ten #1 Latvia".
func (e Entry) String() string {
	s := e.Prefix + " " + e.Name
	if len(e.Regions) > 0 {
		s += " (" + strings.Join(e.Regions, " ") + ")"
	}
	if e.Note != "" {
		s += ": " + e.Note
	}
	return s
}

// Dataset is an immutable, versioned list of high-risk prefixes, each with
// its source. [HighRisk] returns the one embedded in this package; a policy
// denies a dataset's prefixes with [DenyDataset]. A Dataset is safe for
// concurrent use.
type Dataset struct {
	version string
	entries []Entry
}

//go:embed data/highrisk.csv
var highRiskCSV string

var highRisk = sync.OnceValue(func() *Dataset {
	d, err := ParseDataset(strings.NewReader(highRiskCSV))
	if err != nil {
		panic("numbers: embedded data/highrisk.csv: " + err.Error())
	}
	return d
})

// HighRisk returns the high-risk dataset embedded in this package: the
// guide's top ten fraudulent destinations, premium-rate ranges and
// non-geographic codes from libphonenumber's metadata, and the SMS blocklists
// of Microsoft Entra and Braze (see the Category constants). Every entry
// names its source; data/README.md in the module says how the file was built
// and which labels of the reference material were corrected.
//
// Use [Dataset.Filter] to keep some categories, and [ParseDataset] to load a
// dataset of your own.
func HighRisk() *Dataset { return highRisk() }

// maxDatasetSize bounds what ParseDataset reads.
const maxDatasetSize = 8 << 20

// datasetHeader is the header row of the CSV format.
var datasetHeader = []string{"prefix", "category", "regions", "name", "note", "source"}

// ParseDataset reads a dataset in the CSV format of the embedded one: lines
// starting with '#' are comments, one of which must be "# version: V"; then a
// header row "prefix,category,regions,name,note,source"; then one row per
// entry. Prefixes are "+" and 1 to 15 digits; regions are space-separated
// region codes known to libphonenumber, or "001"; source must not be empty.
// Input larger than 8 MiB is rejected.
func ParseDataset(r io.Reader) (*Dataset, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDatasetSize+1))
	if err != nil {
		return nil, fmt.Errorf("numbers: reading dataset: %w", err)
	}
	if len(data) > maxDatasetSize {
		return nil, configError("dataset larger than 8 MiB")
	}
	d := &Dataset{}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "# version:"); ok {
			d.version = strings.TrimSpace(v)
		}
	}
	if d.version == "" {
		return nil, configError(`dataset has no "# version:" line`)
	}
	cr := csv.NewReader(strings.NewReader(string(data)))
	cr.Comment = '#'
	cr.FieldsPerRecord = len(datasetHeader)
	header, err := cr.Read()
	if err != nil {
		return nil, configError("dataset header: " + err.Error())
	}
	if !slices.Equal(header, datasetHeader) {
		return nil, configError("dataset header must be " + strings.Join(datasetHeader, ","))
	}
	seen := map[[2]string]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, configError("dataset: " + err.Error())
		}
		e := Entry{Prefix: rec[0], Category: Category(rec[1]), Regions: strings.Fields(rec[2]), Name: rec[3], Note: rec[4], Source: rec[5]}
		line, _ := cr.FieldPos(0)
		if err := e.validate(); err != nil {
			return nil, configError(fmt.Sprintf("dataset line %d: %v", line, err))
		}
		key := [2]string{e.Prefix, string(e.Category)}
		if seen[key] {
			return nil, configError(fmt.Sprintf("dataset line %d: duplicate prefix %s in category %s", line, e.Prefix, e.Category))
		}
		seen[key] = true
		d.entries = append(d.entries, e)
	}
	return d, nil
}

func (e Entry) validate() error {
	if _, err := normalizePrefix(e.Prefix); err != nil || !strings.HasPrefix(e.Prefix, "+") {
		return fmt.Errorf("prefix %q is not \"+\" and 1 to 15 digits", e.Prefix)
	}
	if e.Category == "" {
		return errors.New("empty category")
	}
	for _, r := range e.Regions {
		if !knownRegion(r) {
			return fmt.Errorf("unknown region %q", r)
		}
	}
	if e.Source == "" {
		return errors.New("entry without a source")
	}
	return nil
}

// knownRegion reports whether r is a region code libphonenumber knows, or
// "001" for non-geographic numbers.
func knownRegion(r string) bool {
	return r == "001" || phonenumbers.GetSupportedRegions()[r]
}

// Version returns the dataset's version, such as "2026.11.24".
func (d *Dataset) Version() string { return d.version }

// Len returns the number of entries.
func (d *Dataset) Len() int { return len(d.entries) }

// Entries returns a copy of the entries, in file order.
func (d *Dataset) Entries() []Entry {
	out := make([]Entry, len(d.entries))
	for i, e := range d.entries {
		e.Regions = slices.Clone(e.Regions)
		out[i] = e
	}
	return out
}

// Filter returns a dataset with only the entries of the given categories. The
// version is kept.
func (d *Dataset) Filter(categories ...Category) *Dataset {
	out := &Dataset{version: d.version}
	for _, e := range d.entries {
		if slices.Contains(categories, e.Category) {
			out.entries = append(out.entries, e)
		}
	}
	return out
}

// configError is an error that unwraps to ErrConfig.
type configError string

func (e configError) Error() string { return "numbers: " + string(e) }
func (e configError) Unwrap() error { return ErrConfig }
