package guard

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var phonePath = [][]string{{"phone"}}

func TestJSONFields(t *testing.T) {
	tests := []struct {
		doc   string
		paths [][]string
		want  []string // nil: not found
		err   bool
	}{
		{`{"phone":"+1"}`, phonePath, []string{"+1"}, false},
		{` {"a":[1,{"phone":"x"}],"phone":"+1"} `, phonePath, []string{"+1"}, false},
		{`{"PhOnE":"+1"}`, phonePath, []string{"+1"}, false},
		{`{"ph\u006fne":"+\u0031"}`, phonePath, []string{"+1"}, false},
		{`{"phone":"\ud83d\ude00 \ud800 \u00e9"}`, phonePath, []string{"\U0001F600 \uFFFD é"}, false},
		{"{\"phone\":\"a\xffb\"}", phonePath, []string{"a\uFFFDb"}, false},
		{`{"phone":null}`, phonePath, nil, false},
		{`{}`, phonePath, nil, false},
		{`{"phone":"1","phone":"2"}`, phonePath, nil, true},
		{`{"phone":"1","PHONE":"2"}`, phonePath, nil, true},
		{`{"phone":1}`, phonePath, nil, true},
		{`{"phone":true}`, phonePath, nil, true},
		{`{"phone":"1",}`, phonePath, nil, true},
		{`{"phone":"1"`, phonePath, nil, true},
		{`{"phone":"\x01"}`, phonePath, nil, true},
		{`{"phone":"\q"}`, phonePath, nil, true},
		{`{"a":01}`, phonePath, nil, true},
		{`{"a":1.}`, phonePath, nil, true},
		{`{"a":-}`, phonePath, nil, true},
		{`{"a":1e}`, phonePath, nil, true},
		{`{"a":-0.5e+10}`, phonePath, nil, false},
		{`{"a":nul}`, phonePath, nil, true},
		{`"phone"`, phonePath, nil, true},
		{`{"phone":"1"}x`, phonePath, nil, true},
		{"\xef\xbb\xbf{}", phonePath, nil, true},
		{strings.Repeat("[", 300) + strings.Repeat("]", 300), phonePath, nil, true},
		{`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, phonePath, nil, true},
		{`{"user":{"phone":"+1"}}`, [][]string{{"user", "phone"}}, []string{"+1"}, false},
		{`{"user":{"phone":"+1"},"user":{}}`, [][]string{{"user", "phone"}}, nil, true},
		{`{"user":"x"}`, [][]string{{"user", "phone"}}, nil, false},
		{`{"user":[{"phone":"+1"}]}`, [][]string{{"user", "phone"}}, nil, false},
		{`{"phone":"1","code":"2"}`, [][]string{{"phone"}, {"code"}, {"email"}}, []string{"1", "2", ""}, false},
		// Kelvin sign K folds to k, as encoding/json matches it.
		{"{\"\u212Aey\":\"1\",\"key\":\"2\"}", [][]string{{"key"}}, nil, true},
	}
	for _, tt := range tests {
		vals := make([]string, len(tt.paths))
		found, err := jsonFields([]byte(tt.doc), tt.paths, vals)
		if (err != nil) != tt.err {
			t.Errorf("%s: err %v", tt.doc, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("%s: %v does not wrap ErrBadRequest", tt.doc, err)
			}
			continue
		}
		if tt.want == nil {
			if found != 0 {
				t.Errorf("%s: found %v", tt.doc, vals)
			}
			continue
		}
		for i := range tt.want {
			if vals[i] != tt.want[i] {
				t.Errorf("%s: field %d = %q, want %q", tt.doc, i, vals[i], tt.want[i])
			}
		}
	}
}

// jsonReference extracts the phone field as encoding/json sees the
// document: valid or not, the keys of the top object matching "phone"
// under encoding/json's folding, and the decoded value.
func jsonReference(doc []byte) (valid bool, matches int, value any) {
	if !json.Valid(doc) {
		return false, 0, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, _ := dec.Token()
	if tok != json.Delim('{') {
		return true, -1, nil
	}
	for dec.More() {
		k, _ := dec.Token()
		var v any
		if err := dec.Decode(&v); err != nil {
			return false, 0, nil
		}
		if foldEqual([]byte(k.(string)), "phone") {
			matches++
			value = v
		}
	}
	return true, matches, value
}

// FuzzJSONFields checks the JSON scanner against encoding/json: it accepts
// exactly the valid documents (within its depth bound), finds the field
// encoding/json would decode, refuses duplicates under encoding/json's
// key folding, and decodes strings as encoding/json does.
func FuzzJSONFields(f *testing.F) {
	for _, s := range []string{
		`{"phone":"+447400123456"}`, `{"phone":"1","PHONE":"2"}`, `{"ph\u006fne":"\u002b1"}`,
		`{"a":[1,2,{"b":null}],"phone":"x\ud800y"}`, `{"phone":1.5e3}`, `{"phone":null}`, `[]`,
		"{\"\u212Aey\":1}", `{"phone":"\"\\\/\b\f\n\r\t"}`, "{\"phone\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		vals := make([]string, 1)
		found, err := jsonFields(doc, phonePath, vals)
		valid, matches, value := jsonReference(doc)
		if !valid || matches < 0 {
			if err == nil {
				t.Fatalf("accepted %q, which encoding/json refuses or is not an object", doc)
			}
			return
		}
		if err != nil {
			if bytes.Count(doc, []byte("["))+bytes.Count(doc, []byte("{")) > maxJSONDepth {
				return // possibly over the depth bound
			}
			s, isString := value.(string)
			if matches > 1 || (matches == 1 && value != nil && !isString) {
				return // a duplicate or a non-string: refused on purpose
			}
			t.Fatalf("refused valid %q (phone %q): %v", doc, s, err)
		}
		switch {
		case matches > 1:
			t.Fatalf("accepted a duplicate in %q", doc)
		case matches == 0 || value == nil:
			if found != 0 {
				t.Fatalf("found %q in %q", vals[0], doc)
			}
		default:
			s, isString := value.(string)
			if !isString {
				t.Fatalf("accepted a %T in %q", value, doc)
			}
			if found == 0 || vals[0] != s {
				t.Fatalf("%q: got %q, encoding/json %q", doc, vals[0], s)
			}
		}
	})
}

// FuzzForm checks the form reader against net/http: for a body it
// accepts, the field it finds is the one Request.FormValue returns, and it
// refuses a field net/http sees more than once.
func FuzzForm(f *testing.F) {
	for _, s := range []string{"phone=%2B447400123456", "phone=1&phone=2", "a=b;c&phone=1", "phone=%zz", "ph%6Fne=+1+2", "phone", "&&phone=="} {
		f.Add(s, "phone=1")
	}
	f.Fuzz(func(t *testing.T, body, query string) {
		fs := newFieldSet(field{form: "phone", path: []string{"phone"}})
		vals := make([]string, 1)
		found, err := extract("application/x-www-form-urlencoded", []byte(body), query, &fs, vals)
		r := httptest.NewRequest(http.MethodPost, "/?"+url.PathEscape(query), strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_ = r.ParseForm() // FormValue ignores the error: bad pairs are skipped
		// The guard refuses a malformed body, and skips malformed pairs
		// of the query as net/http does.
		_, perr := url.ParseQuery(body)
		if err != nil {
			if len(r.Form["phone"]) > 1 || perr != nil {
				return
			}
			for _, v := range r.Form["phone"] {
				if len(v) > maxFieldBytes {
					return
				}
			}
			t.Fatalf("body %q query %q: refused (%v), net/http %v", body, query, err, r.Form)
		}
		if perr != nil {
			t.Fatalf("body %q: accepted, net/http: %v", body, perr)
		}
		if got, want := vals[0], r.FormValue("phone"); (found != 0) != (len(r.Form["phone"]) == 1) || got != want {
			t.Fatalf("body %q query %q: got %q (found %v), FormValue %q of %v", body, query, got, found != 0, want, r.Form["phone"])
		}
	})
}

// FuzzMultipart checks the multipart reader against net/http's
// ParseMultipartForm on bodies built from fuzzed parts.
func FuzzMultipart(f *testing.F) {
	f.Add("phone", "+447400123456", "", "name", "Ada", false)
	f.Add("phone", "1", "", "phone", "2", false)
	f.Add("phone", "1", "x.txt", "phone", "2", true)
	f.Fuzz(func(t *testing.T, name1, val1, file1, name2, val2 string, raw bool) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, p := range [][3]string{{name1, val1, file1}, {name2, val2, ""}} {
			var w io.Writer
			var err error
			if p[2] != "" {
				w, err = mw.CreateFormFile(p[0], p[2])
			} else {
				w, err = mw.CreateFormField(p[0])
			}
			if err != nil {
				return
			}
			_, _ = w.Write([]byte(p[1]))
		}
		_ = mw.Close()
		body := b.Bytes()
		if raw {
			body = []byte(val1) // arbitrary bytes as a multipart body
		}
		ctype := mw.FormDataContentType()
		fs := newFieldSet(field{form: "phone", path: []string{"phone"}})
		vals := make([]string, 1)
		found, err := extract(ctype, body, "", &fs, vals)
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		perr := r.ParseMultipartForm(1 << 20)
		if err != nil {
			return // refusing is always safe; accepting wrongly is not
		}
		if perr != nil {
			t.Fatalf("accepted a body net/http refuses: %v", perr)
		}
		want := r.MultipartForm.Value["phone"]
		if (found != 0) != (len(want) == 1) || (len(want) == 1 && vals[0] != want[0]) {
			t.Fatalf("got %q (found %v), net/http %q", vals[0], found != 0, want)
		}
	})
}
