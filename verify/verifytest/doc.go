// Package verifytest is an in-process fake of the Twilio Verify v2 API, for
// testing sign-up and login flows offline, in the spirit of net/http/httptest.
//
// A [Server] answers the two endpoints a verification flow uses, create a
// verification and check a verification, with Twilio's JSON and Twilio's
// errors. It makes six-digit codes (read them with [Server.Code]), records
// every request ([Server.Requests]), and enforces Verify's own rules: at most
// [MaxSends] codes per number per [SendWindow] (error 60203), [MaxChecks]
// checks per verification (60202), verifications that expire after [TTL]
// (20404). A wrong code is answered as Twilio does: HTTP 200 with status
// "pending".
//
// # Wiring a client
//
// twilio-go builds URLs on *.twilio.com hosts. The Server hands out clients
// whose http.Client goes through [Server.Transport], which rewrites scheme
// and host to the fake and refuses any other host, so a test cannot reach
// the real Twilio:
//
//   - [Server.RestClient]: a *twilio.RestClient (use its VerifyV2);
//   - [Server.VerifyV2]: the Verify v2 API service alone;
//   - [Server.BaseClient]: a twilio-go *client.Client with the fake's
//     credentials ([AccountSID], [AuthToken]).
//
// # Failures
//
// [Server.FailNext] makes the next request to an endpoint fail with a Twilio
// error code (60200, 60202, 60203, 60212, 60410, 60605, 20404, 20429, or
// any other); [Server.FailNextWith] sets any status. [Server.Stall] holds
// requests until released, to test deadlines and cancellation without
// sleeping. [Server.SetClock] replaces the clock for tests of expiry and of
// the send window.
package verifytest
