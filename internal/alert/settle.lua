-- settle.lua: record the outcome of an attempt, if its lease still holds.
-- KEYS[1] outbox   zset  delivery id -> due time (unix ms)
-- KEYS[2] bodies   hash  delivery id -> delivery JSON
-- KEYS[3] leases   hash  delivery id -> token of the claim that holds it
-- KEYS[4] dead     list  dead letters, newest first
-- ARGV[1] "done", "retry" or "bury"; ARGV[2] delivery id; ARGV[3] the
-- token of the attempt's claim; ARGV[4] the delivery JSON (retry, bury);
-- ARGV[5] when it is due again (retry, unix ms); ARGV[6] most dead letters
-- Returns 1 when recorded, 0 when the lease was lost: another claim took
-- the delivery over, or it was settled already. Nothing changes then, so a
-- late attempt cannot bring back a delivery another node completed.
if redis.call('HGET', KEYS[3], ARGV[2]) ~= ARGV[3] then
  return 0
end
redis.call('HDEL', KEYS[3], ARGV[2])
if ARGV[1] == 'retry' then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
  redis.call('ZADD', KEYS[1], 'XX', ARGV[5], ARGV[2])
  return 1
end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if ARGV[1] == 'bury' then
  redis.call('LPUSH', KEYS[4], ARGV[4])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
end
return 1
