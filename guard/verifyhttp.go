package guard

import (
	"encoding/json"
	"net/http"
	"net/netip"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/verify"
)

// The fields of the verify handlers' bodies, after the phone field.
const (
	vPhone = iota
	vEmail
	vChannel
	vLocale
	vCode = vChannel // the check handler reads phone, email, code
)

// VerifyStart returns a handler that starts a verification with svc: it
// accepts a POST whose JSON, form or multipart body (at most WithMaxBody
// bytes) says where to send the code,
//
//	{"phone": "+44 7700 900123", "channel": "sms"}
//	phone=%2B447700900123&channel=sms
//
// ("email" instead of the phone field for the email channel; an optional
// "locale"), finds the client's address as the guard does, and calls
// svc.Start, which applies the number policy, cooldown and limits of the
// Service. It answers 202 with {"status": "pending", "to": the masked
// destination, "channel", "resend_after": seconds}, or sends the error to
// the guard's deny handler (a problem, see ProblemFor).
func (g *Guard) VerifyStart(svc *verify.Service) http.Handler {
	fs := newFieldSet(g.phone.fields[0], field{form: "email", path: []string{"email"}},
		field{form: "channel", path: []string{"channel"}}, field{form: "locale", path: []string{"locale"}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in [4]string
		req := verify.StartRequest{}
		err := g.readVerify(w, r, &fs, in[:], &req.ClientIP)
		if err == nil && in[vChannel] != "" {
			ch, perr := numbers.ParseChannel(in[vChannel])
			if perr != nil {
				err = verify.ErrInvalidChannel
			}
			req.Channel = ch
		}
		if err != nil {
			g.refuse(w, r, err)
			return
		}
		req.Phone, req.Email, req.Locale = in[vPhone], in[vEmail], in[vLocale]
		b := g.cfg.budget
		if b != nil {
			if err := b.Check(r.Context()); err != nil {
				g.refuse(w, r, err)
				return
			}
		}
		res, err := svc.Start(r.Context(), req)
		if err != nil {
			g.refuse(w, r, err)
			return
		}
		if b != nil {
			// The code is on its way: count it. A charge that trips the
			// budget refuses the next send, not this one.
			region := ""
			if n, err := numbers.Parse(req.Phone, g.cfg.region); err == nil {
				region = n.Region
			}
			if err := b.Send(r.Context(), res.Channel, region); err != nil && g.cfg.logger != nil {
				g.cfg.logger.WarnContext(r.Context(), "guard: budget charge failed", "route", "verify-start", "err", err)
			}
		}
		writeJSON(w, http.StatusAccepted, struct {
			Status      string `json:"status"`
			To          string `json:"to"`
			Channel     string `json:"channel"`
			ResendAfter int64  `json:"resend_after"`
		}{"pending", res.Masked, res.Channel.String(), ceilSeconds(res.ResendAfter)})
	})
}

// VerifyCheck returns a handler that checks a code with svc: it accepts a
// POST whose body carries the destination and the code,
//
//	{"phone": "+44 7700 900123", "code": "123456"}
//
// and calls svc.Check. On approval it calls approved, which typically
// marks the number verified in the session and answers; a nil approved
// answers 200 with {"status": "approved"}. Errors go to the guard's deny
// handler: a wrong code and an expired verification get the same answer.
func (g *Guard) VerifyCheck(svc *verify.Service, approved func(http.ResponseWriter, *http.Request, verify.CheckResult)) http.Handler {
	fs := newFieldSet(g.phone.fields[0], field{form: "email", path: []string{"email"}},
		field{form: "code", path: []string{"code"}})
	if approved == nil {
		approved = func(w http.ResponseWriter, _ *http.Request, _ verify.CheckResult) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "approved"})
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in [3]string
		req := verify.CheckRequest{}
		if err := g.readVerify(w, r, &fs, in[:], &req.ClientIP); err != nil {
			g.refuse(w, r, err)
			return
		}
		req.Phone, req.Email, req.Code = in[vPhone], in[vEmail], in[vCode]
		res, err := svc.Check(r.Context(), req)
		if err != nil {
			g.refuse(w, r, err)
			return
		}
		approved(w, r, res)
	})
}

// readVerify reads a verify handler's request: POST only, the fields of
// fs from its body, and the client's address.
func (g *Guard) readVerify(w http.ResponseWriter, r *http.Request, fs *fieldSet, vals []string, addr *netip.Addr) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return &requestError{status: http.StatusMethodNotAllowed, detail: "use POST"}
	}
	a, err := g.rv.clientAddr(r)
	if err != nil {
		return err
	}
	*addr = a
	body, err := readBody(r, g.cfg.maxBody, nil)
	if err != nil {
		return err
	}
	_, err = extract(r.Header.Get("Content-Type"), body, r.URL.RawQuery, fs, vals)
	return err
}

// refuse answers err with the deny handler, outside any route.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, err error) {
	g.deny.ServeHTTP(w, r.WithContext(&state{Context: r.Context(), err: err}))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
