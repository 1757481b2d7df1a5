-- claim.lua: lease the deliveries that are due.
-- KEYS[1] outbox   zset  delivery id -> due time (unix ms)
-- KEYS[2] bodies   hash  delivery id -> delivery JSON
-- KEYS[3] leases   hash  delivery id -> token of the claim that holds it
-- ARGV[1] now (unix ms), ARGV[2] lease end (unix ms), ARGV[3] most to claim,
-- ARGV[4] this claim's token
-- Returns the claimed deliveries' JSON. A claimed delivery becomes due
-- again at the lease end, so a node that dies mid-delivery leaves it to
-- another one; the token lets settle.lua refuse the outcome of a lease that
-- a later claim replaced.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local body = redis.call('HGET', KEYS[2], id)
  if body then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    out[#out + 1] = body
  else
    redis.call('ZREM', KEYS[1], id) -- a body lost to a partial write: nothing to send
    redis.call('HDEL', KEYS[3], id)
  end
end
return out
