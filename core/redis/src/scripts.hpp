// The Lua scripts that change primitive state on the server (atomically).
//
// Every primitive script takes
//   KEYS[1] state  KEYS[2] fence counter  KEYS[3] holders hash
//   KEYS[4] registry  KEYS[5] history list  KEYS[6] history id counter
//   ARGV[1] holder token (RLock: owner)  ARGV[2] lease or expiry in ms
//   ARGV[3] holder record ("host\tboot\tpidns\tpid\tstart\tthread")
//   ARGV[4] primitive name  ARGV[5] kind ("lock", "rlock", "semaphore:<bound>", "averager")
//   ARGV[6] history fields ("holder\tpid\tthread\thost\twaited_ms"; "" = no history)
//   ARGV[7] wake channel  ARGV[8] per script: bound, event name or value
// Acquire scripts return the fencing token (> 0), or minus the
// milliseconds until the current lease ends (a hint for the waiter).
// History entries: "id\tat_ms\tevent\tkind\tholder\tpid\tthread\thost\twaited_ms\tname".
#pragma once

#include "link.hpp"

namespace diskcache::redis::detail {

#define DC_PRELUDE                                                                                        \
  "local t = redis.call('TIME')\n"                                                                        \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"                               \
  "local function record(event)\n"                                                                        \
  "  if ARGV[6] == '' then return end\n"                                                                  \
  "  local id = redis.call('INCR', KEYS[6])\n"                                                            \
  "  local kind = string.match(ARGV[5], '^[^:]+')\n"                                                      \
  "  redis.call('LPUSH', KEYS[5], id .. '\\t' .. now .. '\\t' .. event .. '\\t' .. kind .. '\\t' .. "     \
  "ARGV[6] .. '\\t' .. ARGV[4])\n"                                                                        \
  "  redis.call('LTRIM', KEYS[5], 0, 9999)\n"                                                             \
  "end\n"                                                                                                 \
  "local function hold(fence)\n"                                                                          \
  "  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3] .. '\\t' .. now .. '\\t' .. fence)\n"                   \
  "  redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])\n"                                                     \
  "  record('acquire')\n"                                                                                 \
  "end\n"                                                                                                 \
  "local function wait_hint(ms)\n"                                                                        \
  "  if ms < 1 then ms = 1 end\n"                                                                         \
  "  return -ms\n"                                                                                        \
  "end\n"

inline constexpr Script kLockAcquire{"lock_acquire", DC_PRELUDE R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local f = redis.call('INCR', KEYS[2])
  redis.call('DEL', KEYS[3])
  hold(f)
  return f
end
return wait_hint(redis.call('PTTL', KEYS[1]))
)lua"};

// Quorum mode: ARGV[8] is the fencing token chosen for ARGV[1]'s
// acquisition (the highest the granting servers issued). Raises this
// server's counter to it, so that the next acquisition, whose majority
// meets this one's, issues a higher token. 1 while ARGV[1] still holds the
// lock here, else 0 (the counter is raised either way).
inline constexpr Script kFenceRaise{"fence_raise", R"lua(
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[8]) then redis.call('SET', KEYS[2], ARGV[8]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
)lua"};

// ARGV[8]: the event to record ("release" or "force-release"). 1 if released.
inline constexpr Script kLockRelease{"lock_release", DC_PRELUDE R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[3], ARGV[1])
record(ARGV[8])
redis.call('PUBLISH', ARGV[7], ARGV[4])
return 1
)lua"};

inline constexpr Script kLockExtend{"lock_extend", DC_PRELUDE R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua"};

inline constexpr Script kRLockAcquire{"rlock_acquire", DC_PRELUDE R"lua(
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then
  local f = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', 1, 'fence', f)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('DEL', KEYS[3])
  hold(f)
  return f
elseif owner == ARGV[1] then
  redis.call('HINCRBY', KEYS[1], 'count', 1)
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return tonumber(redis.call('HGET', KEYS[1], 'fence'))
end
return wait_hint(redis.call('PTTL', KEYS[1]))
)lua"};

// ARGV[8]: "release" (one level) or "force-release" (all). Returns the
// remaining depth, or -1 when ARGV[1] is not the owner.
inline constexpr Script kRLockRelease{"rlock_release", DC_PRELUDE R"lua(
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return -1 end
local left = 0
if ARGV[8] == 'release' then left = redis.call('HINCRBY', KEYS[1], 'count', -1) end
if left <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  record(ARGV[8])
  redis.call('PUBLISH', ARGV[7], ARGV[4])
  left = 0
end
return left
)lua"};

inline constexpr Script kRLockExtend{"rlock_extend", DC_PRELUDE R"lua(
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua"};

// ARGV[8]: the bound. Expired permits are dropped first.
inline constexpr Script kSemAcquire{"sem_acquire", DC_PRELUDE R"lua(
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, token in ipairs(gone) do redis.call('HDEL', KEYS[3], token) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[8]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  local f = redis.call('INCR', KEYS[2])
  hold(f)
  return f
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return wait_hint(tonumber(first[2]) - now)
)lua"};

// ARGV[8]: the event. 1 if the permit was held (and is returned), 0 if its
// lease had ended or it was never held.
inline constexpr Script kSemRelease{"sem_release", DC_PRELUDE R"lua(
local until_ms = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not until_ms then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[7], ARGV[4])
if tonumber(until_ms) <= now then return 0 end
record(ARGV[8])
return 1
)lua"};

inline constexpr Script kSemExtend{"sem_extend", DC_PRELUDE R"lua(
local until_ms = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not until_ms or tonumber(until_ms) <= now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
)lua"};

inline constexpr Script kSemInUse{"sem_in_use", DC_PRELUDE R"lua(
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
)lua"};

// SharedLock: KEYS[1] is a sorted set of members "w:<token>" (the writer),
// "r:<token>" (readers) and "q:<token>" (announced waiting writers), each
// scored with the ms its lease or announcement ends. Release and renew are
// kSemRelease and kSemExtend on the member (ARGV[1]); ARGV[8] of a release
// is "release", "release-shared" or "force-release".
#define DC_SHARED_PRELUDE                                                                                  \
  "local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)\n"                                       \
  "for _, m in ipairs(gone) do redis.call('HDEL', KEYS[3], m) end\n"                                       \
  "if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end\n"                           \
  "local writer, readers, waiting, soonest = false, 0, false, nil\n"                                       \
  "local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\n"                                   \
  "for i = 1, #members, 2 do\n"                                                                           \
  "  local p = string.sub(members[i], 1, 2)\n"                                                             \
  "  if p == 'w:' then writer = true elseif p == 'r:' then readers = readers + 1 "                         \
  "elseif p == 'q:' and members[i] ~= 'q:' .. ARGV[1] then waiting = true end\n"                           \
  "  if p ~= 'q:' and (not soonest or tonumber(members[i + 1]) < soonest) then "                            \
  "soonest = tonumber(members[i + 1]) end\n"                                                               \
  "end\n"                                                                                                 \
  "local function take(member, event)\n"                                                                  \
  "  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member)\n"                                       \
  "  local f = redis.call('INCR', KEYS[2])\n"                                                              \
  "  redis.call('HSET', KEYS[3], member, ARGV[3] .. '\\t' .. now .. '\\t' .. f)\n"                     \
  "  redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])\n"                                                      \
  "  record(event)\n"                                                                                     \
  "  return f\n"                                                                                          \
  "end\n"

// ARGV[1]: the token; ARGV[8]: the announcement in ms. Takes "w:<token>"
// when nobody holds the lock, else announces "q:<token>".
inline constexpr Script kSharedAcquireWrite{"shared_acquire_write", DC_PRELUDE DC_SHARED_PRELUDE R"lua(
if not writer and readers == 0 then
  redis.call('ZREM', KEYS[1], 'q:' .. ARGV[1])
  return take('w:' .. ARGV[1], 'acquire')
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[8]), 'q:' .. ARGV[1])
return wait_hint((soonest or now + 1) - now)
)lua"};

// ARGV[1]: the token. Takes "r:<token>" unless a writer holds or waits.
inline constexpr Script kSharedAcquireRead{"shared_acquire_read", DC_PRELUDE DC_SHARED_PRELUDE R"lua(
if not writer and not waiting then return take('r:' .. ARGV[1], 'acquire-shared') end
return wait_hint((soonest or now + 1) - now)
)lua"};

#undef DC_SHARED_PRELUDE

// ARGV[8]: the value; ARGV[2]: expiry in ms, 0 for none.
inline constexpr Script kAvgAdd{"avg_add", DC_PRELUDE R"lua(
redis.call('HINCRBYFLOAT', KEYS[1], 'total', ARGV[8])
redis.call('HINCRBY', KEYS[1], 'count', 1)
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
return 1
)lua"};

inline constexpr Script kAvgPop{"avg_pop", DC_PRELUDE R"lua(
local v = redis.call('HMGET', KEYS[1], 'total', 'count')
redis.call('DEL', KEYS[1])
return {v[1] or '', v[2] or ''}
)lua"};

// Records ARGV[8] (e.g. "timeout") in the history.
inline constexpr Script kRecord{"record", DC_PRELUDE R"lua(
record(ARGV[8])
return 1
)lua"};

// KEYS[1] registry; ARGV[1] key prefix; ARGV[2] one name or "" for all.
// Returns {now_ms, {name, kind, data, holders}, ...} where data is
// lock: {token, pttl}; rlock: {owner, count, pttl}; semaphore: the live
// permits {token, until_ms, ...}; shared-lock: its live members {member,
// until_ms, ...}; averager: {total, count}.
inline constexpr Script kInspect{"inspect", R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local names
if ARGV[2] ~= '' then
  local kind = redis.call('HGET', KEYS[1], ARGV[2])
  if not kind then return {now} end
  names = {ARGV[2], kind}
else
  names = redis.call('HGETALL', KEYS[1])
end
local out = {now}
for i = 1, #names, 2 do
  local name, kind = names[i], names[i + 1]
  local base = ARGV[1] .. '{' .. name .. '}:'
  local kindname = string.match(kind, '^[^:]+')
  local data
  if kindname == 'lock' then
    data = {redis.call('GET', base .. 'lock') or '', redis.call('PTTL', base .. 'lock')}
  elseif kindname == 'rlock' then
    local h = base .. 'rlock'
    data = {redis.call('HGET', h, 'owner') or '', redis.call('HGET', h, 'count') or '0', redis.call('PTTL', h)}
  elseif kindname == 'semaphore' then
    data = redis.call('ZRANGEBYSCORE', base .. 'sem', '(' .. now, '+inf', 'WITHSCORES')
  elseif kindname == 'shared-lock' then
    data = redis.call('ZRANGEBYSCORE', base .. 'rw', '(' .. now, '+inf', 'WITHSCORES')
  else
    local a = redis.call('HMGET', base .. 'avg', 'total', 'count')
    data = {a[1] or '', a[2] or ''}
  end
  out[#out + 1] = {name, kind, data, redis.call('HGETALL', base .. 'holders')}
end
return out
)lua"};

#undef DC_PRELUDE

}  // namespace diskcache::redis::detail
