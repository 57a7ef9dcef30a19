/**
 * Valid messages of every type (PROTOCOL.md sections 2–4), and a generator of broken variants of
 * any JSON value, for tests that hold two validators to the same verdict.
 */
import { PROTOCOL_NAME } from '../../protocol/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const record = {
  id: 'o_17',
  status: 'paid',
  total: 120.5,
  tags: ['gift'],
  customer: { name: 'Ada', address: { city: 'Paris' } },
  note: null,
  createdAt: '2024-05-01T10:00:00.000Z',
};
const eventBase = { seq: 1241, sub: 's1', timestamp: '2024-05-01T10:00:01.000Z' };
const member = { connectionId: 'c_2', meta: { name: 'Ada', cursor: { x: 1, y: 2 } } };

/** One valid message of every server message type, and the variants of optional parts. */
export const SERVER_MESSAGES: readonly Json[] = [
  {
    type: 'welcome',
    protocol: PROTOCOL_NAME,
    connectionId: 'c_1',
    client: 'acme',
    environment: 'production',
    epoch: 'e_1',
    seq: 1234,
    heartbeatMs: 30000,
    sessionExpiresAt: '2024-05-01T11:00:00.000Z',
    limits: { maxSubscriptions: 100, maxBatchEvents: 1000, flushIntervalMs: 5000, maxMessageBytes: 65536 },
  },
  { type: 'subscribed', id: 's1', seq: 0 },
  {
    type: 'subscribed',
    id: 's1',
    seq: 12,
    snapshot: [record, { id: 'o_18' }],
    truncated: true,
    resumed: false,
  },
  { type: 'subscribed', id: 'p', seq: 12, resumed: true, members: [member] },
  { type: 'unsubscribed', id: 's1' },
  { type: 'published', id: 'pub1', channel: 'events:promo', seq: 9 },
  { type: 'published', channel: 'events:promo', seq: 9 },
  { type: 'ping', t: 1714557600000 },
  { type: 'ping', t: 'token' },
  { type: 'ping' },
  { type: 'pong', t: 7 },
  { type: 'pong' },
  { type: 'error', code: 4010, name: 'channel_unavailable', message: 'no such object', id: 's1' },
  {
    type: 'error',
    code: 4000,
    name: 'bad_request',
    message: 'filter.where: unknown operator',
    details: [{ path: ['filter', 'where'], message: 'unknown operator' }],
  },
  { type: 'batch', events: [] },
  {
    type: 'batch',
    events: [
      {
        ...eventBase,
        channel: 'records:orders',
        object: 'orders',
        operation: 'update',
        change: 'modified',
        id: 'o_17',
        record,
        oldRecord: { ...record, status: 'pending' },
        changedFields: ['status', 'updatedAt'],
        correlationId: 'req-1',
      },
      {
        ...eventBase,
        seq: 1242,
        channel: 'records:orders',
        object: 'orders',
        operation: 'create',
        change: 'added',
        id: 'o_18',
        record: { id: 'o_18' },
      },
      { ...eventBase, seq: 1243, channel: 'events:promo', topic: 'promo', data: { code: 'SUMMER', pct: 10 } },
      { ...eventBase, seq: 1244, channel: 'events:promo', topic: 'promo', data: null },
      { ...eventBase, seq: 1245, channel: 'presence:lobby', change: 'join', member },
      {
        ...eventBase,
        seq: 1246,
        channel: 'presence:lobby',
        change: 'leave',
        member: { connectionId: 'c_3', meta: {} },
      },
    ],
  },
];

/** One valid message of every client message type, with every optional part somewhere. */
export const CLIENT_MESSAGES: readonly Json[] = [
  { type: 'auth', token: '6c1f0b7e-3f4a-4a8e-9d6b-2f1e0c9a8b7d' },
  { type: 'subscribe', id: 's1', channel: 'records:orders' },
  {
    type: 'subscribe',
    id: 's1',
    channel: 'records:orders',
    filter: {
      operations: ['create', 'UPDATE'],
      recordId: 'o_17',
      where: { status: 'pending', total: { $gte: 100 }, $or: [{ tags: { $contains: 'gift' } }] },
    },
    fields: ['title', 'customer.name'],
    snapshot: { limit: 20, sort: ['-createdAt', 'name'] },
    since: 1234,
    epoch: 'e_1',
  },
  {
    type: 'subscribe',
    id: 's2',
    channel: 'records:orders',
    filter: {
      where: [
        ['status', '=', 'pending'],
        ['total', '>=', 100],
      ],
    },
    snapshot: true,
  },
  { type: 'subscribe', id: 'p', channel: 'presence:lobby', meta: { name: 'Ada' }, snapshot: false },
  { type: 'unsubscribe', id: 's1' },
  { type: 'publish', id: 'pub1', channel: 'events:promo', data: { code: 'SUMMER' } },
  { type: 'publish', channel: 'events:promo', data: [1, 'two', null] },
  { type: 'ping', t: 'x' },
  { type: 'pong', t: 3 },
];

/** A `GET /api/users/ws-auth/` body and HTTP error bodies. */
export const WS_AUTH_RESPONSES: readonly Json[] = [
  {
    token: '6c1f0b7e-3f4a-4a8e-9d6b-2f1e0c9a8b7d',
    expiresAt: '2024-05-01T10:01:00.000Z',
    environment: 'production',
    url: '/ws/events/object-records/',
  },
];

/** HTTP error bodies. */
export const ERROR_BODIES: readonly Json[] = [
  { error: { code: 'unauthorized', message: 'unknown key' } },
  { error: { code: 'bad_request', message: 'where: …', details: [{ path: ['where'], message: 'x' }] } },
];

/** A broken (or sometimes still valid) variant of a value: what changed, where, and the result. */
export type Mutation = { path: (string | number)[]; change: string; value: Json };

/** Values every node is replaced with in turn: wrong types, bounds, lengths, other enums' members. */
const REPLACEMENTS: readonly Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1000,
  1001,
  2 ** 53,
  -(2 ** 53),
  1e300,
  '',
  'x',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(129),
  'x'.repeat(256),
  'x'.repeat(257),
  'x'.repeat(258),
  'nope',
  'create',
  'INSERT',
  'added',
  'join',
  'welcome',
  'batch',
  'subscribe',
  PROTOCOL_NAME,
  '-createdAt',
  'a..b',
  '__proto__',
  [],
  ['x'],
  [1],
  {},
  { a: 1 },
  { $regex: 'x' },
];

type Container = Json[] & Record<string, Json>;

function at(root: Json, path: readonly (string | number)[]): Container {
  let node = root;
  for (const key of path) node = (node as Container)[key as number] as Json;
  return node as Container;
}

/** A copy of `root` with the node at `path` replaced by `replacement`. */
function replaced(root: Json, path: readonly (string | number)[], replacement: Json): Json {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root);
  at(copy, path.slice(0, -1))[path[path.length - 1] as number] = replacement;
  return copy;
}

/** A copy of `root` with `edit` applied to the object or array at `path`. */
function edited(root: Json, path: readonly (string | number)[], edit: (node: Container) => void): Json {
  const copy = structuredClone(root);
  edit(at(copy, path));
  return copy;
}

/**
 * Every variant of `value` made by one change at one node: the node replaced by each of
 * `REPLACEMENTS`; in an object, each key dropped and an unknown key added; in an array, its first
 * element dropped and each of a few values appended.
 */
export function mutations(value: Json): Mutation[] {
  const out: Mutation[] = [];
  const visit = (node: Json, path: (string | number)[]) => {
    for (const replacement of REPLACEMENTS) {
      out.push({
        path,
        change: `set to ${JSON.stringify(replacement)}`,
        value: replaced(value, path, replacement),
      });
    }
    if (Array.isArray(node)) {
      if (node.length > 0) {
        out.push({ path: [...path, 0], change: 'dropped', value: edited(value, path, (a) => a.shift()) });
      }
      for (const extra of [1, 'x', null, {}, ['a', '=', 1]] as Json[]) {
        out.push({
          path: [...path, node.length],
          change: `appended ${JSON.stringify(extra)}`,
          value: edited(value, path, (a) => a.push(extra)),
        });
      }
      node.forEach((child, i) => visit(child, [...path, i]));
    } else if (node !== null && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        out.push({
          path: [...path, key],
          change: 'dropped',
          value: edited(value, path, (o) => delete o[key]),
        });
      }
      out.push({
        path: [...path, 'zzUnknown'],
        change: 'added',
        value: edited(value, path, (o) => (o.zzUnknown = 1)),
      });
      // An own `__proto__` key, as JSON.parse makes it (assigning it would set the prototype).
      out.push({
        path: [...path, '__proto__'],
        change: 'added',
        value: edited(value, path, (o) =>
          Object.defineProperty(o, '__proto__', { value: {}, enumerable: true }),
        ),
      });
      for (const [key, child] of Object.entries(node)) visit(child, [...path, key]);
    }
  };
  visit(value, []);
  return out;
}
