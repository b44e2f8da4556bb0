package guard

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// TwilioSignature returns the X-Twilio-Signature that Twilio sends with a
// request to rawURL carrying the form params, signed with authToken: the
// base64 HMAC-SHA1 of rawURL followed by every parameter as name then value,
// sorted by name and, for a name given several times, by value. All values
// of a repeated name count (twilio-go's RequestValidator keeps only the
// first, and so refuses such requests).
//
// For a request with a JSON body, Twilio adds bodySHA256 (the hex SHA-256 of
// the body) to the URL and signs the URL alone: pass that URL and nil params.
//
// Tests use it to sign requests as Twilio would; a [Webhook] checks them.
func TwilioSignature(authToken, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, rawURL)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			io.WriteString(mac, k)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// sigAlgorithm is a signing algorithm Twilio names in
// X-Twilio-Webhooks-Signature-Settings.
type sigAlgorithm uint8

const (
	algSHA1 sigAlgorithm = iota
	algSHA256
)

func (a sigAlgorithm) size() int {
	if a == algSHA256 {
		return sha256.Size
	}
	return sha1.Size
}

// sigKey is one secret that Twilio may have signed with. Its MACs are
// pooled: keying an HMAC costs two extra hash blocks and an allocation,
// more than hashing a whole webhook form.
type sigKey struct {
	alg    sigAlgorithm
	secret []byte
	pool   sync.Pool // of hash.Hash
}

func newSigKey(secret string, alg sigAlgorithm) *sigKey {
	k := &sigKey{alg: alg, secret: []byte(secret)}
	newHash := sha1.New
	if alg == algSHA256 {
		newHash = sha256.New
	}
	k.pool.New = func() any { return hmac.New(newHash, k.secret) }
	return k
}

// matches reports whether want is the MAC of url followed by tail, in
// constant time for a given length. sum is scratch space for the MAC.
func (k *sigKey) matches(sum *[sha256.Size]byte, want, url, tail []byte) bool {
	mac := k.pool.Get().(hash.Hash)
	mac.Write(url)
	mac.Write(tail)
	ok := hmac.Equal(mac.Sum(sum[:0]), want)
	mac.Reset()
	k.pool.Put(mac)
	return ok
}

// formPair is one decoded name=value pair of a form body: both are slices of
// one decoding buffer.
type formPair struct{ name, value []byte }

func compareFormPairs(a, b formPair) int {
	if c := bytes.Compare(a.name, b.name); c != 0 {
		return c
	}
	return bytes.Compare(a.value, b.value)
}

var errFormEscape = errors.New("guard: malformed %-escape in form body")

// parseSignedForm decodes an application/x-www-form-urlencoded body the way
// Twilio's signature sees it: pairs split on '&' alone, name and value on
// the first '=', '+' is a space, %XX a byte; empty pairs are skipped. The
// decoded bytes go to dec, whose capacity must be at least len(body) so that
// the pairs, which are slices of it, stay valid; the pairs are appended to
// pairs.
//
// Every pair that url.ParseQuery (and so net/http's ParseForm) returns for
// the same body is one of these pairs, so a handler never reads a value the
// signature did not cover; ParseQuery also drops pairs with a ';', which are
// signed here as they came.
func parseSignedForm(body, dec []byte, pairs []formPair) ([]byte, []formPair, error) {
	if cap(dec) < len(body) {
		panic("guard: parseSignedForm: decoding buffer too small")
	}
	nameStart, valueStart := len(dec), -1
	end := func() {
		if valueStart < 0 {
			pairs = append(pairs, formPair{dec[nameStart:len(dec):len(dec)], nil})
		} else {
			pairs = append(pairs, formPair{dec[nameStart:valueStart:valueStart], dec[valueStart:len(dec):len(dec)]})
		}
	}
	segStart := 0
	for i := 0; i < len(body); {
		// Copy the run of bytes that decode as themselves in one move.
		j := i
		for j < len(body) && formSpecial[body[j]] == 0 {
			j++
		}
		dec = append(dec, body[i:j]...)
		if i = j; i == len(body) {
			break
		}
		switch c := body[i]; c {
		case '&':
			if i > segStart {
				end()
			}
			segStart = i + 1
			nameStart, valueStart = len(dec), -1
		case '=':
			if valueStart >= 0 {
				dec = append(dec, c)
			} else {
				valueStart = len(dec)
			}
		case '+':
			dec = append(dec, ' ')
		case '%':
			if i+2 >= len(body) || !isHex(body[i+1]) || !isHex(body[i+2]) {
				return dec, pairs, errFormEscape
			}
			dec = append(dec, unhex(body[i+1])<<4|unhex(body[i+2]))
			i += 2
		}
		i++
	}
	if len(body) > segStart {
		end()
	}
	return dec, pairs, nil
}

// formSpecial marks the bytes that parseSignedForm does not copy as they are.
var formSpecial = [256]byte{'&': 1, '=': 1, '+': 1, '%': 1}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// appendSignedTail appends the sorted pairs as Twilio signs them: name then
// value, one pair after the other.
//
// A pair given twice counts twice, as twilio-python and Twilio's
// documentation sign it. twilio-node drops repeated identical pairs before
// signing; accepting that too would let anyone add a copy of any signed
// pair to a genuine request, so it is not accepted.
func appendSignedTail(dst []byte, sorted []formPair) []byte {
	for _, p := range sorted {
		dst = append(dst, p.name...)
		dst = append(dst, p.value...)
	}
	return dst
}

// queryValue returns the value of the single parameter named name in the raw
// query. found is false when there is none; err is set when there are
// several or the value is malformed.
func queryValue(rawQuery, name string) (value string, found bool, err error) {
	for q := rawQuery; q != ""; {
		var seg string
		seg, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(seg, "=")
		if k != name {
			continue
		}
		if found {
			return "", true, errors.New("guard: " + name + " given twice in the URL")
		}
		value, found = v, true
	}
	return value, found, nil
}

// decodeSignature decodes a base64 X-Twilio-Signature into dst. It accepts
// only the lengths of an HMAC-SHA1 or HMAC-SHA256, so that a malformed
// header costs no hashing.
func decodeSignature(dst *[sha256.Size + 1]byte, sig string) ([]byte, bool) {
	var src [44]byte // base64 of an HMAC-SHA256
	if len(sig) != base64.StdEncoding.EncodedLen(sha1.Size) && len(sig) != len(src) {
		return nil, false
	}
	n, err := base64.StdEncoding.Decode(dst[:], src[:copy(src[:], sig)])
	if err != nil || (n != sha1.Size && n != sha256.Size) {
		return nil, false
	}
	return dst[:n], true
}
