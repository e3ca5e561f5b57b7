//! The Lua scripts. Each runs atomically on the Redis server and touches keys of one hash
//! tag (one Cluster slot). The token protocol itself lives in the runtime
//! (`vandar_runtime::token::protocol`); these only make its compare-and-swap atomic and give
//! it Redis's clock.

use std::sync::LazyLock;

use redis::Script;

/// The token record and the server's clock, in one atomic read.
///
/// KEYS: the record hash. Returns `{seconds, micros, rev | false, blob | false}`.
pub(crate) static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local got = redis.call('HMGET', KEYS[1], 'rev', 'blob')
return {t[1], t[2], got[1], got[2]}
"#,
    )
});

/// Compare-and-swap of the token record: write `rev` and `blob` only if the stored `rev` is
/// `ARGV[1]` (`''`: only if no record is stored).
///
/// KEYS: the record hash. ARGV: expected rev (or `''`), new rev, new blob.
/// Returns `{1, seconds, micros}` when written, else `{0, seconds, micros, rev | false,
/// blob | false}` (what is stored).
pub(crate) static SWAP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local got = redis.call('HMGET', KEYS[1], 'rev', 'blob')
local cur = got[1]
local matches
if ARGV[1] == '' then matches = not cur else matches = (cur == ARGV[1]) end
if matches then
  redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'blob', ARGV[3])
  return {1, t[1], t[2]}
end
return {0, t[1], t[2], cur, got[2]}
"#,
    )
});

/// A heartbeat of one replica, and the number of live ones: the member's score is when its
/// heartbeat ends (server clock, ms); ended ones are removed.
///
/// KEYS: the replicas sorted set. ARGV: member id, heartbeat ttl (ms). Returns the count.
pub(crate) static HEARTBEAT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
"#,
    )
});

/// A replica leaving: remove its heartbeat. KEYS: the replicas set. ARGV: member id.
pub(crate) static LEAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
return redis.call('ZREM', KEYS[1], ARGV[1])
"#,
    )
});

/// GCRA (virtual scheduling) with reservation, on the Redis server's clock.
///
/// KEYS: theoretical arrival time (µs), shared pause-until (µs). ARGV: emission interval T
/// (µs), tolerance tau = (burst - 1) * T (µs), the caller's longest wait (µs).
///
/// The caller's slot is at `max(tat - tau, now, pause)`; if that is within its wait, the slot
/// is taken (`tat = max(tat, slot) + T`) and `{1, wait}` returned, else `{0, wait}` and
/// nothing changes. Admission times obey GCRA's bound: at most `burst + floor(L / T)` in any
/// closed interval of length `L`.
pub(crate) static GCRA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local T = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local at = tat - tau
if at < now then at = now end
local pause = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if at < pause then at = pause end
local wait = at - now
if wait > max_wait then
  return {0, wait}
end
if at > tat then tat = at end
local new_tat = tat + T
local ttl = math.ceil((new_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl))
return {1, wait}
"#,
    )
});

/// Hold back every process for `ARGV[1]` µs (a 429). KEYS: pause-until (µs).
pub(crate) static PAUSE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local till = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if till > current then
  local ttl = math.ceil(tonumber(ARGV[1]) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', till), 'PX', string.format('%.0f', ttl))
end
return 1
"#,
    )
});
