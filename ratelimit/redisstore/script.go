package redisstore

import "github.com/redis/go-redis/v9"

// takeScript is gcra.Step in Lua. It must give the same answers as Step
// for every input: the differential tests run both on random sequences.
//
// Times are integers of microseconds in Lua numbers (doubles, exact to 2^53
// µs, about 285 years after 1970). Every duration the script sees is a whole
// number of microseconds (see package gcra).
//
// KEYS: one per request, all with the same hash tag.
// ARGV[1]: now in µs, or "" for the server's TIME (tests pass a time; the
// store always passes "", so that app servers' clocks do not matter).
// ARGV[2+9(i-1) ...]: for request i: interval µs, burst, cost (negative to
// give back), mode (0 plain, 1 peek, 2 record), penalty after (0 when off),
// penalty interval µs, box for µs, box max µs, box reset µs (gcra.Params).
//
// State per key, a string: 8 bytes (TAT, a little-endian double) when the
// key has no penalty state and Expire == TAT, else 40 bytes (TAT, PTAT,
// BoxUntil, Level, Expire). Each key written gets PXAT Expire, rounded up
// to the millisecond: after Expire the state is identical to a missing key.
// A key given back up to full, which Step leaves as the zero state, is
// deleted.
//
// Reply: {allowed, binding (0-based), then per request allowed, remaining,
// retry µs, reset µs, penalized}.
const takeLua = `
local now = tonumber(ARGV[1])
if not now then
	local t = redis.call('TIME')
	now = t[1] * 1000000 + t[2]
end
local n = #KEYS
local vals = redis.call('MGET', unpack(KEYS))
local floor, max, min = math.floor, math.max, math.min
-- Go's integer division, which truncates toward zero.
local function div(x, y)
	if x >= 0 then return floor(x / y) end
	return -floor(-x / y)
end
-- S: per request i at k = 6(i-1): TAT, PTAT, BoxUntil, Level, Expire,
-- dirty. A: at 4(i-1): interval, burst, cost, mode. out: the reply;
-- request i's result at j = 3+5(i-1): allowed, remaining, retry, reset,
-- penalized.
local S, A, out = {}, {}, {1, 0}
local all = true
for i = 1, n do
	local k, a, j, q = 6 * (i - 1), 1 + 9 * (i - 1), 3 + 5 * (i - 1), 4 * (i - 1)
	local v = vals[i]
	local tat, box = 0, 0
	if not v then
		S[k + 1], S[k + 2], S[k + 3], S[k + 4], S[k + 5] = 0, 0, 0, 0, 0
	elseif #v == 8 then
		tat = struct.unpack('<d', v)
		S[k + 1], S[k + 2], S[k + 3], S[k + 4], S[k + 5] = tat, 0, 0, 0, tat
	elseif #v == 40 then
		local p, l, e
		tat, p, box, l, e = struct.unpack('<ddddd', v)
		S[k + 1], S[k + 2], S[k + 3], S[k + 4], S[k + 5] = tat, p, box, l, e
	else
		return redis.error_reply('ratelimit: key ' .. KEYS[i] .. ' does not hold limiter state')
	end
	S[k + 6] = false
	local iv, burst, cost, mode = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
	A[q + 1], A[q + 2], A[q + 3], A[q + 4] = iv, burst, cost, mode
	if cost >= 0 then
		-- check (gcra's check); a refund's result comes after the decision
		local cap = iv * burst
		local t = max(tat, now)
		local ok, rem, retry, reset, pen = 0, 0, 0, 0, 0
		if box > now then
			pen, retry, reset = 1, box - now, max(box, t) - now
		else
			local newtat = t + iv * cost
			local allowAt = newtat - cap
			if allowAt > now then
				retry, reset = allowAt - now, t - now
			else
				ok = 1
				if mode == 1 then newtat = t end
				reset = newtat - now
			end
			rem = div(cap - reset, iv)
		end
		if ok == 0 and mode ~= 2 then all = false end
		out[j], out[j + 1], out[j + 2], out[j + 3], out[j + 4] = ok, rem, retry, reset, pen
	end
end

-- refund gives back request i's tokens (when apply) and writes its result.
local function refund(i, apply)
	local k, j, q = 6 * (i - 1), 3 + 5 * (i - 1), 4 * (i - 1)
	local iv, burst, cost = A[q + 1], A[q + 2], A[q + 3]
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
		out[j], out[j + 1], out[j + 2], out[j + 3], out[j + 4] = 1, 0, 0, max(box, tat) - now, 1
	else
		out[j], out[j + 1], out[j + 2], out[j + 3], out[j + 4] = 1, div(iv * burst - (tat - now), iv), 0, tat - now, 0
	end
end

local binding = 0
if all then
	for i = 1, n do
		local k, j, q = 6 * (i - 1), 3 + 5 * (i - 1), 4 * (i - 1)
		local iv, burst, cost, mode = A[q + 1], A[q + 2], A[q + 3], A[q + 4]
		if cost < 0 then
			refund(i, true)
		elseif mode == 2 and out[j] == 0 then
			-- saturate: a record spends what is left
			local cap = iv * burst
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
				local tat = max(S[k + 1], now) + iv * cost
				S[k + 1], S[k + 5], S[k + 6] = tat, max(S[k + 5], tat), true
			end
			if mode ~= 2 and (binding == 0 or out[j + 1] < out[3 + 5 * (binding - 1) + 1]) then binding = i end
		end
	end
	if binding == 0 then
		binding = 1
		for i = 2, n do
			if out[3 + 5 * (i - 1) + 1] < out[3 + 5 * (binding - 1) + 1] then binding = i end
		end
	end
else
	out[1] = 0
	for i = 1, n do
		local k, j, q = 6 * (i - 1), 3 + 5 * (i - 1), 4 * (i - 1)
		local iv, cost, mode = A[q + 1], A[q + 3], A[q + 4]
		if cost < 0 then
			refund(i, false)
		elseif out[j] == 1 then
			if mode ~= 1 then
				-- allowed alone, but nothing was spent
				out[j + 1] = out[j + 1] + cost
				out[j + 3] = out[j + 3] - cost * iv
			end
		elseif mode ~= 2 then
			local a = 1 + 9 * (i - 1)
			local after = tonumber(ARGV[a + 5])
			if out[j + 4] == 0 and after > 0 and mode == 0 then
				-- penalize: count a denial, and box the key when they run out
				S[k + 6] = true
				local piv = tonumber(ARGV[a + 6])
				local p = max(S[k + 2], now) + piv
				if p - now < piv * after then
					S[k + 2], S[k + 5] = p, max(S[k + 5], p)
				else
					local reset = tonumber(ARGV[a + 9])
					local level, box = S[k + 4], S[k + 3]
					if box > 0 and now - box >= reset then level = 0 end
					local d, m = tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8])
					local c = 0
					while c < level and d < m do
						d, c = d * 2, c + 1
					end
					if d > m then d = m end
					S[k + 2], S[k + 3], S[k + 4] = now, now + d, min(level + 1, 62)
					S[k + 5] = max(S[k + 5], now + d + reset)
					out[j + 1], out[j + 2], out[j + 3], out[j + 4] = 0, d, max(out[j + 3], d), 1
				end
			end
			if binding == 0 or out[j + 2] > out[3 + 5 * (binding - 1) + 2] then binding = i end
		end
	end
end
out[2] = binding - 1

for i = 1, n do
	local k = 6 * (i - 1)
	if S[k + 6] then
		local tat, p, box, l, e = S[k + 1], S[k + 2], S[k + 3], S[k + 4], S[k + 5]
		if tat == 0 and p == 0 and box == 0 and l == 0 and e == 0 then
			redis.call('DEL', KEYS[i])
		else
			local v
			if p == 0 and box == 0 and l == 0 and e == tat then
				v = struct.pack('<d', tat)
			else
				v = struct.pack('<ddddd', tat, p, box, l, e)
			end
			redis.call('SET', KEYS[i], v, 'PXAT', string.format('%d', math.ceil(e / 1000)))
		end
	end
end
return out
`

// argsPerRequest is the number of ARGV entries per request.
const argsPerRequest = 9

// replyPerRequest is the number of reply entries per request.
const replyPerRequest = 5

var takeScript = redis.NewScript(takeLua)
