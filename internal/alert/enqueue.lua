-- enqueue.lua: queue deliveries that are not queued yet.
-- KEYS[1] outbox   zset  delivery id -> due time (unix ms)
-- KEYS[2] bodies   hash  delivery id -> delivery JSON
-- ARGV    triples of (delivery id, delivery JSON, due time in unix ms)
for i = 1, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 2], ARGV[i])
  end
end
return 0
