package redis

import goredis "github.com/redis/go-redis/v9"

// takeScript is ratelimit.Step in Lua. It must give the same answers as Step
// for every input: the differential tests run both on random sequences.
//
// Times are integers of microseconds in Lua numbers (doubles, exact to 2^53
// µs, about 285 years after 1970). Every duration the script sees is a whole
// number of microseconds: limit intervals are truncated to
// ratelimit.Resolution by the core, and penalty durations that are not whole
// microseconds are rejected by the store.
//
// KEYS: one per request, all with the same hash tag.
// ARGV[1]: now in µs, or "" for the server's TIME (tests pass a time; the
// store always passes "", so that app servers' clocks do not matter).
// ARGV[2+9(i-1) ...]: for request i: interval µs, burst, cost (≥ 1), peek
// (0/1), penalty after (0 when off), penalty interval µs, box for µs, box
// max µs, box reset µs.
//
// State per key, a string: 8 bytes (TAT, a little-endian double) when the
// key has no penalty state and Expire == TAT, else 40 bytes (TAT, PTAT,
// BoxUntil, Level, Expire). Each key written gets PXAT Expire, rounded up
// to the millisecond: after Expire the state is identical to a missing key.
//
// Reply: {allowed, binding (0-based), then per request allowed, remaining,
// retry µs, reset µs, penalized}.
const takeLua = `
local now = tonumber(ARGV[1])
if not now then
	local t = redis.call('TIME')
	now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local n = #KEYS
local vals = redis.call('MGET', unpack(KEYS))
local tat, ptat, box, lvl, exp = {}, {}, {}, {}, {}
local IV, COST, PEEK, PA, PIV, PFOR, PMAX, PRESET = {}, {}, {}, {}, {}, {}, {}, {}
local ok, rem, retry, reset, pen, dirty = {}, {}, {}, {}, {}, {}
local max = math.max

-- Go's integer division truncates toward zero.
local function idiv(a, b)
	if a >= 0 then return math.floor(a / b) end
	return -math.floor(-a / b)
end

local all = true
for i = 1, n do
	local v = vals[i]
	if not v then
		tat[i], ptat[i], box[i], lvl[i], exp[i] = 0, 0, 0, 0, 0
	elseif #v == 8 then
		local t = struct.unpack('<d', v)
		tat[i], ptat[i], box[i], lvl[i], exp[i] = t, 0, 0, 0, t
	elseif #v == 40 then
		tat[i], ptat[i], box[i], lvl[i], exp[i] = struct.unpack('<ddddd', v)
	else
		return redis.error_reply('ratelimit: key ' .. KEYS[i] .. ' does not hold limiter state')
	end
	local a = 1 + (i - 1) * 9
	local iv, burst, cost = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
	local peek = ARGV[a + 4] == '1'
	IV[i], COST[i], PEEK[i] = iv, cost, peek
	PA[i], PIV[i], PFOR[i], PMAX[i], PRESET[i] = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6]),
		tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]), tonumber(ARGV[a + 9])

	-- check
	local cap = iv * burst
	local t = max(tat[i], now)
	pen[i], retry[i], rem[i] = false, 0, 0
	if box[i] > now then
		ok[i], pen[i] = false, true
		retry[i] = box[i] - now
		reset[i] = max(box[i], t) - now
	else
		local newtat = t + iv * cost
		local allowAt = newtat - cap
		if allowAt > now then
			ok[i] = false
			retry[i] = allowAt - now
			rem[i] = idiv(cap - (t - now), iv)
			reset[i] = t - now
		else
			ok[i] = true
			if peek then newtat = t end
			rem[i] = idiv(cap - (newtat - now), iv)
			reset[i] = newtat - now
		end
	end
	if not ok[i] then all = false end
end

local binding = 1
if all then
	for i = 1, n do
		if not PEEK[i] then
			tat[i] = max(tat[i], now) + IV[i] * COST[i]
			exp[i] = max(exp[i], tat[i])
			dirty[i] = true
		end
		if rem[i] < rem[binding] then binding = i end
	end
else
	binding = 0
	for i = 1, n do
		if ok[i] then
			if not PEEK[i] then
				rem[i] = rem[i] + COST[i]
				reset[i] = reset[i] - COST[i] * IV[i]
			end
		else
			if not pen[i] and PA[i] > 0 and not PEEK[i] then
				-- penalize: count a denial, and box the key when they run out
				dirty[i] = true
				local piv = PIV[i]
				local p = max(ptat[i], now) + piv
				if p - now < piv * PA[i] then
					ptat[i] = p
					exp[i] = max(exp[i], p)
				else
					local level = lvl[i]
					if box[i] > 0 and now - box[i] >= PRESET[i] then level = 0 end
					local d, m = PFOR[i], PMAX[i]
					local k = 0
					while k < level and d < m do
						d = d * 2
						k = k + 1
					end
					if d > m then d = m end
					box[i] = now + d
					lvl[i] = math.min(level + 1, 62)
					ptat[i] = now
					exp[i] = max(exp[i], box[i] + PRESET[i])
					pen[i], rem[i], retry[i] = true, 0, d
					reset[i] = max(reset[i], d)
				end
			end
			if binding == 0 or retry[i] > retry[binding] then binding = i end
		end
	end
end

for i = 1, n do
	if dirty[i] then
		local v
		if ptat[i] == 0 and box[i] == 0 and lvl[i] == 0 and exp[i] == tat[i] then
			v = struct.pack('<d', tat[i])
		else
			v = struct.pack('<ddddd', tat[i], ptat[i], box[i], lvl[i], exp[i])
		end
		redis.call('SET', KEYS[i], v, 'PXAT', string.format('%d', math.ceil(exp[i] / 1000)))
	end
end

local out = {all and 1 or 0, binding - 1}
for i = 1, n do
	local j = 3 + (i - 1) * 5
	out[j] = ok[i] and 1 or 0
	out[j + 1] = rem[i]
	out[j + 2] = retry[i]
	out[j + 3] = reset[i]
	out[j + 4] = pen[i] and 1 or 0
end
return out
`

// argsPerRequest is the number of ARGV entries per request.
const argsPerRequest = 9

// replyPerRequest is the number of reply entries per request.
const replyPerRequest = 5

var takeScript = goredis.NewScript(takeLua)
