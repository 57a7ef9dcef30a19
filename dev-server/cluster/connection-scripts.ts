/**
 * The Lua scripts of the cluster's connection counts (cluster-connections.ts). Each runs as one
 * step, so no other process comes between summing a client's connections and taking a slot.
 *
 * KEYS[1] is always the node table, a sorted set whose members are node ids and whose scores are
 * each node's deadline: the Redis time (ms) after which it counts as dead unless it beats again.
 * KEYS[2], where present, is one client's counts, a hash of node id → open connections.
 * ARGV[1] is always the calling node's id and ARGV[2] the node TTL (ms).
 *
 * Every script that a node runs also beats for it (the node is plainly alive) and returns, as its
 * last element, 1 when the node had been given up for dead (its deadline had passed or its entry
 * was gone: a stall longer than the TTL, a Redis that restarted empty). The other processes may
 * then have dropped its counts, so the node writes them all again (`sync`). Times are Redis's own
 * (`TIME`), so the processes' clocks need not agree.
 */
import { luaScript } from './command-connection.js';

/** Reads the time, beats for ARGV[1], and tells whether the node had been given up. */
const BEAT = `
local nodes, me = KEYS[1], ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function int(n) return string.format('%d', n) end
local before = tonumber(redis.call('ZSCORE', nodes, me))
local rejoined = (before and before >= now) and 0 or 1
redis.call('ZADD', nodes, int(now + tonumber(ARGV[2])), me)
local function alive(node)
  local deadline = tonumber(redis.call('ZSCORE', nodes, node))
  return deadline ~= nil and deadline >= now
end
`;

/** A heartbeat: beats, and drops from the node table the nodes whose deadline has passed. */
export const HEARTBEAT_SCRIPT = luaScript(`${BEAT}
redis.call('ZREMRANGEBYSCORE', nodes, '-inf', '(' .. int(now))
return { rejoined }
`);

/**
 * Takes a connection slot of one client if the cluster has fewer than ARGV[3] open: sums the
 * counts of the live nodes (the caller's own always counts), removes the counts of dead ones, and
 * adds one to the caller's. Returns `{taken (1|0), open connections after, rejoined}`.
 */
export const TRY_OPEN_SCRIPT = luaScript(`${BEAT}
local conns, max = KEYS[2], tonumber(ARGV[3])
local open = 0
local fields = redis.call('HGETALL', conns)
for i = 1, #fields, 2 do
  local node = fields[i]
  if node == me or alive(node) then
    open = open + tonumber(fields[i + 1])
  else
    redis.call('HDEL', conns, node)
  end
end
if open >= max then return { 0, open, rejoined } end
redis.call('HINCRBY', conns, me, 1)
return { 1, open + 1, rejoined }
`);

/** Gives back one slot of the caller's for one client (the field goes at 0). Returns `{rejoined}`. */
export const CLOSED_SCRIPT = luaScript(`${BEAT}
local conns = KEYS[2]
local mine = tonumber(redis.call('HGET', conns, me)) or 0
if mine <= 1 then redis.call('HDEL', conns, me) else redis.call('HINCRBY', conns, me, -1) end
return { rejoined }
`);

/** Counts the live nodes (deadline not passed); writes nothing. KEYS: the node table only. */
export const LIVE_NODES_SCRIPT = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], string.format('%d', now), '+inf')
`);
