// Package twiliofake is an in-process fake of the Twilio REST endpoints
// that an account's lock-down uses: accounts and subaccounts (list, fetch,
// suspend), usage triggers (list, create) and voice dialing permissions by
// country. twilio-go clients reach it through a transport that rewrites
// *.twilio.com to the fake and refuses every other host, so tests never
// reach the real Twilio.
//
// It is internal: nothing here is API.
package twiliofake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go/client"
)

// Credentials of the fake's main account.
const (
	AccountSID = "AC00000000000000000000000000000000"
	AuthToken  = "00000000000000000000000000000000"
)

// maxTriggers is Twilio's limit of usage triggers per account.
const maxTriggers = 1000

// Account is an account as the fake keeps it.
type Account struct {
	SID, FriendlyName, Status string
	// Owner is the parent's SID; the main account owns itself.
	Owner string
	// LockedByTwilio makes status changes fail with error 21478, as for an
	// account Twilio suspended.
	LockedByTwilio bool
}

// Trigger is a usage trigger as the fake keeps it.
type Trigger struct {
	SID, AccountSID, FriendlyName                   string
	CallbackURL, CallbackMethod                     string
	UsageCategory, Recurring, TriggerBy, TriggerVal string
}

// Country is a country's voice dialing permissions.
type Country struct {
	ISO, Name, Continent string
	CountryCodes         []string
	// LowRisk, HighRiskSpecial and HighRiskTollFraud are the three
	// permission levels Twilio keeps per country.
	LowRisk, HighRiskSpecial, HighRiskTollFraud bool
}

// SIPDomain is a SIP domain of the main account and how it authenticates
// calls.
type SIPDomain struct {
	SID, Name string
	// Secure is TLS signaling and SRTP media.
	Secure bool
	// IPACLs and CredentialLists count the lists mapped to the domain's
	// call authentication; LegacyIPACLs the IP access control lists of the
	// older domain-level mapping.
	IPACLs, CredentialLists, LegacyIPACLs int
}

// Request is a request the fake received.
type Request struct {
	Method, Host, Path string
	Form               url.Values
	Status             int
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	ts        *httptest.Server
	transport http.RoundTripper

	mu        sync.Mutex
	accounts  []*Account
	triggers  map[string][]*Trigger // by account
	countries []Country
	domains   []SIPDomain
	requests  []Request
	nextSID   int
	failNext  map[string]int // path pattern -> Twilio error code
}

// NewServer starts a fake with the main account alone, no triggers and no
// countries. Call Close when done.
func NewServer() *Server {
	s := &Server{
		accounts: []*Account{{SID: AccountSID, FriendlyName: "Main", Status: "active", Owner: AccountSID}},
		triggers: map[string][]*Trigger{},
		failNext: map[string]int{},
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	target, _ := url.Parse(s.ts.URL)
	s.transport = &rewrite{target: target, next: s.ts.Client().Transport}
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.ts.Close() }

// Client returns a twilio-go client with the main account's credentials,
// wired to the fake.
func (s *Server) Client() *client.Client {
	c := &client.Client{
		Credentials: client.NewCredentials(AccountSID, AuthToken),
		HTTPClient: &http.Client{
			Transport:     s.transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       10 * time.Second,
		},
	}
	c.SetAccountSid(AccountSID)
	return c
}

// AddSubaccount adds a subaccount of the main account and returns its SID.
func (s *Server) AddSubaccount(name, status string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSID++
	sid := fmt.Sprintf("AC%032x", s.nextSID)
	s.accounts = append(s.accounts, &Account{SID: sid, FriendlyName: name, Status: status, Owner: AccountSID})
	return sid
}

// Account returns a copy of the account sid.
func (s *Server) Account(sid string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.account(sid); a != nil {
		return *a, true
	}
	return Account{}, false
}

// LockByTwilio marks an account as suspended by Twilio.
func (s *Server) LockByTwilio(sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.account(sid); a != nil {
		a.LockedByTwilio, a.Status = true, "suspended"
	}
}

// SetCountries sets the voice dialing permissions.
func (s *Server) SetCountries(cs ...Country) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countries = slices.Clone(cs)
}

// AddSIPDomain adds a SIP domain to the main account and returns its SID.
func (s *Server) AddSIPDomain(d SIPDomain) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSID++
	if d.SID == "" {
		d.SID = fmt.Sprintf("SD%032x", s.nextSID)
	}
	s.domains = append(s.domains, d)
	return d.SID
}

// AddTrigger adds a usage trigger to an account.
func (s *Server) AddTrigger(t Trigger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSID++
	if t.SID == "" {
		t.SID = fmt.Sprintf("UT%032x", s.nextSID)
	}
	if t.CallbackMethod == "" {
		t.CallbackMethod = "POST"
	}
	if t.TriggerBy == "" {
		t.TriggerBy = "usage"
	}
	s.triggers[t.AccountSID] = append(s.triggers[t.AccountSID], &t)
}

// Triggers returns copies of the usage triggers of an account.
func (s *Server) Triggers(accountSID string) []Trigger {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Trigger
	for _, t := range s.triggers[accountSID] {
		out = append(out, *t)
	}
	return out
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// FailNext makes the next request whose path contains part fail with the
// Twilio error code.
func (s *Server) FailNext(part string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[part] = code
}

func (s *Server) account(sid string) *Account {
	for _, a := range s.accounts {
		if a.SID == sid {
			return a
		}
	}
	return nil
}

var (
	reAccounts = regexp.MustCompile(`^/2010-04-01/Accounts\.json$`)
	reAccount  = regexp.MustCompile(`^/2010-04-01/Accounts/(AC[0-9a-f]{32})\.json$`)
	reTriggers = regexp.MustCompile(`^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Usage/Triggers\.json$`)
	reDomains  = regexp.MustCompile(`^/2010-04-01/Accounts/(AC[0-9a-f]{32})/SIP/Domains\.json$`)
	reMappings = regexp.MustCompile(`^/2010-04-01/Accounts/(AC[0-9a-f]{32})/SIP/Domains/(SD[0-9a-f]{32})/(Auth/Calls/IpAccessControlListMappings|Auth/Calls/CredentialListMappings|IpAccessControlListMappings)\.json$`)
	reTrigger  = regexp.MustCompile(`^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Usage/Triggers/(UT[0-9a-f]{32})\.json$`)
)

// errorStatus is the HTTP status of the Twilio error codes the fake uses.
var errorStatus = map[int]int{
	20003: 401, 20404: 404, 20429: 429, 21218: 400, 21476: 403, 21478: 403, 20005: 403,
	21612: 400, 30000: 500,
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	host := r.Header.Get(originalHost)
	status, body := s.route(r, host)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Host: host, Path: r.URL.Path, Form: r.Form, Status: status})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func twilioError(code int, msg string) (int, any) {
	st, ok := errorStatus[code]
	if !ok {
		st = 400
	}
	return st, map[string]any{"code": code, "message": msg, "more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": st}
}

func (s *Server) route(r *http.Request, host string) (int, any) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != AccountSID || pass != AuthToken {
		return twilioError(20003, "Authenticate")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for part, code := range s.failNext {
		if strings.Contains(r.URL.Path, part) {
			delete(s.failNext, part)
			return twilioError(code, "Error "+strconv.Itoa(code))
		}
	}
	p := r.URL.Path
	switch {
	case host == "voice.twilio.com" && p == "/v1/DialingPermissions/Countries" && r.Method == http.MethodGet:
		return s.listCountries(r)
	case host != "api.twilio.com":
	case reAccounts.MatchString(p) && r.Method == http.MethodGet:
		return s.listAccounts(r)
	case reAccount.MatchString(p):
		sid := reAccount.FindStringSubmatch(p)[1]
		a := s.account(sid)
		if a == nil {
			return twilioError(20404, "The requested resource was not found")
		}
		if r.Method == http.MethodPost {
			return s.updateAccount(r, a)
		}
		return http.StatusOK, accountJSON(a)
	case reTriggers.MatchString(p):
		sid := reTriggers.FindStringSubmatch(p)[1]
		if s.account(sid) == nil {
			return twilioError(20404, "The requested resource was not found")
		}
		if r.Method == http.MethodPost {
			return s.createTrigger(r, sid)
		}
		return s.listTriggers(sid)
	case reDomains.MatchString(p) && r.Method == http.MethodGet:
		if reDomains.FindStringSubmatch(p)[1] != AccountSID {
			return http.StatusOK, page("domains", nil, p)
		}
		var items []any
		for _, d := range s.domains {
			items = append(items, map[string]any{
				"sid": d.SID, "account_sid": AccountSID, "domain_name": d.Name + ".sip.twilio.com",
				"friendly_name": d.Name, "secure": d.Secure, "auth_type": "",
			})
		}
		return http.StatusOK, page("domains", items, p)
	case reMappings.MatchString(p) && r.Method == http.MethodGet:
		m := reMappings.FindStringSubmatch(p)
		for _, d := range s.domains {
			if d.SID != m[2] {
				continue
			}
			n, key := d.IPACLs, "contents"
			switch m[3] {
			case "Auth/Calls/CredentialListMappings":
				n = d.CredentialLists
			case "IpAccessControlListMappings":
				n, key = d.LegacyIPACLs, "ip_access_control_list_mappings"
			}
			var items []any
			for i := range n {
				items = append(items, map[string]any{"sid": fmt.Sprintf("AL%032x", i+1), "friendly_name": "list " + strconv.Itoa(i+1)})
			}
			return http.StatusOK, page(key, items, p)
		}
		return twilioError(20404, "The requested resource was not found")
	case reTrigger.MatchString(p) && r.Method == http.MethodDelete:
		m := reTrigger.FindStringSubmatch(p)
		ts := s.triggers[m[1]]
		for i, t := range ts {
			if t.SID == m[2] {
				s.triggers[m[1]] = append(ts[:i:i], ts[i+1:]...)
				return http.StatusNoContent, nil
			}
		}
		return twilioError(20404, "The requested resource was not found")
	}
	return twilioError(20404, "The requested resource "+p+" was not found")
}

func accountJSON(a *Account) map[string]any {
	typ := "Full"
	return map[string]any{
		"sid": a.SID, "friendly_name": a.FriendlyName, "status": a.Status, "type": typ,
		"owner_account_sid": a.Owner, "uri": "/2010-04-01/Accounts/" + a.SID + ".json",
		"date_created": "Mon, 02 Mar 2026 12:00:00 +0000", "date_updated": "Mon, 02 Mar 2026 12:00:00 +0000",
	}
}

func page(key string, items []any, uri string) map[string]any {
	if items == nil {
		items = []any{}
	}
	return map[string]any{
		key: items, "end": max(0, len(items)-1), "first_page_uri": uri, "next_page_uri": nil,
		"page": 0, "page_size": 50, "previous_page_uri": nil, "start": 0, "uri": uri,
	}
}

func (s *Server) listAccounts(r *http.Request) (int, any) {
	var items []any
	for _, a := range s.accounts {
		if st := r.Form.Get("Status"); st != "" && a.Status != st {
			continue
		}
		if fn := r.Form.Get("FriendlyName"); fn != "" && a.FriendlyName != fn {
			continue
		}
		items = append(items, accountJSON(a))
	}
	return http.StatusOK, page("accounts", items, "/2010-04-01/Accounts.json")
}

func (s *Server) updateAccount(r *http.Request, a *Account) (int, any) {
	st := r.PostForm.Get("Status")
	if st != "" {
		switch {
		case st != "active" && st != "suspended" && st != "closed":
			return twilioError(21218, "Invalid Status")
		case a.SID == AccountSID:
			return twilioError(20005, "The main account's status can only be changed by Twilio support")
		case a.LockedByTwilio:
			return twilioError(21478, "Account suspended by Twilio, status cannot be changed")
		case a.Status == "closed":
			return twilioError(21218, "A closed account cannot be reopened")
		}
		if owner := s.account(a.Owner); owner != nil && owner.Status != "active" && st == "active" {
			return twilioError(21476, "Parent account is suspended")
		}
		a.Status = st
	}
	if fn := r.PostForm.Get("FriendlyName"); fn != "" {
		a.FriendlyName = fn
	}
	return http.StatusOK, accountJSON(a)
}

func triggerJSON(t *Trigger) map[string]any {
	return map[string]any{
		"sid": t.SID, "account_sid": t.AccountSID, "friendly_name": t.FriendlyName,
		"callback_url": t.CallbackURL, "callback_method": t.CallbackMethod, "usage_category": t.UsageCategory,
		"recurring": t.Recurring, "trigger_by": t.TriggerBy, "trigger_value": t.TriggerVal, "current_value": "0",
		"api_version": "2010-04-01", "uri": "/2010-04-01/Accounts/" + t.AccountSID + "/Usage/Triggers/" + t.SID + ".json",
		"usage_record_uri": "/2010-04-01/Accounts/" + t.AccountSID + "/Usage/Records.json?Category=" + t.UsageCategory,
	}
}

func (s *Server) listTriggers(account string) (int, any) {
	var items []any
	for _, t := range s.triggers[account] {
		items = append(items, triggerJSON(t))
	}
	return http.StatusOK, page("usage_triggers", items, "/2010-04-01/Accounts/"+account+"/Usage/Triggers.json")
}

var errBadTrigger = errors.New("bad trigger")

func (s *Server) createTrigger(r *http.Request, account string) (int, any) {
	f := r.PostForm
	t := &Trigger{
		AccountSID: account, FriendlyName: f.Get("FriendlyName"), CallbackURL: f.Get("CallbackUrl"),
		CallbackMethod: f.Get("CallbackMethod"), UsageCategory: f.Get("UsageCategory"),
		Recurring: f.Get("Recurring"), TriggerBy: f.Get("TriggerBy"), TriggerVal: f.Get("TriggerValue"),
	}
	if t.CallbackMethod == "" {
		t.CallbackMethod = "POST"
	}
	if t.TriggerBy == "" {
		t.TriggerBy = "usage"
	}
	if err := checkTrigger(t); err != nil {
		return twilioError(21612, err.Error())
	}
	if len(s.triggers[account]) >= maxTriggers {
		return twilioError(21612, "Maximum number of usage triggers reached")
	}
	t.TriggerVal = strings.TrimPrefix(t.TriggerVal, "+") // an offset from a current value of 0
	s.nextSID++
	t.SID = fmt.Sprintf("UT%032x", s.nextSID)
	s.triggers[account] = append(s.triggers[account], t)
	return http.StatusCreated, triggerJSON(t)
}

func checkTrigger(t *Trigger) error {
	u, err := url.Parse(t.CallbackURL)
	switch {
	case t.CallbackURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("%w: CallbackUrl is required and must be a URL", errBadTrigger)
	case t.UsageCategory == "":
		return fmt.Errorf("%w: UsageCategory is required", errBadTrigger)
	case len(t.FriendlyName) > 64:
		return fmt.Errorf("%w: FriendlyName is longer than 64 characters", errBadTrigger)
	case !slices.Contains([]string{"", "daily", "monthly", "yearly", "alltime"}, t.Recurring):
		return fmt.Errorf("%w: Recurring must be daily, monthly, yearly or alltime", errBadTrigger)
	case !slices.Contains([]string{"count", "usage", "price"}, t.TriggerBy):
		return fmt.Errorf("%w: TriggerBy must be count, usage or price", errBadTrigger)
	case t.CallbackMethod != "GET" && t.CallbackMethod != "POST":
		return fmt.Errorf("%w: CallbackMethod must be GET or POST", errBadTrigger)
	}
	v := strings.TrimPrefix(t.TriggerVal, "+")
	if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 {
		return fmt.Errorf("%w: TriggerValue must be a positive number", errBadTrigger)
	}
	return nil
}

func (s *Server) listCountries(r *http.Request) (int, any) {
	items := []any{}
	for _, c := range s.countries {
		if iso := r.Form.Get("IsoCode"); iso != "" && c.ISO != iso {
			continue
		}
		if v := r.Form.Get("LowRiskNumbersEnabled"); v != "" && strconv.FormatBool(c.LowRisk) != v {
			continue
		}
		items = append(items, map[string]any{
			"iso_code": c.ISO, "name": c.Name, "continent": c.Continent, "country_codes": c.CountryCodes,
			"low_risk_numbers_enabled": c.LowRisk, "high_risk_special_numbers_enabled": c.HighRiskSpecial,
			"high_risk_tollfraud_numbers_enabled": c.HighRiskTollFraud,
			"url":                                 "https://voice.twilio.com/v1/DialingPermissions/Countries/" + c.ISO,
		})
	}
	return http.StatusOK, map[string]any{
		"content": items,
		"meta": map[string]any{
			"first_page_url": "https://voice.twilio.com/v1/DialingPermissions/Countries?PageSize=50&Page=0",
			"key":            "content", "next_page_url": nil, "page": 0, "page_size": 50, "previous_page_url": nil,
			"url": "https://voice.twilio.com/v1/DialingPermissions/Countries?PageSize=50&Page=0",
		},
	}
}

// originalHost carries the Twilio host a request was meant for.
const originalHost = "X-Twiliofake-Host"

var errNotTwilio = errors.New("twiliofake: refusing a request to a host that is not Twilio's")

// rewrite sends requests for *.twilio.com to the fake, and refuses others.
type rewrite struct {
	target *url.URL
	next   http.RoundTripper
}

func (t *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if host != "twilio.com" && !strings.HasSuffix(host, ".twilio.com") {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %q", errNotTwilio, host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = t.target.Scheme, t.target.Host, ""
	out.Header.Set(originalHost, host)
	return t.next.RoundTrip(out)
}
