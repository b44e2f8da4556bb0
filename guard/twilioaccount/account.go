package twilioaccount

import (
	"context"
	"errors"
	"fmt"

	"github.com/antifraud-go/antifraud/internal/twilioctx"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// ErrMainAccount is returned for a status change of the account the client
// authenticates as: Twilio changes a main account's status only through
// its support ("To suspend or close your master account, contact
// support").
var ErrMainAccount = errors.New("twilioaccount: the main account can only be suspended by Twilio support")

// Suspend suspends the subaccount accountSID: it can no longer make or
// receive calls or messages until Reactivate. c must authenticate as the
// subaccount's parent. Suspending a suspended account is not an error.
//
// Twilio refuses with error 21478 for an account it suspended itself.
func Suspend(ctx context.Context, c client.BaseClient, accountSID string) error {
	return setStatus(ctx, c, accountSID, "suspended")
}

// Reactivate makes a suspended subaccount active again. Twilio refuses with
// error 21476 while the parent is suspended.
func Reactivate(ctx context.Context, c client.BaseClient, accountSID string) error {
	return setStatus(ctx, c, accountSID, "active")
}

func setStatus(ctx context.Context, c client.BaseClient, accountSID, status string) error {
	if c == nil {
		return errors.New("twilioaccount: nil twilio client")
	}
	if !isSID(accountSID, "AC") {
		return fmt.Errorf("twilioaccount: %q is not an account SID", accountSID)
	}
	if accountSID == c.AccountSid() {
		return ErrMainAccount
	}
	err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
		params := &api.UpdateAccountParams{}
		params.SetStatus(status)
		_, err := api.NewApiServiceWithClient(bc).UpdateAccount(accountSID, params)
		return err
	})
	if err != nil {
		return fmt.Errorf("twilioaccount: setting %s %s: %w", accountSID, status, err)
	}
	return nil
}

// isSID reports whether s is a Twilio SID with the given prefix: the
// prefix and 32 hexadecimal digits.
func isSID(s, prefix string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
