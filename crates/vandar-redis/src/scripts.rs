//! The Lua scripts. Each runs atomically on the Redis server; together with the key layout
//! (see the crate docs) they are the whole protocol between replicas.

use std::sync::LazyLock;

use redis::Script;

/// Take the refresh lease for the pair whose refresh-token fingerprint is `ARGV[1]`.
///
/// KEYS: pair hash, lease, spent marker. ARGV: fingerprint, lease id, lease ms.
/// Returns `{"newer", pair}`, `{"spent", how}`, `{"granted", ""}` or `{"wait", pttl}`.
pub(crate) static BEGIN_REFRESH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local stored = redis.call('HGET', KEYS[1], 'fp')
if stored and stored ~= ARGV[1] then
  return {'newer', redis.call('HGET', KEYS[1], 'pair') or ''}
end
local spent = redis.call('GET', KEYS[3])
if spent then
  local sep = string.find(spent, '|', 1, true)
  if sep and string.sub(spent, 1, sep - 1) == ARGV[1] then
    return {'spent', string.sub(spent, sep + 1)}
  end
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {'granted', ''}
end
return {'wait', tostring(redis.call('PTTL', KEYS[2]))}
"#,
    )
});

/// Compare-and-set after a refresh: store the new pair only if the stored one is still the
/// refreshed one (or none); release the lease if this holder still has it.
///
/// KEYS: pair hash, lease, spent marker. ARGV: old fingerprint, lease id, new fingerprint,
/// new pair. Returns `{"saved", ""}` or `{"newer", pair}`.
pub(crate) static FINISH_REFRESH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local stored = redis.call('HGET', KEYS[1], 'fp')
local result
if (not stored) or stored == ARGV[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[3], 'pair', ARGV[4])
  redis.call('DEL', KEYS[3])
  result = {'saved', ''}
else
  result = {'newer', redis.call('HGET', KEYS[1], 'pair') or ''}
end
if redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
end
return result
"#,
    )
});

/// A failed refresh: mark the refresh token spent (unless `ARGV[3]` is empty), release the
/// lease if this holder still has it.
///
/// KEYS: lease, spent marker. ARGV: lease id, fingerprint, how it was spent, marker ms.
pub(crate) static ABANDON_REFRESH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[4])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
"#,
    )
});

/// Store a pair unconditionally (an application installing a new pair), or only when none
/// is stored (`ARGV[3]` = "nx"). KEYS: pair hash, spent marker. ARGV: fingerprint, pair, mode.
/// Returns 1 when stored.
pub(crate) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if ARGV[3] == 'nx' and redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'pair', ARGV[2])
redis.call('DEL', KEYS[2])
return 1
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
