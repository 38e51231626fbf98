-- Change reservations after admission, or cool a budget down. Keys and values as in admit.lua.
--
-- KEYS: w60, w10, tok, st of budget 1, then of budget 2, ...
-- ARGV: settle  id actual_tokens   the reservation now holds what the request really used
--       refund  id                 the reservation is gone: its tokens and its request
--       cool    now seconds_us     (one budget) refuse everything until now + seconds_us
-- A reservation that already left the 60-s window is not found and needs nothing: it counts no more.

local op = ARGV[1]

local function each_budget(action)
  for base = 0, #KEYS - 1, 4 do
    action(KEYS[base + 1], KEYS[base + 2], KEYS[base + 3], KEYS[base + 4])
  end
end

if op == 'settle' then
  local id, actual = ARGV[2], tonumber(ARGV[3])
  each_budget(function(w60, w10, tok, st)
    local held = tonumber(redis.call('HGET', tok, id))
    if not held then return end
    local delta = actual - held
    redis.call('HSET', tok, id, actual)
    redis.call('HINCRBY', st, 't60', delta)
    if redis.call('ZSCORE', w10, id) then redis.call('HINCRBY', st, 't10', delta) end
  end)
  return 1
end

if op == 'refund' then
  local id = ARGV[2]
  each_budget(function(w60, w10, tok, st)
    local held = tonumber(redis.call('HGET', tok, id))
    if not held then return end
    redis.call('ZREM', w60, id)
    redis.call('HDEL', tok, id)
    redis.call('HINCRBY', st, 't60', 0 - held)
    redis.call('HINCRBY', st, 'r60', -1)
    if redis.call('ZREM', w10, id) == 1 then
      redis.call('HINCRBY', st, 't10', 0 - held)
      redis.call('HINCRBY', st, 'r10', -1)
    end
  end)
  return 1
end

if op == 'cool' then
  local now
  if ARGV[2] ~= '' then
    now = tonumber(ARGV[2])
  else
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000000 + tonumber(time[2])
  end
  local w60, w10, tok, st = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
  local cool = math.max(tonumber(redis.call('HGET', st, 'cool')) or 0, now + tonumber(ARGV[3]))
  redis.call('HSET', st, 'cool', cool)
  -- As in admit.lua: the same expiry for all four keys, at least until the cool-down ends.
  local ttl = 70000 + math.floor((cool - now) / 1000)
  for _, key in ipairs({w60, w10, tok, st}) do redis.call('PEXPIRE', key, ttl) end
  return 1
end

return redis.error_reply('settle.lua: unknown op ' .. tostring(op))
