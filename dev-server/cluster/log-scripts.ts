/**
 * The Lua scripts that make an environment's log atomic in Redis: Centrifugo's Redis engine in
 * miniature (research/scale-out.md sections 1.1 and 5(A)). Each runs as one step, so no other
 * process can come between reading the epoch, taking a seq, writing history and publishing.
 * node-redis sends them with `EVALSHA` and falls back to `EVAL` (which caches them) on `NOSCRIPT`,
 * e.g. after a Redis restart.
 *
 * KEYS are always `meta` (hash: `epoch`, `seq`, `bytes`, `marker`) and `hist` (stream, entry id
 * `<seq>-0`, one field `d` holding the commit's JSON). ARGV[1] is always a fresh epoch, used only
 * when `meta` is missing: that is how lost data (FLUSHALL, a restart without persistence, an
 * eviction) shows, as a new epoch whose seqs start again at 1.
 */
import { defineScript, type CommandParser } from 'redis';
import type { EnvironmentKeys } from './environment-keys.js';

/**
 * Reads the epoch, or starts a new history: a stream left over from a lost epoch is dropped,
 * since its entries belong to no epoch and would block `XADD` of the new seq 1.
 */
const ENSURE_EPOCH = `
local meta, hist = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', hist)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', '0', 'bytes', '0')
end
local function seq_of(id) return tonumber(string.match(id, '^%d+')) end
local function int(n) return string.format('%d', n) end
`;

/**
 * Appends commits. ARGV: fresh epoch, historySize, historyBytes, channel, then a (marker,
 * payload) pair per commit. A commit whose marker is not after the stored one (byte order; Lua's
 * `<=` would follow the server's locale) is skipped and takes no seq: a source re-sending what
 * it already appended (the PostgreSQL slot after a takeover) adds nothing. The others take the
 * next seqs, join history, and go out as ONE pub/sub message
 * `{"epoch":…,"seq":<first>,"events":[…]}` (the payloads are JSON, so joining them is JSON).
 * History is then cut from the oldest end, exactly, while it holds more than historySize entries
 * or more than historyBytes bytes, never below one entry (as history.ts does). Returns
 * `{epoch, seq or 0 per commit}`.
 */
const APPEND_LUA = `${ENSURE_EPOCH}
local size, max_bytes, channel = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local state = redis.call('HMGET', meta, 'seq', 'bytes', 'marker')
local seq, bytes, marker = tonumber(state[1]), tonumber(state[2]) or 0, state[3]
-- A stream evicted on its own (a maxmemory policy other than noeviction) takes its bytes along.
if redis.call('XLEN', hist) == 0 then bytes = 0 end
local function after(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local out, parts, first = { epoch }, {}, nil
for i = 5, #ARGV, 2 do
  local m, payload = ARGV[i], ARGV[i + 1]
  if m ~= '' and marker and not after(m, marker) then
    out[#out + 1] = 0
  else
    seq = seq + 1
    redis.call('XADD', hist, int(seq) .. '-0', 'd', payload)
    bytes = bytes + #payload
    if m ~= '' then marker = m end
    out[#out + 1] = seq
    first = first or seq
    parts[#parts + 1] = payload
  end
end
if not first then return out end
local len, cut = redis.call('XLEN', hist), nil
while len > 1 and (len > size or bytes > max_bytes) do
  local start = cut and ('(' .. cut) or '-'
  local batch = redis.call('XRANGE', hist, start, '+', 'COUNT', math.min(math.max(len - size, 1), 100))
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    if len <= 1 or (len <= size and bytes <= max_bytes) then break end
    bytes = bytes - #entry[2][2]
    len = len - 1
    cut = entry[1]
  end
end
if cut then redis.call('XTRIM', hist, 'MINID', '=', int(seq_of(cut) + 1) .. '-0') end
if len == 1 then bytes = #parts[#parts] end
redis.call('HSET', meta, 'seq', int(seq), 'bytes', int(bytes))
if marker then redis.call('HSET', meta, 'marker', marker) end
redis.call('PUBLISH', channel,
  '{"epoch":"' .. epoch .. '","seq":' .. int(first) .. ',"events":[' .. table.concat(parts, ',') .. ']}')
return out
`;

/**
 * Reads history after a position, in one step with the epoch and the current seq. ARGV: fresh
 * epoch, since, the reader's epoch ('' for "the current one"), limit. Returns `{epoch, seq,
 * status, id, payload, id, payload…}`; status `ok` (the entries after `since`, at most `limit`),
 * `epoch` (another epoch), `ahead` (`since` is past the current seq) or `truncated` (the entry
 * after `since` has left history). A limit of 0 reads only the position.
 */
const READ_LUA = `${ENSURE_EPOCH}
local seq = tonumber(redis.call('HGET', meta, 'seq'))
local since, want, limit = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local out = { epoch, seq }
if want ~= '' and want ~= epoch then out[3] = 'epoch' return out end
if since > seq then out[3] = 'ahead' return out end
out[3] = 'ok'
if since == seq or limit == 0 then return out end
local oldest = redis.call('XRANGE', hist, '-', '+', 'COUNT', 1)[1]
if not oldest or seq_of(oldest[1]) > since + 1 then out[3] = 'truncated' return out end
for _, entry in ipairs(redis.call('XRANGE', hist, '(' .. int(since), '+', 'COUNT', limit)) do
  out[#out + 1] = entry[1]
  out[#out + 1] = entry[2][2]
end
return out
`;

/**
 * Starts a new epoch if the current one is still `expected` (ARGV: fresh epoch, expected): for
 * a history that went back (Redis restarted from a snapshot or an AOF that lacks its last
 * writes, so seqs already handed out would be handed out again for other commits). The marker
 * stays: what the source appended before is still appended. Returns `{epoch, seq}`.
 */
const RENEW_LUA = `${ENSURE_EPOCH}
if epoch == ARGV[2] then
  epoch = ARGV[1]
  redis.call('DEL', hist)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', '0', 'bytes', '0')
end
return { epoch, tonumber(redis.call('HGET', meta, 'seq')) }
`;

/** A script's reply as node-redis hands it over (RESP3: arrays of strings and numbers). */
export type ScriptReply = Array<string | number>;

function script(lua: string) {
  return defineScript({
    SCRIPT: lua,
    NUMBER_OF_KEYS: 2,
    parseCommand(parser: CommandParser, keys: EnvironmentKeys, args: readonly string[]) {
      parser.pushKey(keys.meta);
      parser.pushKey(keys.hist);
      parser.push(...args);
    },
    transformReply: undefined as unknown as () => ScriptReply,
  });
}

/** The scripts, as node-redis's `createClient({ scripts })` takes them. */
export const LOG_SCRIPTS = {
  appendCommits: script(APPEND_LUA),
  readHistory: script(READ_LUA),
  renewEpoch: script(RENEW_LUA),
};
