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
// ARGV[1]: the take, packed as little-endian doubles (so that the server
// makes one Lua string of it, and parses it in one call): now in µs, or 0
// for the server's TIME (tests pass a time; the store always passes 0, so
// that app servers' clocks do not matter); then for each request:
// interval µs, capacity µs (interval × burst), cost (negative to give
// back), mode (1 peek, 2 record, + 4 when a penalty's five numbers
// follow: after, penalty interval µs, box for µs, box max µs, box reset
// µs; see gcra.Params).
//
// State per key, a string: 8 bytes (TAT, a little-endian double) when the
// key has no penalty state and Expire == TAT, else 40 bytes (TAT, PTAT,
// BoxUntil, Level, Expire). Each key written gets PXAT Expire, rounded up
// to the millisecond: after Expire the state is identical to a missing key.
// A key given back up to full, which Step leaves as the zero state, is
// deleted.
//
// Reply, integers: allowed + 2 × binding (0-based), then per request:
// flags (1 allowed, 2 penalized), remaining, retry µs, reset µs.
//
// A single plain request, the most common take, has a path of its own
// (Step's stepOne): GET instead of MGET and no tables.
const takeLua = `
local up, pack = struct.unpack, struct.pack
local max, min, floor = math.max, math.min, math.floor
local P = ARGV[1]
local now, pos = up('<d', P)
if now == 0 then
	local t = redis.call('TIME')
	now = t[1] * 1000000 + t[2]
end
local n = #KEYS

-- load decodes a key's value: TAT, PTAT, BoxUntil, Level, Expire.
local function load(v, i)
	if not v then return 0, 0, 0, 0, 0 end
	local l = #v
	if l == 8 then
		local tat = up('<d', v)
		return tat, 0, 0, 0, tat
	elseif l == 40 then
		return up('<ddddd', v)
	end
	error('antifraud: key ' .. KEYS[i] .. ' ` + scriptKeyError + `')
end

-- save writes a key's state, expiring at Expire.
local function save(i, tat, pt, box, lv, ex)
	if ex == 0 then
		redis.call('DEL', KEYS[i])
		return
	end
	local v
	if pt == 0 and box == 0 and lv == 0 and ex == tat then
		v = pack('<d', tat)
	else
		v = pack('<ddddd', tat, pt, box, lv, ex)
	end
	redis.call('SET', KEYS[i], v, 'PXAT', string.format('%d', math.ceil(ex / 1000)))
end

-- div is Go's integer division, which truncates toward zero.
local function div(x, y)
	if x >= 0 then return floor(x / y) end
	return -floor(-x / y)
end

-- boxFor returns the box of a penalty whose params start at p, at level:
-- For doubled level times, at most Max.
local function boxFor(p, level)
	local d, m = up('<dd', P, p + 16)
	local c = 0
	while c < level and d < m do
		d, c = d * 2, c + 1
	end
	if d > m then d = m end
	return d
end

if n == 1 then
	local iv, cap, cost, mode
	iv, cap, cost, mode, pos = up('<dddd', P, pos)
	if cost >= 0 and (mode == 0 or mode == 4) then
		-- One plain request.
		local tat, pt, box, lv, ex = load(redis.call('GET', KEYS[1]), 1)
		local t = max(tat, now)
		if box > now then
			return {0, 2, 0, box - now, max(box, t) - now}
		end
		local nt = t + iv * cost
		if nt - cap <= now then
			save(1, nt, pt, box, lv, max(ex, nt))
			return {1, 1, div(cap - (nt - now), iv), 0, nt - now}
		end
		local reset = t - now
		if mode == 0 then
			return {0, 0, div(cap - reset, iv), nt - cap - now, reset}
		end
		-- Count the denial, and box the key when the count runs out.
		local after, piv = up('<dd', P, pos)
		local p = max(pt, now) + piv
		if p - now < piv * after then
			save(1, tat, p, box, lv, max(ex, p))
			return {0, 0, div(cap - reset, iv), nt - cap - now, reset}
		end
		local breset = up('<d', P, pos + 32)
		if box > 0 and now - box >= breset then lv = 0 end
		local d = boxFor(pos, lv)
		save(1, tat, now, now + d, min(lv + 1, 62), max(ex, now + d + breset))
		return {0, 2, 0, d, max(reset, d)}
	end
	pos = 9
end

-- Any take. S: per request i at k = 6(i-1): TAT, PTAT, BoxUntil, Level,
-- Expire, dirty. A: at q = 5(i-1): interval, capacity, cost, mode, and the
-- position of the penalty's numbers (or false). out: the reply, request
-- i's result at j = 4i-2: flags, remaining, retry, reset.
local vals = redis.call('MGET', unpack(KEYS))
local S, A, out = {}, {}, {0}
local all = true
for i = 1, n do
	local k, q, j = 6 * (i - 1), 5 * (i - 1), 4 * i - 2
	local tat, pt, box, lv, ex = load(vals[i], i)
	S[k + 1], S[k + 2], S[k + 3], S[k + 4], S[k + 5], S[k + 6] = tat, pt, box, lv, ex, false
	local iv, cap, cost, mode
	iv, cap, cost, mode, pos = up('<dddd', P, pos)
	local pp = false
	if mode >= 4 then
		pp, pos, mode = pos, pos + 40, mode - 4
	end
	A[q + 1], A[q + 2], A[q + 3], A[q + 4], A[q + 5] = iv, cap, cost, mode, pp
	if cost >= 0 then
		-- check; a refund's result comes after the decision
		local t = max(tat, now)
		if box > now then
			out[j], out[j + 1], out[j + 2], out[j + 3] = 2, 0, box - now, max(box, t) - now
			if mode ~= 2 then all = false end
		else
			local nt = t + iv * cost
			if nt - cap > now then
				out[j], out[j + 1], out[j + 2], out[j + 3] = 0, div(cap - (t - now), iv), nt - cap - now, t - now
				if mode ~= 2 then all = false end
			else
				if mode == 1 then nt = t end
				out[j], out[j + 1], out[j + 2], out[j + 3] = 1, div(cap - (nt - now), iv), 0, nt - now
			end
		end
	end
end

-- refund gives back request i's tokens (when apply) and writes its result.
local function refund(i, apply)
	local k, q, j = 6 * (i - 1), 5 * (i - 1), 4 * i - 2
	local iv, cap, cost = A[q + 1], A[q + 2], A[q + 3]
	local tat = max(S[k + 1], now)
	if apply and S[k + 1] > now then
		tat = max(now, S[k + 1] + iv * cost)
		S[k + 1], S[k + 6] = tat, true
		if S[k + 2] == 0 and S[k + 3] == 0 and S[k + 4] == 0 then
			S[k + 5] = tat
			if tat == now then S[k + 1], S[k + 5] = 0, 0 end
		end
	end
	local box = S[k + 3]
	if box > now then
		out[j], out[j + 1], out[j + 2], out[j + 3] = 3, 0, 0, max(box, tat) - now
	else
		out[j], out[j + 1], out[j + 2], out[j + 3] = 1, div(cap - (tat - now), iv), 0, tat - now
	end
end

local binding = 0
if all then
	out[1] = 1
	for i = 1, n do
		local k, q, j = 6 * (i - 1), 5 * (i - 1), 4 * i - 2
		local iv, cap, cost, mode = A[q + 1], A[q + 2], A[q + 3], A[q + 4]
		if cost < 0 then
			refund(i, true)
		elseif mode == 2 and out[j] % 2 == 0 then
			-- saturate: a record spends what is left
			local t = max(S[k + 1], now)
			local tat = max(t, min(t + iv * cost, now + cap))
			S[k + 1], S[k + 5], S[k + 6] = tat, max(S[k + 5], tat), true
			local box = S[k + 3]
			if box > now then
				out[j + 3] = max(box, tat) - now
			else
				out[j + 1], out[j + 2], out[j + 3] = div(cap - (tat - now), iv), tat + iv * cost - cap - now, tat - now
			end
		else
			if mode ~= 1 then
				local tat = now + out[j + 3]
				S[k + 1], S[k + 5], S[k + 6] = tat, max(S[k + 5], tat), true
			end
			if mode ~= 2 and (binding == 0 or out[j + 1] < out[4 * binding - 1]) then binding = i end
		end
	end
	if binding == 0 then
		binding = 1
		for i = 2, n do
			if out[4 * i - 1] < out[4 * binding - 1] then binding = i end
		end
	end
else
	for i = 1, n do
		local k, q, j = 6 * (i - 1), 5 * (i - 1), 4 * i - 2
		local iv, cost, mode, pp = A[q + 1], A[q + 3], A[q + 4], A[q + 5]
		if cost < 0 then
			refund(i, false)
		elseif out[j] == 1 then
			if mode ~= 1 then
				-- allowed alone, but nothing was spent
				out[j + 1] = out[j + 1] + cost
				out[j + 3] = out[j + 3] - cost * iv
			end
		elseif mode ~= 2 then
			if out[j] == 0 and pp and mode == 0 then
				-- penalize: count a denial, and box the key when they run out
				S[k + 6] = true
				local after, piv = up('<dd', P, pp)
				local p = max(S[k + 2], now) + piv
				if p - now < piv * after then
					S[k + 2], S[k + 5] = p, max(S[k + 5], p)
				else
					local breset = up('<d', P, pp + 32)
					local lv, box = S[k + 4], S[k + 3]
					if box > 0 and now - box >= breset then lv = 0 end
					local d = boxFor(pp, lv)
					S[k + 2], S[k + 3], S[k + 4] = now, now + d, min(lv + 1, 62)
					S[k + 5] = max(S[k + 5], now + d + breset)
					out[j], out[j + 1], out[j + 2], out[j + 3] = 2, 0, d, max(out[j + 3], d)
				end
			end
			if binding == 0 or out[j + 2] > out[4 * binding] then binding = i end
		end
	end
end
out[1] = out[1] + 2 * (binding - 1)

for i = 1, n do
	local k = 6 * (i - 1)
	if S[k + 6] then
		save(i, S[k + 1], S[k + 2], S[k + 3], S[k + 4], S[k + 5])
	end
end
return out
`

// scriptKeyError ends the script's error for a key that holds something
// else than limiter state.
const scriptKeyError = "does not hold limiter state"

// The reply's shape.
const (
	replyHeader     = 1
	replyPerRequest = 4
)

// Mode bits of a request in the packed take.
const (
	modePeek    = 1
	modeRecord  = 2
	modePenalty = 4
)

// takeSHA is the script's SHA-1, the name EVALSHA calls it by.
var takeSHA = func() string {
	sum := sha1.Sum([]byte(takeLua))
	return hex.EncodeToString(sum[:])
}()
