-- record.lua: upsert one batch of survey responses, atomically.
--
-- KEYS[1]                 the change log stream
-- KEYS[2]                 the bucket index: a sorted set of bucket keys,
--                         scored by when they expire, so a snapshot finds
--                         them without scanning the keyspace
-- KEYS[3 .. 2+S*R*3]      bucket hashes; for time slot s (0-based), rollup r
--                         (0-based, ARGV order) and granularity g (0 minute,
--                         1 hour, 2 day): KEYS[3 + (s*R + r)*3 + g]
-- KEYS[3+S*R*3 .. +N-1]   one record key per item, batch order: a
--                         response's or an offer's (they live apart)
-- then                    the offer keys that responses name (each once)
--
-- ARGV[1]                 now, unix seconds (the application's clock)
-- ARGV[2]                 how long a response id is remembered after its
--                         time, seconds
-- ARGV[3]                 change log MAXLEN (approximate trim)
-- ARGV[4]                 R, the number of rollups; ARGV[5 .. 4+R] their names
-- ARGV[5+R]               S, the number of time slots; then per slot 4 values:
--                         its minute (unix minutes) and the TTL in seconds of
--                         its minute, hour and day bucket (<= 0: the bucket is
--                         past its retention and is not written)
-- then N, the number of items, and per item 3 values: its record, its
--                         flags ("1" if its time was given, else "0": a known
--                         response keeps its stored time; then ":<l>" when it
--                         answers the l-th offer, 1-based, of those below) and
--                         its JSON payload for the change log
-- then per offer answered, its payload for the change log; its key is
--                         KEYS[first record key + N + l - 1]
--
-- A record is "fp;at;cells;v<version>;rollup=group;...": a content
-- fingerprint, the unix time, the counters it adds to (comma-separated:
-- "0".."10" an NPS score, as every record had before CSAT and offers,
-- "c1".."c5" a CSAT score, "o" an offer, "a" an answered offer), the
-- producer's version (the part is absent when there is none, as in records
-- written before versions existed) and the group it counts in per rollup.
-- Bucket hash fields are "group:cell" (store.Tally.AddCell).
--
-- Offers: a response that names an offer marks it answered when the
-- response is first applied (new or updated): the offer's record gains
-- "a" and its "a" counter counts where the offer counts, at the offer's
-- time. An offer not yet recorded gets the record "answered" instead, so
-- that the offer, when it comes, is recorded answered. An answered offer
-- stays answered through its own updates.
--
-- A response whose version is lower than its stored record's is stale:
-- counted, not applied. One without a version keeps the stored version.
-- A duplicate with a higher version rewrites the record (no counts, no
-- change log entry) so that versions between the two become stale.
--
-- The change log gets one entry per call that changed something: p (the id
-- of the entry before it), n (number of changes) and c (one line per change:
-- new record, old record or "", payload; tab-separated).
--
-- Returns {accepted, updated, duplicates, change log id or "", stale}; or
-- {"need", minute, ...} when a stored response lives in a minute that has no
-- slot: then nothing was written, and the caller calls again with those
-- minutes added (it cannot know them before reading the stored records).

local now = tonumber(ARGV[1])
local dedupe = tonumber(ARGV[2])
local maxlen = ARGV[3]
local R = tonumber(ARGV[4])
local rollup_index = {}
for r = 0, R - 1 do
  rollup_index[ARGV[5 + r]] = r
end
local S = tonumber(ARGV[5 + R])
local slot_of, ttl_of = {}, {}
local a = 6 + R
for s = 0, S - 1 do
  slot_of[tonumber(ARGV[a])] = s
  ttl_of[s] = { tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]) }
  a = a + 4
end
local N = tonumber(ARGV[a])
local first_response_argv = a + 1
local first_link_argv = first_response_argv + N * 3
local first_id_key = 3 + S * R * 3
local first_link_key = first_id_key + N
local ANSWERED = 'answered'

-- Versions are at most 2^53-1 (store.MaxVersion), exact in Lua's doubles;
-- v is the number (0: none), vtext its digits for writing back.
local function parse(s)
  local fp, at, cells, rest = string.match(s, '^([^;]*);(%-?%d+);([^;]+)(.*)$')
  -- the version part is "v" and all digits up to the next ";": a group
  -- part such as "v2=x" is not one
  local vtext, after = string.match(rest, '^;v(%d+)(.*)$')
  if vtext == nil or (after ~= '' and string.sub(after, 1, 1) ~= ';') then
    vtext = ''
  else
    rest = after
  end
  -- src is the record's text for as long as nothing changes it (most
  -- records are written back as they came): set it to nil on a change
  return { fp = fp, at = tonumber(at), cells = cells, v = tonumber(vtext) or 0, vtext = vtext, rest = rest, src = s }
end

local function encode(rec)
  if rec.src then
    return rec.src
  end
  local v = ''
  if rec.v > 0 then
    v = ';v' .. rec.vtext
  end
  return rec.fp .. ';' .. string.format('%d', rec.at) .. ';' .. rec.cells .. v .. rec.rest
end

-- An offer's cells are "o" or "o,a".
local function is_offer(rec)
  return string.sub(rec.cells, 1, 1) == 'o'
end
local function is_answered(rec)
  return rec.cells == 'o,a'
end

local function minute_of(rec)
  return math.floor(rec.at / 60)
end

-- Phase 1: read every stored record once (the items' and the offers they
-- name); stop before writing anything if one lives in a minute without a
-- slot.
local current = {}
local missing, need = {}, { 'need' }
for i = first_id_key, #KEYS do
  local k = KEYS[i]
  if current[k] == nil then
    local v = redis.call('GET', k)
    if v == ANSWERED then
      current[k] = { early = true }
    elseif v then
      local rec = parse(v)
      current[k] = rec
      local m = minute_of(rec)
      if slot_of[m] == nil and not missing[m] then
        missing[m] = true
        need[#need + 1] = m
      end
    else
      current[k] = false
    end
  end
end
if #need > 1 then
  return need
end

-- Phase 2: decide each response in batch order and sum the counter deltas.
local deltas, key_order, key_ttl = {}, {}, {}
local function add(rec, sign)
  local s = slot_of[minute_of(rec)]
  local ttls = ttl_of[s]
  -- most records add to one cell; the others (NPS with CSAT, an answered
  -- offer) also add to the cells in more
  local first, more = ':' .. rec.cells, nil
  if string.find(rec.cells, ',', 1, true) then
    more = {}
    for cell in string.gmatch(rec.cells, '[^,]+') do
      more[#more + 1] = ':' .. cell
    end
    first = table.remove(more, 1)
  end
  for name, group in string.gmatch(rec.rest, ';([^;=]+)=([^;]*)') do
    local r = rollup_index[name]
    if r ~= nil then
      local field = group .. first
      for g = 0, 2 do
        local ttl = ttls[g + 1]
        if ttl > 0 then
          local key = KEYS[3 + (s * R + r) * 3 + g]
          local d = deltas[key]
          if d == nil then
            d = {}
            deltas[key] = d
            key_order[#key_order + 1] = key
            key_ttl[key] = ttl
          end
          d[field] = (d[field] or 0) + sign
          if more then
            for _, suffix in ipairs(more) do
              local f = group .. suffix
              d[f] = (d[f] or 0) + sign
            end
          end
        end
      end
    end
  end
end

local accepted, updated, duplicates, stale = 0, 0, 0, 0
local writes, write_order = {}, {}
local changes = {}
local function write(k, rec)
  if writes[k] == nil then
    write_order[#write_order + 1] = k
  end
  writes[k] = rec
end
-- answer marks the l-th offer answered (see the top).
local function answer(l)
  local k = KEYS[first_link_key + l - 1]
  local payload = ARGV[first_link_argv + l - 1]
  local o = current[k]
  if not o then
    current[k] = { early = true }
    write(k, current[k])
  elseif not o.early and not is_answered(o) then
    local n = parse(encode(o))
    n.cells, n.src = 'o,a', nil
    add(o, -1)
    add(n, 1)
    current[k] = n
    write(k, n)
    changes[#changes + 1] = encode(n) .. '\t' .. encode(o) .. '\t' .. payload
  end
end

for i = 0, N - 1 do
  local k = KEYS[first_id_key + i]
  local base = first_response_argv + i * 3
  local new = parse(ARGV[base])
  local flags = ARGV[base + 1]
  local at_given = string.byte(flags, 1) == 49 -- "1"
  local old = current[k]
  if old and old.early then
    -- an answer named this offer before it came
    old = false
    new.cells, new.src = 'o,a', nil
  elseif old and is_offer(new) and is_answered(old) then
    new.cells, new.src = 'o,a', nil
  end
  if old and not at_given then
    new.at, new.src = old.at, nil
  end
  if old and new.v == 0 then
    new.v, new.vtext, new.src = old.v, old.vtext, nil
  end
  if old and new.v < old.v then
    stale = stale + 1
  elseif old and old.fp == new.fp and old.at == new.at then
    duplicates = duplicates + 1
    if new.v > old.v then
      old.v, old.vtext, old.src = new.v, new.vtext, nil
      write(k, old)
    end
  else
    local old_encoded = ''
    if old then
      add(old, -1)
      updated = updated + 1
      old_encoded = encode(old)
    else
      accepted = accepted + 1
    end
    add(new, 1)
    current[k] = new
    local encoded = encode(new)
    write(k, new)
    changes[#changes + 1] = encoded .. '\t' .. old_encoded .. '\t' .. ARGV[base + 2]
    if #flags > 1 then
      answer(tonumber(string.sub(flags, 3)))
    end
  end
end

-- Phase 3: write. A bucket that did not exist before this batch gets its
-- TTL once, and its entry in the bucket index; a negative delta into such a
-- bucket is a retraction of counts that expired with it, and is dropped.
for _, key in ipairs(key_order) do
  local existed = redis.call('EXISTS', key) == 1
  local wrote = false
  for field, d in pairs(deltas[key]) do
    if d > 0 or (d < 0 and existed) then
      redis.call('HINCRBY', key, field, d)
      wrote = true
    end
  end
  if wrote and not existed then
    redis.call('EXPIRE', key, key_ttl[key])
    redis.call('ZADD', KEYS[2], now + key_ttl[key], key)
  end
end
if #key_order > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
end

for _, k in ipairs(write_order) do
  local rec = writes[k]
  local ttl = dedupe
  if not rec.early then
    ttl = rec.at + dedupe - now
  end
  if rec.early then
    redis.call('SET', k, ANSWERED, 'EX', ttl)
  elseif ttl > 0 then
    redis.call('SET', k, encode(rec), 'EX', ttl)
  else
    redis.call('DEL', k)
  end
end

-- Each log entry names the entry before it ("p"), so a reader can tell a
-- continuous log from one that was trimmed or lost under it.
local log_id = ''
if #changes > 0 then
  local prev = '0-0'
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if last[1] then
    prev = last[1][1]
  end
  log_id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'p', prev, 'n', #changes, 'c', table.concat(changes, '\n'))
end
return { accepted, updated, duplicates, log_id, stale }
