/**
 * The generated requests whose bodies are beside the point: query strings, paths, methods,
 * keys, correlation ids and SSE queries, each with the status PROTOCOL.md section 2 (or 6)
 * documents for it.
 */
import { randomUUID } from 'node:crypto';
import { PROTOCOL_BOUNDS, WHERE_LIMITS, type HttpErrorName } from '../../../protocol/index.js';
import { KEYS } from '../../support/test-server.js';
import { oddString } from './hostile-json.js';
import { ORDERS, UNDECODABLE, encode, type RequestCase, type RequestKit } from './request-case.js';

const SSE = '/sse/events/object-records/';
const FORBIDDEN_SORTS = ['__proto__', '-constructor', 'customer.prototype', 'a..b', '-', '.a'];
const GOOD_SORTS = ['-total', 'status', 'customer.name', 'toString', '-valueOf'];
const FORBIDDEN_FIELDS = ['__proto__', 'constructor', 'customer.prototype', 'a..b', '.a'];
const BAD_LIMITS = ['0', '-1', '1.5', '1e309', 'abc', String(PROTOCOL_BOUNDS.maxSnapshotRecords + 1), ''];
const NOT_ALLOWED = ['PUT', 'PROPFIND', 'MKCOL', 'LOCK', 'PURGE', 'TRACE'];

/** A method the endpoint does not take: 405. */
export function methodRequest(kit: RequestKit): RequestCase {
  const path = kit.r.pick([ORDERS, '/api/events/x', '/healthz']);
  return {
    ...kit.base('methods not allowed', kit.r.pick(NOT_ALLOWED), path),
    status: 405,
    code: 'method_not_allowed',
  };
}

/** GET lists with broken, unbounded or hostile `where`, `sort`, `fields` and `limit`; 431 past Node's head limit. */
export function queryRequest(kit: RequestKit): RequestCase {
  const get = (query: string, status: number) => ({
    ...kit.base('query strings', 'GET', `${ORDERS}?${query}`),
    status,
    ...(status === 400 ? { code: 'bad_request' as const } : {}),
  });
  const where = (text: string) => `where=${encode(text)}`;
  const terms = (n: number) => `{"total":{"$in":[${Array.from({ length: n }, (_, i) => i).join(',')}]}}`;
  const choices: (() => RequestCase)[] = [
    () => {
      const text = `{"status":"pending","total":{"$gte":${kit.r.int(0, 100)}}}`;
      return get(where(text.slice(0, kit.r.int(1, text.length - 1))), 400);
    },
    () => get(where(`{"total":{"$${kit.r.pick(['regex', 'where', 'expr', 'size', 'mod'])}":1}}`), 400),
    () => get(where(terms(kit.r.int(WHERE_LIMITS.maxTerms + 1, 1500))), 400),
    () => {
      const nots = kit.r.int(WHERE_LIMITS.maxDepth + 1, 200);
      return get(where(`${'{"$not":'.repeat(nots)}{"total":1}${'}'.repeat(nots)}`), 400);
    },
    () => get(where(`{"customer.${kit.r.pick(['__proto__', 'constructor', 'prototype'])}":1}`), 400),
    () =>
      get(
        where(
          JSON.stringify({
            status: oddString(kit.r, 40),
            [`k${oddString(kit.r, 20)}`]: { $ne: oddString(kit.r, 20) },
          }),
        ),
        200,
      ),
    () => get(`where=${kit.r.pick(UNDECODABLE)}`, 400),
    () => get(`sort=${encode(kit.r.pick(FORBIDDEN_SORTS))}`, 400),
    () =>
      get(
        `sort=${encode(kit.r.pick(GOOD_SORTS))}&fields=${encode(kit.r.pick(GOOD_SORTS).replace('-', ''))}`,
        200,
      ),
    () => get(`fields=${encode(kit.r.pick(FORBIDDEN_FIELDS))}`, 400),
    () => get(`limit=${encode(kit.r.pick(BAD_LIMITS))}`, 400),
    () =>
      get(
        `limit=${kit.r.int(1, PROTOCOL_BOUNDS.maxSnapshotRecords)}&${encode(oddString(kit.r, 10))}=${encode(oddString(kit.r, 10))}`,
        200,
      ),
    // Past Node's 16 KiB request head (http.maxHeaderSize) the request never reaches the API: 431, no body.
    () => ({ ...get(where(terms(kit.r.int(10_000, 20_000))), 431), code: undefined }),
  ];
  const chosen = kit.r.pick(choices)();
  if (chosen.code === undefined) delete chosen.code;
  return chosen;
}

/** Paths whose segments do not decode, name no object, or name no record. */
export function pathRequest(kit: RequestKit): RequestCase {
  // Dot segments are left out: URL parsing resolves them before the API sees the path.
  const seg = () =>
    kit.r.chance(0.3)
      ? kit.r.pick(UNDECODABLE)
      : encode(
          kit.r.pick([`x${oddString(kit.r, 30)}`, '__proto__', 'constructor', 'toString', 'hasOwnProperty']),
        );
  const choices: (() => RequestCase)[] = [
    () => {
      const s = seg();
      return UNDECODABLE.includes(s)
        ? {
            ...kit.base('paths that do not resolve', 'GET', `/api/objects/${s}/records`),
            status: 400,
            code: 'bad_request',
          }
        : {
            ...kit.base('paths that do not resolve', 'GET', `/api/objects/${s}/records`),
            status: 404,
            code: 'not_found',
          };
    },
    () => {
      const s = seg();
      return UNDECODABLE.includes(s)
        ? {
            ...kit.base('paths that do not resolve', 'GET', `${ORDERS}/${s}`),
            status: 400,
            code: 'bad_request',
          }
        : {
            ...kit.base('paths that do not resolve', 'GET', `${ORDERS}/${s}`),
            status: 404,
            code: 'not_found',
          };
    },
    () => {
      if (!kit.existing.length)
        return {
          ...kit.base('paths that do not resolve', 'GET', `${ORDERS}/nothing-${kit.mark()}`),
          status: 404,
          code: 'not_found',
        };
      return {
        ...kit.base('paths that do not resolve', 'GET', `${ORDERS}/${encode(kit.r.pick(kit.existing))}`),
        status: 200,
      };
    },
    () => ({
      ...kit.base(
        'paths that do not resolve',
        'GET',
        kit.r.pick([
          `${ORDERS}/a/b`,
          `/api/x${encode(oddString(kit.r, 20))}`,
          '/api/objects//records',
          `/${encode(oddString(kit.r, 20))}`,
        ]),
      ),
      status: 404,
      code: 'not_found',
    }),
  ];
  return kit.r.pick(choices)();
}

/** Unknown keys (401) and publishable keys writing, publishing or reading what they were not given (403). */
export function keyRequest(kit: RequestKit): RequestCase {
  const junk = () =>
    Array.from({ length: kit.r.int(0, 300) }, () => String.fromCharCode(kit.r.int(0x21, 0x7e))).join('');
  const unknown = () =>
    kit.r.pick([
      `Bearer ${junk()}`,
      `Basic ${junk()}`,
      junk(),
      `Bearer ${'k'.repeat(kit.r.int(300, 8000))}`,
      'Bearer',
    ]);
  const choices: (() => RequestCase)[] = [
    () => ({
      ...kit.base('keys and scopes', 'GET', ORDERS),
      headers: { authorization: unknown() },
      status: 401,
      code: 'unauthorized',
    }),
    () => {
      const req = kit.write('keys and scopes', 'POST', ORDERS, '{"x":1}', 401, 'unauthorized');
      return { ...req, headers: { ...req.headers, authorization: unknown() } };
    },
    () => {
      const method = kit.r.pick(['POST', 'PATCH', 'DELETE']);
      const path = method === 'POST' ? ORDERS : `${ORDERS}/${encode(kit.existing[0] ?? 'o1')}`;
      const req = kit.write('keys and scopes', method, path, '{"x":1}', 403, 'forbidden');
      const key = kit.r.pick([KEYS.acmePublic, KEYS.acmeProductsOnly]);
      return { ...req, headers: { ...req.headers, authorization: `Bearer ${key}` } };
    },
    () => ({
      ...kit.base('keys and scopes', 'GET', ORDERS, KEYS.acmeProductsOnly),
      status: 403,
      code: 'forbidden',
    }),
    () => ({
      ...kit.publish('keys and scopes', '1', 403, 'forbidden'),
      headers: { authorization: `Bearer ${KEYS.acmePublic}` },
    }),
  ];
  return kit.r.pick(choices)();
}

/** `X-Correlation-Id` over 128 characters (400), or odd but valid, which its event must carry. */
export function correlationRequest(kit: RequestKit): RequestCase {
  // Header values travel as bytes; printable ASCII is what every client sends alike.
  const ascii = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(kit.r.int(0x20, 0x7e))).join('');
  const long = ascii(kit.r.int(129, 4000));
  const refused = kit.write('correlation ids', 'POST', ORDERS, '{"x":1}', 400, 'bad_request');
  if (kit.r.chance(0.5)) return { ...refused, headers: { ...refused.headers, 'x-correlation-id': long } };
  // An odd but valid correlation id: accepted, and its event carries it.
  // HTTP drops spaces and tabs around a header value, nothing else.
  const id = `${kit.mark()}${ascii(kit.r.int(0, 100))}`.slice(0, 128).replace(/[ \t]+$/, '');
  const accepted = kit.write('correlation ids', 'POST', ORDERS, '{"x":1}', 201);
  return {
    ...accepted,
    headers: { ...accepted.headers, 'x-correlation-id': id },
    commits: { key: id, count: 1 },
  };
}

/**
 * SSE queries without a token, with an unknown one, or with bad `subscriptions`, `since` (`since=`
 * is not 0) or `epoch`. Those with a fresh token (`{token}`) must spend it all the same.
 */
export function sseRequest(kit: RequestKit): RequestCase {
  const good = encode(JSON.stringify([{ id: 's', channel: 'events:x' }]));
  const base = (query: string, status: number, code: HttpErrorName, token: boolean): RequestCase => ({
    ...kit.base('SSE queries', 'GET', `${SSE}?${query}`),
    headers: { accept: 'text/event-stream' },
    status,
    code,
    token,
  });
  const choices: (() => RequestCase)[] = [
    () => base(`subscriptions=${good}`, 401, 'token_invalid', false),
    () =>
      base(
        `token=${encode(kit.r.pick([oddString(kit.r, 40), randomUUID(), '']))}&subscriptions=${good}`,
        401,
        'token_invalid',
        false,
      ),
    () =>
      base(
        `token={token}&subscriptions=${encode(kit.r.pick(['[', '{"id":"s"}', '[{"id":"s"}]', '[{"id":"s","channel":"events:x","bogus":1}]', '"x"', '[1]']))}`,
        400,
        'bad_request',
        true,
      ),
    () =>
      base(
        `token={token}&subscriptions=${encode(JSON.stringify(Array.from({ length: kit.r.int(101, 120) }, (_, i) => ({ id: `s${i}`, channel: 'events:x' }))))}`,
        400,
        'bad_request',
        true,
      ),
    () =>
      base(
        `token={token}&subscriptions=${good}&since=${encode(kit.r.pick(['-1', '1.5', 'abc', '1e309', '', '0x10', ' 1']))}`,
        400,
        'bad_request',
        true,
      ),
    () =>
      base(
        `token={token}&subscriptions=${good}&since=1&epoch=${kit.r.pick(['', 'e'.repeat(kit.r.int(129, 300))])}`,
        400,
        'bad_request',
        true,
      ),
  ];
  return kit.r.pick(choices)();
}
