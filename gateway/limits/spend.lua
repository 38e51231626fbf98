-- A client key's spend in its capped periods (the day's and the month's), in nano-USD: spend_redis.py.
--
-- KEYS: one hash per period, all under the {limits} hash tag (one Cluster slot, so one script run covers them).
-- Each hash holds `spent` (settled costs plus the amounts still held) and `h:<hold id>` per request in flight.
--
-- ARGV[1] = "reserve": ARGV[2] hold id, ARGV[3] amount, then per key i: ARGV[2+2i] cap, ARGV[3+2i] ttl seconds.
--   Adds the amount to every period if it fits under each cap, else to none.
--   Answers {1, 0, 0} admitted, or {0, i, spent} refused by key i, whose hash holds `spent`.
--   A hold already present (a call retried after a lost reply) is admitted again without charging twice.
-- ARGV[1] = "settle": ARGV[2] hold id, ARGV[3] actual amount. Replaces the hold by the actual amount in every
--   period that still has it; ended holds are left alone, so settling twice charges once.
-- ARGV[1] = "peek": answers each period's `spent` (0 when absent).

local op = ARGV[1]

if op == "peek" then
  local found = {}
  for i, key in ipairs(KEYS) do
    found[i] = tonumber(redis.call("HGET", key, "spent") or "0")
  end
  return found
end

local hold = "h:" .. ARGV[2]

if op == "reserve" then
  if #KEYS == 0 or redis.call("HEXISTS", KEYS[1], hold) == 1 then
    return {1, 0, 0}
  end
  local amount = tonumber(ARGV[3])
  for i, key in ipairs(KEYS) do
    local spent = tonumber(redis.call("HGET", key, "spent") or "0")
    if spent + amount > tonumber(ARGV[2 + 2 * i]) then
      return {0, i, spent}
    end
  end
  for i, key in ipairs(KEYS) do
    -- The amount as the caller wrote it: Lua would print a large number in exponent form, which HINCRBY refuses.
    redis.call("HINCRBY", key, "spent", ARGV[3])
    redis.call("HSET", key, hold, ARGV[3])
    redis.call("EXPIRE", key, ARGV[3 + 2 * i])
  end
  return {1, 0, 0}
end

if op == "settle" then
  local actual = tonumber(ARGV[3])
  for _, key in ipairs(KEYS) do
    local held = redis.call("HGET", key, hold)
    if held then
      redis.call("HINCRBY", key, "spent", string.format("%d", actual - tonumber(held)))
      redis.call("HDEL", key, hold)
    end
  end
  return {1, 0, 0}
end

return redis.error_reply("spend.lua: unknown operation " .. tostring(op))
