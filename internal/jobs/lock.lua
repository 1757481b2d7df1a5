-- lock.lua: claim one tick of a job and the job's run lease.
-- KEYS[1] the tick    string  claimed by one run, kept for ARGV[2] ms
-- KEYS[2] the lease   string  held while the run lasts, at most ARGV[3] ms
-- ARGV[1] a token unique to this run
-- Returns 1 when both were taken, 0 when the tick was claimed already, -1
-- when the job's previous run still holds the lease. The tick key is never
-- deleted early: a node whose timer fires late for the same tick must still
-- find it claimed.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[3]) then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
