-- open.lua: add a follow-up unless one with its id exists.
-- KEYS[1] the follow-up   string  follow-up JSON
-- KEYS[2] unresolved      zset    id -> opened (unix ms)
-- ARGV[1] id, ARGV[2] follow-up JSON, ARGV[3] opened (unix ms)
-- Returns 1 when added, 0 when it existed.
if redis.call('SET', KEYS[1], ARGV[2], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  return 1
end
return 0
