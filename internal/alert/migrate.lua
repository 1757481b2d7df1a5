-- migrate.lua: move follow-ups of the old key layout (pb:{t}:fu:<id>, whose
-- ids could collide with the indexes) to the new one.
-- KEYS[1] old index   zset  id -> score
-- KEYS[2] new index   zset  id -> score
-- KEYS[3..] pairs of (old follow-up key, new follow-up key), one per id
-- ARGV    pairs of (id, score), in the same order
-- Returns how many follow-ups are now in the new index. Every id leaves
-- the old index; a follow-up whose old key expired is gone already.
local moved = 0
for i = 1, #ARGV, 2 do
  local old, new = KEYS[i + 2], KEYS[i + 3]
  -- An id that names an old index ("unresolved") is no follow-up key.
  if redis.call('TYPE', old).ok == 'string' then
    -- RENAME keeps the key's TTL (resolved follow-ups expire).
    if redis.call('RENAMENX', old, new) == 0 then
      redis.call('DEL', old) -- opened again under the new layout meanwhile
    end
  end
  if redis.call('EXISTS', new) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return moved
