package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// DefaultMaxBodyBytes is the default bound on a start or check request body.
// A phone number, a channel and a code fit in a few dozen bytes.
const DefaultMaxBodyBytes = 4 << 10

// maxFieldBytes bounds each field, whatever the body bound.
const maxFieldBytes = 256

// input is what a start or check request carries. Field names are the same
// in JSON and in forms.
type input struct {
	Phone   string `json:"phone"`
	Email   string `json:"email"`
	Channel string `json:"channel"`
	Code    string `json:"code"`
	Locale  string `json:"locale"`
}

// readInput reads r's body, JSON or form, with at most limit bytes.
func readInput(w http.ResponseWriter, r *http.Request, limit int64) (input, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return input{}, &requestError{status: http.StatusMethodNotAllowed, detail: "use POST"}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	return parseInput(r.Header.Get("Content-Type"), body, limit)
}

// parseInput parses a body of the given media type, reading at most limit
// bytes of it. It is separate from readInput so that it can be fuzzed.
func parseInput(contentType string, body io.Reader, limit int64) (input, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType == "" || err != nil {
		return input{}, &requestError{status: http.StatusUnsupportedMediaType, detail: "send application/json or application/x-www-form-urlencoded"}
	}
	raw, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return input{}, &requestError{status: http.StatusRequestEntityTooLarge, detail: "request body too large", err: err}
		}
		return input{}, &requestError{status: http.StatusBadRequest, detail: "cannot read request body", err: err}
	}
	if int64(len(raw)) > limit {
		return input{}, &requestError{status: http.StatusRequestEntityTooLarge, detail: "request body too large"}
	}
	var in input
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		in, err = parseJSON(raw)
	case mt == "application/x-www-form-urlencoded":
		in, err = parseForm(raw)
	default:
		return input{}, &requestError{status: http.StatusUnsupportedMediaType, detail: "send application/json or application/x-www-form-urlencoded"}
	}
	if err != nil {
		return input{}, err
	}
	for _, f := range [...]string{in.Phone, in.Email, in.Channel, in.Code, in.Locale} {
		if len(f) > maxFieldBytes {
			return input{}, &requestError{status: http.StatusBadRequest, detail: "field too long"}
		}
	}
	return in, nil
}

func parseJSON(raw []byte) (input, error) {
	var in input
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&in); err != nil {
		return input{}, &requestError{status: http.StatusBadRequest, detail: "malformed JSON body", err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return input{}, &requestError{status: http.StatusBadRequest, detail: "malformed JSON body: data after the object"}
	}
	return in, nil
}

func parseForm(raw []byte) (input, error) {
	vals, err := url.ParseQuery(string(raw))
	if err != nil {
		return input{}, &requestError{status: http.StatusBadRequest, detail: "malformed form body", err: err}
	}
	return input{
		Phone:   vals.Get("phone"),
		Email:   vals.Get("email"),
		Channel: vals.Get("channel"),
		Code:    vals.Get("code"),
		Locale:  vals.Get("locale"),
	}, nil
}
