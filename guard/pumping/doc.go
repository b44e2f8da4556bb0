// Package pumping is an adaptive defense against SMS pumping: it watches
// the verification codes an app sends and the ones its users confirm,
// learns how the app's own traffic converts, and blocks the destination
// ranges, client addresses, networks and, as a last resort, countries whose
// codes are sent but not confirmed.
//
// Static defenses (a number policy, rate limits per number, address, block
// of numbers, country) stop scripts that are fast or careless. A pumper that
// knows them drips random numbers of a few ranges of the countries where the
// app's users live, from rotating addresses, under every limit; only the
// missing confirmations give it away. Twilio's Fraud Guard blocks prefixes
// on such signals, closed-source; authgear's fraud protection counts
// unverified codes per country and raw IP. This package counts them per
// block of numbers at several widths, per address with IPv6 by /64, per
// network, per country, and against a baseline it learns.
//
// # Using it
//
// A [Monitor] keeps its counters in the store of the app's own limits,
// through their *ratelimit.Limiter ([New]). With verify.Service, or
// guard's Phone middleware and CheckOutbound, it takes one line:
//
//	verify.Config{Policy: policy, Monitor: mon.ForVerify()}
//	guard.New(lim, guard.WithPolicy(policy), guard.WithMonitor(mon.ForVerify()))
//
// where policy consults mon.Blocklist(). Its counters then ride in the
// take of the limits, in their one round trip to a shared store such as
// ratelimit/redisstore, and it hears of every send, approval and refusal
// ([Monitor.ForVerify]). Apps that send codes another way feed it three
// events: a send about to be made ([Monitor.Allow]: it may refuse it), or
// made ([Monitor.Sent]); a code confirmed ([Monitor.Confirmed]); a send
// refused before it was made ([Monitor.Refused]). Code that takes its own
// limits before a send puts the monitor's counters in the same take
// instead ([Monitor.AppendRequests], then [Monitor.Judge] on their
// results), at no round trip beyond the limits' own. Its range blocks go
// to a numbers.PrefixSet,
// [Monitor.Blocklist], that the app's number policy consults
// (numbers.WithPrefixSet), so a blocked range is refused before any limit or
// counter is spent. Its other blocks are checked by [Monitor.Check] (Allow
// does it). Every block has a [Decision] record: the signal, the level it
// reached, the threshold and what the threshold was made of. Blocks can be
// listed ([Monitor.Blocks]), explained ([Monitor.Blocked]) and lifted
// ([Monitor.Unblock]). Start in shadow mode (Config.Shadow): everything is
// decided and recorded, nothing is refused; read the decisions, then
// [Monitor.SetShadow](false).
//
// # Counters
//
// Every signal is a leaky counter (a GCRA bucket of the store whose sends
// are Record requests, never denied): a send adds 1, and one send drains
// away in a fixed time (an hour for countries and addresses, 6 hours for
// numbers and ranges). A confirmation takes off 1+β, where β comes from
// the region's learnt conversion p: β = 5(1-p)/p, between 0.5 and 9 (0.88
// when p is 85%). Legitimate traffic, which adds 1 per send and takes off
// 1+β per confirmation p of the time, drifts down; traffic that converts at
// less than 1/(1+β) (53% when p is 85%) climbs. So the level of a
// counter is a count of unconfirmed sends that already weighs conversion:
// a range whose codes are confirmed never reaches its threshold, however
// busy; a range whose codes are not, reaches it after a handful. Counters
// cannot go below zero, so past confirmations cannot be banked against a
// later attack.
//
// The counters of one send are, in keys no rotation escapes:
//
//   - the number itself, whose repeats are taken off the others (a user
//     asking three times is not three numbers);
//   - its blocks of 100, 1,000, 10,000, 100,000 and 1,000,000 numbers
//     (without its last 2 to 6 digits; never shorter than the calling code
//     and 2 digits);
//   - its region;
//   - the client address, an IPv4 address or an IPv6 /64;
//   - the network the app names in Send.Network, if any (the destination's
//     carrier from a lookup, or the client's autonomous system);
//   - the pair (address, region), to see an address turn to a new country.
//
// Runs of adjacent numbers are spotted in the memory of the process: which
// numbers of each block of ten were sent a code in the last 10 minutes
// (a counter in the store would cost a new key for nearly every send).
//
// # Signals and decisions
//
//   - Unconfirmed range: a block of numbers at its threshold is blocked;
//     when several trip, the widest.
//   - Run: 3 distinct numbers of one block of 10 within minutes (a script
//     walking adjacent numbers) blocks the 1,000 numbers around them.
//   - Neighbours: 3 ranges blocked within Config.WidenWithin inside one
//     wider range, up to a million numbers (a carrier's allocation), block
//     it. The unconfirmed sends of blocked ranges are not counted again
//     against the ranges around them.
//   - Unconfirmed address: an address at its threshold (raised to half the
//     sends it made to the region lately, for busy addresses that convert,
//     such as carrier NAT) is blocked.
//   - Countries: an address that turns to a new country while it has
//     unconfirmed sends counts one more country; beyond Floors.Countries
//     it is blocked. A confirmation takes a country off again.
//   - Unconfirmed network: as an address.
//   - Country brake: only when ranges do not explain the damage. The
//     region's unconfirmed sends, less those of the ranges blocked (which
//     explain them), must reach the country threshold, and so must the
//     sends made to fresh ranges (where no range can trip) while the region
//     was hot; confirmations in fresh ranges take those off again. The
//     country threshold is authgear's max(20, 0.2 × best day of
//     confirmations in the last 14, 0.2 × confirmations in 24 hours) as a
//     floor, raised to Floors.Country (50) and to what the region's own
//     traffic needs. A brake also follows when 20 ranges of a region are
//     blocked within the hour. Brakes are short (Config.Brakes: 10 minutes,
//     30 minutes, an hour), and numbers confirmed before pass them.
//
// Blocks escalate: the first block of a key lasts Config.Durations[0] (15
// minutes), the next one within Config.StrikeMemory (7 days) the next step
// (1 hour, 12 hours, then 24 hours). A block that keeps being hit by
// distinct numbers while it holds is extended to its next step before it
// ends ([Monitor.Refused]), and a block that was hit is imposed again at the
// first send after it ends. Otherwise the key is on probation: it is
// blocked again once its level exceeds the level it was blocked at (drained
// since) by 2, so that a legitimate user of a range that was pumped gets a
// code.
//
// Numbers with confirmed history stay allowed: a number confirmed within
// Config.StrikeMemory passes every block. A range block puts the numbers
// confirmed in the range (up to 64, the latest) in the Blocklist as allow
// entries (numbers.Entry.Allow) that end with it, and a code sent before
// the block and confirmed while it holds adds its number too.
//
// # Thresholds: floors and what is learnt
//
// Each signal's threshold is the larger of its floor ([Floors]) and what the
// monitor learnt from the app's traffic. For every confirmed send it saw
// sent, it remembers the levels the send found. From those, per region and
// signal, it keeps a histogram that forgets with a half-life of 7 days, and
// derives two thresholds: a Poisson tail (with λ the mean number of
// unconfirmed sends around a confirmed send, the level legitimate traffic
// reaches with probability under 1 in 10,000), known after a few dozen
// confirmations; and a margin over the 99.5th percentile, once there are
// 200. An app with a few users per range keeps the floors; a dense app, or
// one whose codes take long to be confirmed, gets thresholds above the
// levels its users cause.
//
// # Tuning
//
// The defaults block a pumped block of 10,000 numbers after 2 unconfirmed
// sends (3 at the floor, the third refused); a run after 2; a pumper
// spreading over a million numbers after about 10, or 3 blocks of 10,000
// of it. Raise [Floors] when legitimate users are refused and the
// decisions show their ranges at the floor (Baseline.Learnt 0): typically
// an app whose first days are too few to learn from, or very low
// conversion in a region. Lower them only with shadow-mode evidence.
// Config.Durations and Config.Brakes set how long blocks last. The
// examples/pumpsim simulator replays legit traffic and five kinds of
// pumpers through the monitor, and is the place to try a setting before
// production.
//
// What no range can show is a pumper spreading its sends evenly over a
// whole country, or hopping to a fresh range anywhere in it at every
// block: only the country brake answers those, and it refuses every new
// number of the region while it holds. Apps that cannot afford that for a
// country should keep Floors.Country high and allow only the countries
// they serve in the number policy.
//
// # Scale and state
//
// The counters live in the store, up to 9 of them per send (7 new keys for
// a new number from a new address, each draining within hours): size a
// memory store's MaxKeys for it. Decisions, strikes, runs, the learnt
// baselines and the numbers confirmed live in the memory of the process.
// Several processes sharing one store see the same counters, so each
// decides the same blocks for itself at the next send it sees (the
// PrefixSet of each is its own, and each escalates on its own); a number
// passes the blocks of the processes that saw it confirmed. Memory is bounded: Config.MaxTracked bounds
// the strikes, the numbers remembered as confirmed, the sends awaiting
// confirmation and the runs; Config.MaxBlocks the blocks; the regions
// learnt are at most 512. A process that restarts learns its baselines
// again, with the floors meanwhile.
//
// A new range block reads the numbers remembered as confirmed that share
// its first 5 digits, for those it lets through: 0.1 ms for 10,000 of them.
//
// A send costs no store operation beyond its own (Allow, or none in the
// limits' take), and a confirmation one. Two rarer events cost one more:
// a region over half its country threshold reads its confirmations of the
// last 15 days (at most every 10 minutes), and an address with unconfirmed
// sends that turns to a new country counts it.
//
// Logs (Config.Logger) carry masked numbers; range keys keep at least
// their last two digits unknown.
package pumping
