// Package verifytest is an in-process fake of the Twilio Verify v2 API, for
// testing sign-up and login flows offline, in the spirit of net/http/httptest.
//
// A [Server] answers the two endpoints a verification flow uses, create a
// verification and check a verification, with Twilio's JSON and Twilio's
// errors. It makes six-digit codes (read them with [Server.Code]), records
// every request ([Server.Requests], [Server.Sends]), and enforces Verify's
// own rules: at most 5 codes per number in any 10 minutes (error 60203), 5
// checks per verification (60202), verifications that expire after 10
// minutes (20404). A wrong code is answered as Twilio does: HTTP 200 with
// status "pending".
//
// # Wiring a client
//
// twilio-go builds URLs on *.twilio.com hosts. The Server hands out clients
// whose http.Client rewrites scheme and host to the fake and refuses any
// other host, so a test cannot reach the real Twilio:
//
//   - [Server.RestClient]: a *twilio.RestClient (use its VerifyV2);
//   - [Server.BaseClient]: a twilio-go *client.Client with the fake's
//     credentials ([AccountSID], [AuthToken]), for code that builds its own
//     API services or RestClient.
//
// # Failures and time
//
// [Server.FailNext] makes the next request to an endpoint fail with a Twilio
// error code (60200, 60202, 60203, 60212, 60410, 60605, 20404, 20429, or any
// other), with Twilio's status or one of your choosing. [Server.Stall] holds
// requests until released, to test deadlines and cancellation without
// sleeping. [WithNow] gives the Server a fake clock, for tests of expiry and
// of the send window.
package verifytest
