package guard

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unsafe"
)

// defaultMaxBody bounds a body the guard reads when WithMaxBody is not
// given: a signup form with a phone field fits many times over.
const defaultMaxBody = 64 << 10

// maxFieldBytes bounds each extracted field: a phone number, a code or a
// locale is a few dozen bytes.
const maxFieldBytes = 256

// field is one value to find in a request: by form name in the query, a
// form or a multipart body, by path in a JSON body.
type field struct {
	form string
	path []string
}

// fieldSet is what one body read extracts.
type fieldSet struct {
	fields []field
	paths  [][]string // the fields' JSON paths
}

func newFieldSet(fields ...field) fieldSet {
	fs := fieldSet{fields: fields}
	for _, f := range fields {
		fs.paths = append(fs.paths, f.path)
	}
	return fs
}

// readBody reads r's body whole, at most limit bytes, into buf (growing
// it). A body whose Content-Length says it is too large is refused unread;
// one that turns out too large is refused after limit+1 bytes, and the
// 413 closes the connection (see Problem.ServeHTTP), as
// http.MaxBytesReader would have the server do.
//
// The bytes it returns are never written again: the fields found in them
// are strings over them (see bytesString), and the next handler reads them.
func readBody(r *http.Request, limit int64, buf []byte) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return buf[:0], nil
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	if n := r.ContentLength + 1; n > int64(cap(buf)) {
		// The exact size and one byte to see the end, when it is known.
		buf = make([]byte, 0, min(max(n, 512), limit+1))
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		// Never more than one byte past the bound.
		n, err := r.Body.Read(buf[len(buf):min(int64(cap(buf)), limit+1)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, tooLarge(limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				// An http.MaxBytesHandler in front with a lower bound.
				return nil, tooLarge(mbe.Limit)
			}
			return nil, &requestError{status: http.StatusBadRequest, detail: "cannot read request body", err: err}
		}
	}
}

// bytesString returns b as a string without copying. Only for bytes that
// are never written again, as readBody's.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// replay is a request body that reads bytes already read: the next
// handler gets the body as the client sent it.
type replay struct{ bytes.Reader }

// Close does nothing: the original body was read to its end.
func (*replay) Close() error { return nil }

// extract finds fs's fields in the URL query and the body, of media type
// ctype, into vals (one per field); found has a bit per field present.
// body must be bytes that are never written again (readBody's): values may
// be strings over them. A
// field may appear once in all: a value in the query and another in the
// body, or two in the body, are refused, since the handler downstream might
// read either.
func extract(ctype string, body []byte, query string, fs *fieldSet, vals []string) (found uint64, err error) {
	var counts [maxFields]int
	if query != "" {
		if err := formFields(query, fs.fields, vals, counts[:], false); err != nil {
			return 0, err
		}
	}
	if len(body) > 0 {
		var bodyVals [maxFields]string
		var bodyCounts [maxFields]int
		switch mediaType(ctype) {
		case mediaJSON:
			var f uint64
			f, err = jsonFields(body, fs.paths, bodyVals[:len(fs.fields)])
			for i := range fs.fields {
				if f&(1<<i) != 0 {
					bodyCounts[i] = 1
				}
			}
		case mediaForm:
			err = formFields(bytesString(body), fs.fields, bodyVals[:], bodyCounts[:], true)
		case mediaMultipart:
			err = multipartFields(ctype, body, fs.fields, bodyVals[:], bodyCounts[:])
		default:
			return 0, unsupportedMedia()
		}
		if err != nil {
			return 0, err
		}
		for i := range fs.fields {
			if bodyCounts[i] > 0 {
				counts[i] += bodyCounts[i]
				vals[i] = bodyVals[i]
			}
		}
	}
	for i, f := range fs.fields {
		switch {
		case counts[i] > 1:
			return 0, badRequest("the " + f.form + " field appears more than once")
		case counts[i] == 1:
			if len(vals[i]) > maxFieldBytes {
				return 0, badRequest("the " + f.form + " field is too long")
			}
			found |= 1 << i
		}
	}
	return found, nil
}

const (
	mediaOther = iota
	mediaJSON
	mediaForm
	mediaMultipart
)

// mediaType classifies a Content-Type, without allocating for the usual
// ones.
func mediaType(ctype string) int {
	switch ctype {
	case "application/json", "application/json; charset=utf-8", "application/json;charset=utf-8":
		return mediaJSON
	case "application/x-www-form-urlencoded":
		return mediaForm
	}
	mt, _, err := mime.ParseMediaType(ctype)
	switch {
	case err != nil:
		return mediaOther
	case mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		return mediaJSON
	case mt == "application/x-www-form-urlencoded":
		return mediaForm
	case mt == "multipart/form-data":
		return mediaMultipart
	}
	return mediaOther
}

// formFields counts and reads fields in a URL-encoded string, splitting
// and unescaping it as net/url.ParseQuery does. In strict mode (a body) a
// malformed pair is an error; otherwise (the URL's query) it is skipped,
// as Request.FormValue skips it.
func formFields(s string, fields []field, vals []string, counts []int, strict bool) error {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if strings.IndexByte(pair, ';') >= 0 {
			if strict {
				return badRequest("malformed form body: ';' separator")
			}
			continue
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err == nil {
			_, err = unescapeIfNeeded(v, false)
		}
		if err != nil {
			if strict {
				return badRequest("malformed form body")
			}
			continue
		}
		for i := range fields {
			if key != fields[i].form {
				continue
			}
			counts[i]++
			vals[i], _ = unescapeIfNeeded(v, true)
		}
	}
	return nil
}

// unescapeIfNeeded checks, and when decode is set returns, the unescaped
// form of a query value.
func unescapeIfNeeded(v string, decode bool) (string, error) {
	if strings.IndexByte(v, '%') < 0 && strings.IndexByte(v, '+') < 0 {
		return v, nil
	}
	if !decode {
		for i := 0; i < len(v); i++ {
			if v[i] == '%' && (i+2 >= len(v) || !ishex(v[i+1]) || !ishex(v[i+2])) {
				return "", errMalformedForm
			}
		}
		return v, nil
	}
	return url.QueryUnescape(v)
}

var errMalformedForm = badRequest("malformed form body")

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// maxParts bounds the parts of a multipart body the guard looks through.
const maxParts = 256

// multipartFields reads the fields of a multipart/form-data body as
// Request.ParseMultipartForm does: parts named by their Content-Disposition
// form-data name, files (parts with a filename) left out.
func multipartFields(ctype string, body []byte, fields []field, vals []string, counts []int) error {
	_, params, err := mime.ParseMediaType(ctype)
	if err != nil || params["boundary"] == "" {
		return badRequest("malformed multipart body: no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for n := 0; ; n++ {
		if n == maxParts {
			return badRequest("multipart body has too many parts")
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &requestError{status: http.StatusBadRequest, detail: "malformed multipart body", err: err}
		}
		name := p.FormName()
		if name == "" || p.FileName() != "" {
			continue
		}
		for i := range fields {
			if name != fields[i].form {
				continue
			}
			v, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
			if err != nil {
				return &requestError{status: http.StatusBadRequest, detail: "malformed multipart body", err: err}
			}
			counts[i]++
			vals[i] = string(v)
		}
	}
}
