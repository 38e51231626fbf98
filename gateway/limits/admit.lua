-- Admit one request against several budgets at once, all or nothing; or record a correction
-- ("observe") that lowers a budget's remaining tokens to what Azure reports; or report the budgets'
-- numbers without admitting anything ("peek").
--
-- Per budget, four keys that share one hash tag (so Redis Cluster can run this script):
--   w60  ZSET  reservation id -> time (microseconds), every reservation of the last 60 s
--   w10  ZSET  the same for the last 10 s (burst smoothing); corrections never enter it
--   tok  HASH  reservation id -> tokens it holds now (settling changes it)
--   st   HASH  running totals t60 r60 t10 r10 of the two windows, and `cool` (cool-down end)
-- Ids starting with "~" are corrections: tokens without a request.
--
-- KEYS: w60, w10, tok, st of budget 1, then of budget 2, ...
-- ARGV: op, now (microseconds; empty: the server's TIME), reservation id, then
--   admit:   tokens, and per budget: token limit, request limit, 10-s token cap, 10-s request cap (-1: none)
--   observe: token limit, Azure's remaining tokens (one budget)
--   peek:    (id empty) per budget: token limit, request limit (-1: none)
-- admit returns {admitted 0|1, wait us (-1: never fits), index of the blocking budget (0: none),
--   then per budget: tokens in 60 s, requests in 60 s, token reset us, request reset us, cool-down left us}.
-- observe returns the tokens it recorded.
-- peek returns per budget what admit does: tokens in 60 s, requests in 60 s, token reset us,
--   request reset us, cool-down left us.

local WINDOW, BURST_WINDOW = 60000000, 10000000
local IDLE_MS = 70000 -- keys outlive their last use by a little more than a window
local CHUNK = 100 -- ids read per command, well under Lua's unpack() limit

local op, id = ARGV[1], ARGV[3]
local now
if ARGV[2] ~= '' then
  now = tonumber(ARGV[2])
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end

local function budget_keys(i)
  local base = (i - 1) * 4
  return KEYS[base + 1], KEYS[base + 2], KEYS[base + 3], KEYS[base + 4]
end

local function requests_of(member)
  if string.byte(member, 1) == 126 then return 0 end -- "~": a correction
  return 1
end

-- Remove the entries of `zset` reserved at or before `upto`; return the tokens and requests they held.
local function drop(zset, tok, upto, forget)
  local tokens, requests, count = 0, 0, 0
  while true do
    local ids = redis.call('ZRANGEBYSCORE', zset, '-inf', upto, 'LIMIT', 0, CHUNK)
    if #ids == 0 then break end
    local amounts = redis.call('HMGET', tok, unpack(ids))
    for i, member in ipairs(ids) do
      tokens = tokens + (tonumber(amounts[i]) or 0)
      requests = requests + requests_of(member)
    end
    redis.call('ZREM', zset, unpack(ids))
    if forget then redis.call('HDEL', tok, unpack(ids)) end
    count = count + #ids
  end
  return tokens, requests, count
end

-- The budget's totals with the entries that left the windows taken out, and whether any did. An
-- entry reserved at t counts while now < t + window; it leaves the 10-s window first, while its
-- tokens are still known.
local function current_totals(w60, w10, tok, st)
  local v = redis.call('HMGET', st, 't60', 'r60', 't10', 'r10', 'cool')
  local c = {t60 = tonumber(v[1]) or 0, r60 = tonumber(v[2]) or 0, t10 = tonumber(v[3]) or 0,
             r10 = tonumber(v[4]) or 0, cool = tonumber(v[5]) or 0}
  -- A window emptied here restarts its totals from zero, so no drift can outlive a quiet minute.
  local tokens, requests, count = drop(w10, tok, now - BURST_WINDOW, false)
  c.t10, c.r10 = c.t10 - tokens, c.r10 - requests
  if count > 0 and redis.call('EXISTS', w10) == 0 then c.t10, c.r10 = 0, 0 end
  local recent_count = count
  tokens, requests, count = drop(w60, tok, now - WINDOW, true)
  c.t60, c.r60 = c.t60 - tokens, c.r60 - requests
  if count > 0 and redis.call('EXISTS', w60) == 0 then c.t60, c.r60 = 0, 0 end
  return c, recent_count + count > 0
end

local function store_totals(st, c)
  redis.call('HSET', st, 't60', c.t60, 'r60', c.r60, 't10', c.t10, 'r10', c.r10, 'cool', c.cool)
end

-- Save the totals and keep the budget's keys for IDLE_MS after this use (longer while cooling down).
-- All four keys always get the same expiry, so the totals never outlive the entries they count.
local function save(w60, w10, tok, st, c)
  store_totals(st, c)
  local ttl = IDLE_MS + math.max(0, math.floor((c.cool - now) / 1000))
  for _, key in ipairs({w60, w10, tok, st}) do redis.call('PEXPIRE', key, ttl) end
end

-- Microseconds until enough of the oldest entries of `zset` leave a window of `span` to free
-- `need_tokens` and `need_requests`; 0 when nothing is needed, -1 when all of them are not enough.
local function wait_for(zset, tok, need_tokens, need_requests, span)
  local token_wait, request_wait
  if need_tokens <= 0 then token_wait = 0 end
  if need_requests <= 0 then request_wait = 0 end
  local freed_tokens, freed_requests, start = 0, 0, 0
  while not (token_wait and request_wait) do
    local rows = redis.call('ZRANGE', zset, start, start + CHUNK - 1, 'WITHSCORES')
    if #rows == 0 then return -1 end
    local ids = {}
    for i = 1, #rows, 2 do ids[#ids + 1] = rows[i] end
    local amounts = redis.call('HMGET', tok, unpack(ids))
    for i, member in ipairs(ids) do
      freed_tokens = freed_tokens + (tonumber(amounts[i]) or 0)
      freed_requests = freed_requests + requests_of(member)
      local leaves = tonumber(rows[2 * i]) + span - now
      if not token_wait and freed_tokens >= need_tokens then token_wait = leaves end
      if not request_wait and freed_requests >= need_requests then request_wait = leaves end
      if token_wait and request_wait then break end
    end
    start = start + CHUNK
  end
  return math.max(token_wait, request_wait)
end

-- Microseconds until the newest entry holding tokens, and the newest request, leave the window:
-- then the whole limit is free again (the meaning of OpenAI's x-ratelimit-reset-*).
local function resets(zset, tok, want_tokens, want_requests)
  local token_at, request_at
  local start, size = 0, 2 -- the newest entry almost always answers both: read more only if not
  while (want_tokens and not token_at) or (want_requests and not request_at) do
    local rows = redis.call('ZREVRANGE', zset, start, start + size - 1, 'WITHSCORES')
    if #rows == 0 then break end
    local ids = {}
    for i = 1, #rows, 2 do ids[#ids + 1] = rows[i] end
    local amounts = redis.call('HMGET', tok, unpack(ids))
    for i, member in ipairs(ids) do
      local at = tonumber(rows[2 * i])
      if not token_at and (tonumber(amounts[i]) or 0) > 0 then token_at = at end
      if not request_at and requests_of(member) == 1 then request_at = at end
    end
    start, size = start + size, CHUNK
  end
  local token_reset, request_reset = 0, 0
  if want_tokens and token_at then token_reset = token_at + WINDOW - now end
  if want_requests and request_at then request_reset = request_at + WINDOW - now end
  return token_reset, request_reset
end

-- Microseconds until budget i has room for `tokens` and one request; -1 when it never will.
local function budget_wait(i, c, tokens)
  local w60, w10, tok = budget_keys(i)
  local base = 4 + (i - 1) * 4
  local token_limit, request_limit = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
  local token_cap, request_cap = tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  if (token_limit >= 0 and tokens > token_limit) or request_limit == 0 then return -1 end
  local need_tokens, need_requests, need_recent_tokens, need_recent_requests = 0, 0, 0, 0
  if token_limit >= 0 then need_tokens = c.t60 + tokens - token_limit end
  if request_limit >= 0 then need_requests = c.r60 + 1 - request_limit end
  -- A request bigger than the 10-s cap still passes once the 10-s window holds no tokens.
  if token_cap >= 0 then need_recent_tokens = math.min(c.t10 + tokens - token_cap, c.t10) end
  if request_cap >= 0 then need_recent_requests = c.r10 + 1 - request_cap end
  local long = wait_for(w60, tok, need_tokens, need_requests, WINDOW)
  local short = wait_for(w10, tok, need_recent_tokens, need_recent_requests, BURST_WINDOW)
  if long < 0 or short < 0 then return -1 end
  return math.max(c.cool - now, long, short, 0)
end

local function admit()
  local tokens = tonumber(ARGV[4])
  local count = #KEYS / 4
  local totals = {}
  for i = 1, count do totals[i] = current_totals(budget_keys(i)) end
  -- A client retry after a lost reply finds its reservation already made, and is told so again.
  local retried = redis.call('HEXISTS', KEYS[3], id) == 1
  local blocked, longest, wait = 0, 0, 0
  if not retried then
    for i = 1, count do
      local this_wait = budget_wait(i, totals[i], tokens)
      local length = this_wait
      if this_wait < 0 then length = math.huge end -- never fitting outranks any wait
      if length > longest then blocked, longest, wait = i, length, this_wait end
    end
  end
  local result = {0, wait, blocked}
  local added = blocked == 0 and not retried
  if blocked == 0 then result[1] = 1 end
  for i = 1, count do
    local w60, w10, tok, st = budget_keys(i)
    local c = totals[i]
    if added then
      redis.call('ZADD', w60, now, id)
      redis.call('ZADD', w10, now, id)
      redis.call('HSET', tok, id, tokens)
      c.t60, c.r60, c.t10, c.r10 = c.t60 + tokens, c.r60 + 1, c.t10 + tokens, c.r10 + 1
    end
    save(w60, w10, tok, st, c)
    local base = 4 + (i - 1) * 4
    local want_tokens, want_requests = tonumber(ARGV[base + 1]) >= 0, tonumber(ARGV[base + 2]) >= 0
    local token_reset, request_reset
    if added and tokens > 0 then
      -- The request just added is the newest entry: both resets are a whole window away.
      token_reset, request_reset = want_tokens and WINDOW or 0, want_requests and WINDOW or 0
    else
      token_reset, request_reset = resets(w60, tok, want_tokens, want_requests)
    end
    for _, value in ipairs({c.t60, c.r60, token_reset, request_reset, math.max(0, c.cool - now)}) do
      result[#result + 1] = value
    end
  end
  return result
end

local function observe()
  local limit, remaining = tonumber(ARGV[4]), tonumber(ARGV[5])
  local w60, w10, tok, st = budget_keys(1)
  local c = current_totals(w60, w10, tok, st)
  local shortfall = limit - c.t60 - remaining
  if shortfall > 0 and redis.call('HEXISTS', tok, id) == 0 then
    redis.call('ZADD', w60, now, id)
    redis.call('HSET', tok, id, shortfall)
    c.t60 = c.t60 + shortfall
  end
  save(w60, w10, tok, st, c)
  return math.max(0, shortfall)
end

-- Entries that left the windows are dropped as admit drops them, so the numbers are admit's and the
-- next call does not read them again; the totals are written back only when that changed them, and
-- no expiry is touched, so a budget that is only looked at is neither created nor kept alive.
local function peek()
  local result = {}
  for i = 1, #KEYS / 4 do
    local w60, w10, tok, st = budget_keys(i)
    local c, dropped = current_totals(w60, w10, tok, st)
    if dropped then store_totals(st, c) end
    local base = 3 + (i - 1) * 2
    local want_tokens, want_requests = tonumber(ARGV[base + 1]) >= 0, tonumber(ARGV[base + 2]) >= 0
    local token_reset, request_reset = resets(w60, tok, want_tokens, want_requests)
    for _, value in ipairs({c.t60, c.r60, token_reset, request_reset, math.max(0, c.cool - now)}) do
      result[#result + 1] = value
    end
  end
  return result
end

if op == 'admit' then return admit() end
if op == 'observe' then return observe() end
if op == 'peek' then return peek() end
return redis.error_reply('admit.lua: unknown op ' .. tostring(op))
