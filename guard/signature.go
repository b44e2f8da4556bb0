package guard

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
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

// formPair is one decoded name=value pair of a form body. Its name and
// value are spans of the form's buffer, which holds the body and then the
// fields that needed decoding: a pair holds no pointer, so building and
// sorting pairs costs no write barrier. key is the first eight bytes of the
// name, big-endian and zero-padded, which orders most pairs without
// comparing bytes.
type formPair struct {
	key         uint64
	name, value span
}

// span is buf[off:end] of a form's buffer.
type span struct{ off, end uint32 }

func (s span) of(buf []byte) []byte { return buf[s.off:s.end:s.end] }

// sortFormPairs sorts pairs by name, then by value, byte-wise.
func sortFormPairs(buf []byte, pairs []formPair) {
	slices.SortFunc(pairs, func(a, b formPair) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(a.name.of(buf), b.name.of(buf)); c != 0 {
			return c
		}
		return bytes.Compare(a.value.of(buf), b.value.of(buf))
	})
}

// nameKey is the sort key of a name: its first eight bytes, zero-padded.
// Names that share it are compared in full.
func nameKey(name []byte) uint64 {
	var b [8]byte
	copy(b[:], name)
	return binary.BigEndian.Uint64(b[:])
}

var errFormEscape = errors.New("guard: malformed %-escape in form body")

// maxSignedForm bounds a form body, so that spans fit in 32 bits with its
// decoding.
const maxSignedForm = 1 << 30

// parseSignedForm decodes the application/x-www-form-urlencoded body in
// buf[:n] the way Twilio's signature sees it: pairs split on '&' alone,
// name and value on the first '=', '+' is a space, %XX a byte; empty pairs
// are skipped. Fields that need no decoding are spans of the body; the
// others are decoded onto the end of buf, which must have room for n more
// bytes (no field decodes longer than it is written). It returns buf with
// the decoded fields, and pairs with the form's pairs appended.
//
// Every pair that url.ParseQuery (and so net/http's ParseForm) returns for
// the same body is one of these pairs, so a handler never reads a value the
// signature did not cover; ParseQuery also drops pairs with a ';', which are
// signed here as they came.
func parseSignedForm(buf []byte, n int, pairs []formPair) ([]byte, []formPair, error) {
	if n > maxSignedForm || cap(buf) < 2*n {
		panic("guard: parseSignedForm: buffer too small or body too large")
	}
	buf = buf[:n]
	for i := 0; i < n; {
		if buf[i] == '&' {
			i++
			continue
		}
		var name, value span
		var err error
		if buf, name, i, err = formField(buf, n, i, true); err != nil {
			return buf, pairs, err
		}
		value = span{uint32(i), uint32(i)}
		if i < n && buf[i] == '=' {
			if buf, value, i, err = formField(buf, n, i+1, false); err != nil {
				return buf, pairs, err
			}
		}
		pairs = append(pairs, formPair{key: nameKey(name.of(buf)), name: name, value: value})
	}
	return buf, pairs, nil
}

// formField decodes the field of the body buf[:n] that starts at i and ends
// before the next '&' (or '=', for a name), and returns its span and where
// it ends. A field without '+' or '%' is a span of the body; others are
// decoded onto the end of buf.
func formField(buf []byte, n, i int, name bool) ([]byte, span, int, error) {
	j := i
	for j < n && formSpecial[buf[j]] == 0 {
		j++
	}
	if j == n || buf[j] == '&' || (name && buf[j] == '=') {
		return buf, span{uint32(i), uint32(j)}, j, nil
	}
	start := len(buf)
	d := buf[start:cap(buf)]
	k := copy(d, buf[i:j])
	for ; j < n; j++ {
		c := buf[j]
		switch {
		case formSpecial[c] == 0:
		case c == '&' || c == '=' && name:
			return buf[:start+k], span{uint32(start), uint32(start + k)}, j, nil
		case c == '+':
			c = ' '
		case c == '%':
			if j+2 >= n || !isHex(buf[j+1]) || !isHex(buf[j+2]) {
				return buf, span{}, j, errFormEscape
			}
			c = unhex(buf[j+1])<<4 | unhex(buf[j+2])
			j += 2
		}
		d[k] = c
		k++
	}
	return buf[:start+k], span{uint32(start), uint32(start + k)}, j, nil
}

// formSpecial marks the bytes that end or need decoding in a form field.
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
func appendSignedTail(dst, buf []byte, sorted []formPair) []byte {
	for _, p := range sorted {
		dst = append(dst, p.name.of(buf)...)
		dst = append(dst, p.value.of(buf)...)
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
