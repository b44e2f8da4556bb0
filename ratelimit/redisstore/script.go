package redisstore

import (
	"crypto/sha1"
	"encoding/hex"
)

// takeLua is gcra.Step in Lua. It must give the same answers as Step for
// every input: the differential tests run both on random sequences.
//
// Times are integers of microseconds in Lua numbers (doubles, exact to 2^53
// µs, about 285 years after 1970). Every duration the script sees is a whole
// number of microseconds (see package gcra).
//
// KEYS: one per request, all with the same hash tag.
//
// ARGV[1]: the take, packed as little-endian doubles, so that the server
// makes one Lua string of it and unpacks it in one call: now in µs, or 0
// for the server's TIME (tests pass a time; the store always passes 0, so
// that app servers' clocks do not matter); then 9 per request: interval
// µs, capacity µs (interval × burst), cost (negative to give back), mode
// (0 plain, 1 peek, 2 record), and the penalty's after (0 for none),
// interval µs, box for µs, box max µs and box reset µs (see gcra.Params).
//
// State per key, a string of little-endian doubles: TAT and PX (16 bytes)
// when the key has no penalty state and Expire == TAT, else TAT, PTAT,
// BoxUntil, Level, Expire and PX (48 bytes). PX is the key's PXAT in ms,
// kept in the value so that a write knows whether the key's expiry already
// covers Expire: setting an expiry costs Redis more than the rest of a
// write, so a key's PXAT is set to a quarter of its limit's window past
// Expire (rounded up to the ms), and later writes keep it (KEEPTTL) until
// Expire passes it. After Expire the state is identical to a missing key,
// so a key that lives a little longer changes no answer. A key given back
// up to full, which Step leaves as the zero state, is deleted. (Values of
// 8 and 40 bytes, the same without PX, are read too: they are what an
// earlier version wrote.)
//
// Reply. A result's Remaining and RetryAfter follow from its ResetAfter
// when it is not penalized (Remaining = (capacity − reset) / interval,
// truncated; RetryAfter = 0 when allowed, else reset + interval × cost −
// capacity), so the script sends per request one number, its code:
// reset µs × 4 + flags (1 allowed, 2 penalized), and, when penalized, its
// retry µs after it. A single request that is not penalized gets its code
// as an integer reply, the cheapest there is. Any other take gets a string
// of little-endian doubles: allowed + 2 × binding (0-based), then the
// requests' codes (and retries). A table of integers would cost Redis more
// to convert than the script's arithmetic.
//
// A single plain request, the most common take, has a path of its own
// (Step's stepOne): GET instead of MGET, and no tables.
const takeLua = `
local up, pack = struct.unpack, struct.pack
local max, min, floor, ceil = math.max, math.min, math.floor, math.ceil
local n = #KEYS

-- load decodes key i's value v: TAT, PTAT, BoxUntil, Level, Expire, PX.
local function load(v, i)
	if not v then return 0, 0, 0, 0, 0, 0 end
	local l = #v
	if l == 16 then
		local tat, px = up('<dd', v)
		return tat, 0, 0, 0, tat, px
	elseif l == 48 then
		return up('<dddddd', v)
	elseif l == 8 then
		local tat = up('<d', v)
		return tat, 0, 0, 0, tat, 0
	elseif l == 40 then
		local tat, pt, box, lv, ex = up('<ddddd', v)
		return tat, pt, box, lv, ex, 0
	end
	error('antifraud: key ' .. KEYS[i] .. ' ` + scriptKeyError + `')
end

-- save writes key i's state. Its expiry is set only when PX, the one it
-- has, ends before Expire: then to a quarter of cap (a window) past it.
local function save(i, tat, pt, box, lv, ex, px, cap)
	if ex == 0 then
		redis.call('DEL', KEYS[i])
		return
	end
	local need = ceil(ex / 1000)
	local keep = px >= need
	if not keep then px = need + floor(cap / 4000) end
	local v
	if pt == 0 and box == 0 and lv == 0 and ex == tat then
		v = pack('<dd', tat, px)
	else
		v = pack('<dddddd', tat, pt, box, lv, ex, px)
	end
	if keep then
		redis.call('SET', KEYS[i], v, 'KEEPTTL')
	else
		redis.call('SET', KEYS[i], v, 'PXAT', string.format('%d', px))
	end
end

-- boxFor returns the box of a penalty of for d and max m at level: d
-- doubled level times, at most m.
local function boxFor(d, m, level)
	local c = 0
	while c < level and d < m do
		d, c = d * 2, c + 1
	end
	if d > m then d = m end
	return d
end

if n == 1 then
	local now, iv, cap, cost, mode, after, piv, bfor, bmax, breset = up('<dddddddddd', ARGV[1])
	if cost >= 0 and mode == 0 then
		-- One plain request.
		if now == 0 then
			local t = redis.call('TIME')
			now = t[1] * 1000000 + t[2]
		end
		local tat, pt, box, lv, ex, px = load(redis.call('GET', KEYS[1]), 1)
		local t = max(tat, now)
		if box > now then
			return pack('<ddd', 0, (max(box, t) - now) * 4 + 2, box - now)
		end
		local nt = t + iv * cost
		if nt - cap <= now then
			save(1, nt, pt, box, lv, max(ex, nt), px, cap)
			return (nt - now) * 4 + 1
		end
		local reset = t - now
		if after == 0 then
			return reset * 4
		end
		-- Count the denial, and box the key when the count runs out.
		local q = max(pt, now) + piv
		if q - now < piv * after then
			save(1, tat, q, box, lv, max(ex, q), px, cap)
			return reset * 4
		end
		if box > 0 and now - box >= breset then lv = 0 end
		local d = boxFor(bfor, bmax, lv)
		save(1, tat, now, now + d, min(lv + 1, 62), max(ex, now + d + breset), px, cap)
		return pack('<ddd', 0, max(reset, d) * 4 + 2, d)
	end
end

local A = {up('<d' .. string.rep('ddddddddd', n), ARGV[1])}
local now = A[1]
if now == 0 then
	local t = redis.call('TIME')
	now = t[1] * 1000000 + t[2]
end

-- Any take, in two passes over the requests: the first decides whether
-- every request that can deny is allowed (and checks that every key holds
-- limiter state before anything is written), the second computes each
-- request's result and writes its new state. Request i's numbers are at
-- a = 9(i-1)+1 in A.
local vals = redis.call('MGET', unpack(KEYS))
local all = true
for i = 1, n do
	local a = 9 * (i - 1) + 1
	local tat, pt, box = load(vals[i], i)
	local cost, mode = A[a + 3], A[a + 4]
	if cost >= 0 and mode ~= 2 and (box > now or max(tat, now) + A[a + 1] * cost - A[a + 2] > now) then
		all = false
	end
end

local out, o = {all and 1 or 0}, 1
-- binding: when allowed, the request that can deny with the fewest
-- remaining (bv), else the one with the fewest of all (tight, tv); when
-- denied, the denying request with the longest retry (bv).
local binding, bv, tight, tv = 0, 0, 0, 0
for i = 1, n do
	local a = 9 * (i - 1) + 1
	local iv, cap, cost, mode = A[a + 1], A[a + 2], A[a + 3], A[a + 4]
	local tat, pt, box, lv, ex, px = load(vals[i], i)
	local t = max(tat, now)
	local f, rem, retry, reset, dirty = 0, 0, 0, 0, false
	if cost < 0 then
		-- refund: only when the take is allowed, never beyond full
		if all and tat > now then
			t = max(now, tat + iv * cost)
			tat, dirty = t, true
			if pt == 0 and box == 0 and lv == 0 then
				ex = t
				if t == now then tat, ex = 0, 0 end
			end
		end
		if box > now then
			f, reset = 3, max(box, t) - now
		else
			local x = cap - (t - now)
			f, rem, reset = 1, x >= 0 and floor(x / iv) or -floor(-x / iv), t - now
		end
	else
		-- check
		local nt = t + iv * cost
		if box > now then
			f, retry, reset = 2, box - now, max(box, t) - now
		else
			if nt - cap > now then
				retry, reset = nt - cap - now, t - now
			else
				if mode == 1 then nt = t end
				f, reset = 1, nt - now
			end
			local x = cap - reset
			rem = x >= 0 and floor(x / iv) or -floor(-x / iv)
		end
		if all then
			if mode == 2 and f ~= 1 then
				-- saturate: a record spends what is left
				local st = max(t, min(t + iv * cost, now + cap))
				tat, ex, dirty = st, max(ex, st), true
				if box > now then
					reset = max(box, st) - now
				else
					local x = cap - (st - now)
					rem, retry, reset = x >= 0 and floor(x / iv) or -floor(-x / iv), st + iv * cost - cap - now, st - now
				end
			else
				if mode ~= 1 then
					tat = now + reset
					ex, dirty = max(ex, tat), true
				end
				if mode ~= 2 and (binding == 0 or rem < bv) then binding, bv = i, rem end
			end
		elseif f == 1 then
			if mode ~= 1 then
				-- allowed alone, but nothing was spent
				rem, reset = rem + cost, reset - cost * iv
			end
		elseif mode ~= 2 then
			local after = A[a + 5]
			if f == 0 and after > 0 and mode == 0 then
				-- penalize: count a denial, and box the key when they run out
				dirty = true
				local piv = A[a + 6]
				local q = max(pt, now) + piv
				if q - now < piv * after then
					pt, ex = q, max(ex, q)
				else
					local breset = A[a + 9]
					if box > 0 and now - box >= breset then lv = 0 end
					local d = boxFor(A[a + 7], A[a + 8], lv)
					pt, box, lv = now, now + d, min(lv + 1, 62)
					ex = max(ex, box + breset)
					f, rem, retry, reset = 2, 0, d, max(reset, d)
				end
			end
			if binding == 0 or retry > bv then binding, bv = i, retry end
		end
	end
	if tight == 0 or rem < tv then tight, tv = i, rem end
	o = o + 1
	out[o] = reset * 4 + f
	if f >= 2 then
		o = o + 1
		out[o] = retry
	end
	if dirty then save(i, tat, pt, box, lv, ex, px, cap) end
end
if binding == 0 then binding = tight end
out[1] = out[1] + 2 * (binding - 1)
return pack('<' .. string.rep('d', o), unpack(out))
`

// argsPerRequest is the number of packed numbers per request.
const argsPerRequest = 9

// scriptKeyError ends the script's error for a key that holds something
// else than limiter state.
const scriptKeyError = "does not hold limiter state"

// Modes of a request in the packed take.
const (
	modePeek   = 1
	modeRecord = 2
)

// takeSHA is the script's SHA-1, the name EVALSHA calls it by.
var takeSHA = func() string {
	sum := sha1.Sum([]byte(takeLua))
	return hex.EncodeToString(sum[:])
}()
