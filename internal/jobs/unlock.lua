-- unlock.lua: release a run lease, only if this run still holds it.
-- KEYS[1] the lease   string
-- ARGV[1] the token the run took it with
-- Returns 1 when released, 0 when the lease had expired or passed on.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
