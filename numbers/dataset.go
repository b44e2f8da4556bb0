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
	"time"

	"github.com/nyaruka/phonenumbers/v2"
)

// Categories of the embedded high-risk dataset, for [DenyDataset] and
// [Entry].Category.
const (
	// CategoryTopTen: the Anti-Fraud Developer's Guide's top ten fraudulent
	// destinations: Latvia, Lithuania, Serbia, Somalia, the two Congos, the
	// Pacific islands (+67x/+68x/+69x), the Caribbean islands (their own
	// calling codes and NANP area codes such as +1 876), Chad, Gambia, Sierra
	// Leone and Guinea.
	CategoryTopTen = "top10"
	// CategoryPremiumRate: premium-rate ranges from libphonenumber's metadata,
	// limited to prefixes that no fixed-line or mobile range shares.
	CategoryPremiumRate = "premium-rate"
	// CategoryNonGeographic: global service calling codes that belong to no
	// country (+800, +808, +870, +878, +881, +882, +883, +888, +979).
	CategoryNonGeographic = "non-geographic"
	// CategorySMSBlocklist: countries that Microsoft Entra External ID and
	// Braze leave out of SMS by default against SMS pumping. Broad (it
	// includes large markets such as +62 Indonesia and +7 Russia); not used by
	// [ModeratePolicy].
	CategorySMSBlocklist = "sms-blocklist"
)

// Entry is a prefix of a [Dataset] or a [PrefixSet], and where it comes
// from.
type Entry struct {
	// Prefix is "+" and the leading E.164 digits it matches, such as "+371"
	// or "+1876". Spaces and dashes are ignored where an Entry is read in.
	Prefix string
	// Category groups the entries of a dataset, such as [CategoryTopTen].
	Category string
	// Regions lists the ISO 3166-1 codes the prefix belongs to ("001" for
	// non-geographic codes), or is empty.
	Regions []string
	// Name is a human-readable name for the destination, or "".
	Name string
	// Note says why the entry is there.
	Note string
	// Source is where the entry comes from: a URL, or the adaptive defense
	// that blocked the prefix. [PrefixSet.Add] sets the set's name when it is
	// empty.
	Source string
	// Expires is when a [PrefixSet] entry ends; the zero time means never.
	// Dataset entries do not expire.
	Expires time.Time
	// Allow makes a [PrefixSet] entry an exception: the numbers under it
	// are not blocked by the shorter entries of the same set (the longest
	// active entry that matches decides). An adaptive defense that blocks
	// a range lets the numbers confirmed in it through this way. Dataset
	// entries cannot allow.
	Allow bool
}

// describe returns a one-line description for decisions, such as
// "+371 Latvia (LV): guide top ten #1 Latvia".
func (e Entry) describe() string {
	s := e.Prefix
	if e.Name != "" {
		s += " " + e.Name
	}
	if len(e.Regions) > 0 {
		s += " (" + strings.Join(e.Regions, " ") + ")"
	}
	if e.Note != "" {
		s += ": " + e.Note
	}
	return s
}

// Dataset is a versioned list of high-risk prefixes, each with its source.
// [HighRisk] returns the one embedded in this package and [ParseDataset]
// reads one; a policy denies a dataset's prefixes with [DenyDataset], which
// copies them, so a Dataset may be changed (extended, filtered) freely
// before it is used and has no effect on policies built from it after.
type Dataset struct {
	// Version names the dataset's release, such as "2026.11.24". It
	// appears in the Rule of decisions.
	Version string
	// Entries are the prefixes, in file order.
	Entries []Entry
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
// Each call returns a new copy. Deny some of its categories with
// [DenyDataset]; load a dataset of your own with [ParseDataset].
func HighRisk() *Dataset {
	d := highRisk()
	out := &Dataset{Version: d.Version, Entries: slices.Clone(d.Entries)}
	for i := range out.Entries {
		out.Entries[i].Regions = slices.Clone(out.Entries[i].Regions)
	}
	return out
}

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
			d.Version = strings.TrimSpace(v)
		}
	}
	if d.Version == "" {
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
		e := Entry{Prefix: rec[0], Category: rec[1], Regions: strings.Fields(rec[2]), Name: rec[3], Note: rec[4], Source: rec[5]}
		line, _ := cr.FieldPos(0)
		if err := e.validate(); err != nil {
			return nil, configError(fmt.Sprintf("dataset line %d: %v", line, err))
		}
		key := [2]string{e.Prefix, e.Category}
		if seen[key] {
			return nil, configError(fmt.Sprintf("dataset line %d: duplicate prefix %s in category %s", line, e.Prefix, e.Category))
		}
		seen[key] = true
		d.Entries = append(d.Entries, e)
	}
	return d, nil
}

// validate checks an entry of a dataset.
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
