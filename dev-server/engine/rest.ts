/**
 * The HTTP API of PROTOCOL.md section 2 as a pure function from request to response, with CORS.
 * The Node shell feeds it `http` requests; the browser mock feeds it msw's `Request`s.
 */
import * as z from 'zod/mini';
import {
  CHANNEL_NAME_PATTERN,
  FieldsSchema,
  PATHS,
  PROTOCOL_BOUNDS,
  SortSchema,
  SubscriptionSpecSchema,
  WhereSchema,
  compileMeteredWhere,
  compileProjection,
  describeIssues,
  parseSortList,
  toIssues,
  type ErrorBody,
  type HttpErrorName,
  type LiveRecord,
  type SubscriptionSpec,
} from '../../protocol/index.js';
import { ApiError } from './api-error.js';
import type { KeyRecord } from './engine-core.js';
import type { Engine, SocketHandle } from './engine.js';
import type { Environment } from './environment.js';
import { FilterWorkError, JobMeter } from './filter-work.js';
import { RecordQueryJob, type QueryResult } from './record-query.js';
import type { EngineSocket } from './socket.js';
import { checkStoredValue } from './stored-value.js';

/** An HTTP request as the engine reads it; header names in lower case. */
export type HttpRequest = {
  method: string;
  /** Path and query, e.g. `/api/objects/orders/records?limit=5`. */
  url: string;
  headers: Readonly<Record<string, string | undefined>>;
  body?: string | undefined;
  /** Aborted when the client goes: work still preparing its answer stops. */
  signal?: AbortSignal | undefined;
};

/** A complete HTTP answer. */
export type HttpResponse = { status: number; headers: Record<string, string>; body: string };

/**
 * An answer whose body is written as the client reads it (a records list): `chunks` yields its
 * text in pieces, each made when the transport asks for it, so an answer nobody reads holds
 * references, not text. The transport calls `done` once, when the body is written or the client
 * went away: the request then stops counting toward `maxConcurrentRequestsPerClient`.
 */
export type StreamedResponse = {
  status: number;
  headers: Record<string, string>;
  chunks: Iterator<string, undefined>;
  done: () => void;
};

/** Any answer of `handleHttp`. */
export type HttpAnswer = HttpResponse | StreamedResponse | SseResponse;

/** An answer that opens a Server-Sent Events stream: send the headers, then call `start`. */
export type SseResponse = {
  status: 200;
  headers: Record<string, string>;
  start: (socket: EngineSocket) => SocketHandle;
};

const utf8 = new TextEncoder();
/** A REST list stops (with `truncated`) before this much JSON: one answer, bounded memory. */
const MAX_LIST_CHARS = 32 * 1024 * 1024;
/** A streamed list body is made in pieces of about this many characters. */
const CHUNK_CHARS = 64 * 1024;
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** `limit` of a records list: an integer from 1 to the snapshot bound. */
const LIMIT_MESSAGE = `limit must be an integer from 1 to ${PROTOCOL_BOUNDS.maxSnapshotRecords}`;
const LimitParamSchema = z
  .int(LIMIT_MESSAGE)
  .check(z.minimum(1, LIMIT_MESSAGE), z.maximum(PROTOCOL_BOUNDS.maxSnapshotRecords, LIMIT_MESSAGE));

/**
 * Answers one HTTP request. Never rejects for anything a client sends. Most answers are ready in
 * the same turn; a records list is matched in slices first (filter-work.ts), then streamed.
 */
export async function handleHttp(engine: Engine, req: HttpRequest): Promise<HttpAnswer> {
  const origin = req.headers.origin;
  if (!engine.originAllowed(origin)) {
    return errorResponse(new ApiError('forbidden', `origin ${origin} is not in allowedOrigins`), {});
  }
  const cors = corsHeaders(engine, origin);
  if (engine.stopped) return errorResponse(new ApiError('unavailable', 'the server is shutting down'), cors);
  if (req.method === 'OPTIONS') {
    return {
      status: 204,
      headers: {
        ...cors,
        'access-control-allow-methods': 'GET, POST, PATCH, DELETE, OPTIONS',
        'access-control-allow-headers': 'Authorization, Content-Type, X-Correlation-Id',
        'access-control-max-age': '600',
      },
      body: '',
    };
  }
  try {
    return await route(engine, req, cors);
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error, cors);
    console.error('dev server: unexpected error answering', req.method, req.url, error);
    return errorResponse(new ApiError('internal_error', 'the server failed on this request'), cors);
  }
}

function route(
  engine: Engine,
  req: HttpRequest,
  cors: Record<string, string>,
): HttpAnswer | Promise<HttpAnswer> {
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname;
  const json = (status: number, body: unknown) => ({
    status,
    headers: { ...cors, ...JSON_TYPE },
    body: JSON.stringify(body),
  });

  if (path === PATHS.healthz) {
    allow(req, 'GET');
    return json(200, {
      ok: true,
      connections: engine.connectionCount,
      uptimeMs: engine.clock.now() - engine.startedAt,
      ...engine.health,
    });
  }
  if (path === PATHS.wsAuth || path === PATHS.wsAuth.slice(0, -1)) {
    allow(req, 'GET');
    const issued = engine.issueToken(engine.authorize(req.headers.authorization));
    return issued instanceof Promise ? issued.then((body) => json(200, body)) : json(200, issued);
  }
  if (path === PATHS.sse || path === PATHS.sse.slice(0, -1)) {
    allow(req, 'GET');
    return openSse(engine, url.searchParams, cors);
  }
  if (path.startsWith(PATHS.eventsPrefix)) {
    allow(req, 'POST');
    const topic = decode(path.slice(PATHS.eventsPrefix.length));
    if (!CHANNEL_NAME_PATTERN.test(topic)) throw new ApiError('not_found', `malformed topic "${topic}"`);
    const key = engine.authorize(req.headers.authorization);
    if (key.role !== 'secret') throw new ApiError('forbidden', 'only secret keys may publish');
    const data = readJson(req);
    checkStoredValue(data, 'body');
    const env = engine.environment(key.client, key.environment);
    if (!env.sequencer) return json(202, { seq: env.publish(topic, data) });
    return env.append({ kind: 'event', topic, data }).then((commit) => json(202, { seq: commit.seq }));
  }
  const records = /^\/api\/objects\/([^/]+)\/records(?:\/([^/]+))?\/?$/.exec(path);
  if (records) {
    const object = decode(records[1] as string);
    const id = records[2] === undefined ? undefined : decode(records[2]);
    const key = engine.authorize(req.headers.authorization);
    const env = engine.environment(key.client, key.environment);
    if (!env.hasObject(object)) throw new ApiError('not_found', `unknown object "${object}"`);
    const write = req.method !== 'GET';
    checkScope(key, object, write);
    if (write && env.sequencer && !env.sequencer.available) {
      // The change would reach PostgreSQL but no client until Redis is back: refuse it now.
      throw new ApiError('unavailable', "the cluster's Redis cannot be reached; try again later");
    }
    const correlationId = correlation(req);
    const kept = env.tableOf(object);
    if (kept) {
      const params = url.searchParams;
      return tableRecords(
        engine,
        key,
        env,
        { object, table: kept.table, id, correlationId },
        req,
        params,
        cors,
      );
    }
    if (id === undefined) {
      allow(req, 'GET', 'POST');
      if (req.method === 'POST') return json(201, env.create(object, readRecordBody(req), correlationId));
      return listRecords(engine, key, env, object, url.searchParams, { ...cors, ...JSON_TYPE }, req.signal);
    }
    allow(req, 'GET', 'PATCH', 'DELETE');
    if (req.method === 'GET') {
      const record = env.table(object).get(id);
      if (!record) throw new ApiError('not_found', `${object} record "${id}" does not exist`);
      return json(200, record);
    }
    if (req.method === 'PATCH') return json(200, env.patch(object, id, readRecordBody(req), correlationId));
    env.remove(object, id, correlationId);
    return { status: 204, headers: cors, body: '' };
  }
  throw new ApiError('not_found', `no such endpoint: ${req.method} ${path}`);
}

/**
 * `GET …/records`: the query runs as a sliced job (one where may not hold the event loop), then
 * the answer is streamed, each record serialized as the client reads. The request counts toward
 * its client's `maxConcurrentRequestsPerClient` until the body is written or the client goes.
 */
async function listRecords(
  engine: Engine,
  key: KeyRecord,
  env: Environment,
  object: string,
  params: URLSearchParams,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<StreamedResponse> {
  const { where, sort, fields, limit } = listQuery(params);
  const release = engine.takeRequestSlot(key.client); // before the table is copied
  let result: QueryResult;
  try {
    const job = new RecordQueryJob(
      env.table(object),
      { where: compileMeteredWhere(where), sort, limit, maxChars: MAX_LIST_CHARS },
      new JobMeter(engine.limits.maxFilterWork),
    );
    result = await runSliced(engine, job, signal);
  } catch (error) {
    release();
    if (error instanceof FilterWorkError) throw new ApiError('bad_request', error.message);
    throw error;
  }
  return { status: 200, headers, chunks: listBody(result, compileProjection(fields)), done: release };
}

/**
 * The REST API of an object kept in a PostgreSQL table (PROTOCOL.md section 10): reads read the
 * table, writes become SQL (the table store's), and each answers what the table holds. The
 * writes' events come through the replication stream, like those of any other client.
 */
async function tableRecords(
  engine: Engine,
  key: KeyRecord,
  env: Environment,
  target: { object: string; table: string; id: string | undefined; correlationId: string | undefined },
  req: HttpRequest,
  params: URLSearchParams,
  cors: Record<string, string>,
): Promise<HttpAnswer> {
  const { object, table, id, correlationId } = target;
  const store = env.store();
  const json = (status: number, body: unknown) => ({
    status,
    headers: { ...cors, ...JSON_TYPE },
    body: JSON.stringify(body),
  });
  if (id === undefined) {
    allow(req, 'GET', 'POST');
    if (req.method === 'POST')
      return json(201, await store.create(env, table, readRecordBody(req), correlationId));
    const query = listQuery(params);
    const release = engine.takeRequestSlot(key.client);
    let result: QueryResult;
    try {
      result = await new Promise<QueryResult>((resolve, reject) => {
        store.snapshot(
          env,
          table,
          {
            where: compileMeteredWhere(query.where),
            sort: query.sort,
            limit: query.limit,
            maxChars: MAX_LIST_CHARS,
            meter: new JobMeter(engine.limits.maxFilterWork),
            asRecords: true,
          },
          (answer) => {
            if ('error' in answer) reject(answer.error);
            else resolve({ records: answer.rows as LiveRecord[], truncated: answer.truncated });
          },
          req.signal,
        );
      });
    } catch (error) {
      release();
      if (error instanceof FilterWorkError) throw new ApiError('bad_request', error.message);
      throw error;
    }
    return {
      status: 200,
      headers: { ...cors, ...JSON_TYPE },
      chunks: listBody(result, compileProjection(query.fields)),
      done: release,
    };
  }
  allow(req, 'GET', 'PATCH', 'DELETE');
  if (req.method === 'GET') {
    const record = await store.get(env, table, id);
    if (!record) throw new ApiError('not_found', `${object} record "${id}" does not exist`);
    return json(200, record);
  }
  if (req.method === 'PATCH')
    return json(200, await store.patch(env, table, id, readRecordBody(req), correlationId));
  await store.remove(env, table, id, correlationId);
  return { status: 204, headers: cors, body: '' };
}

/** Runs a query in slices between turns of the event loop, until done or `signal` aborts. */
function runSliced(
  engine: Engine,
  job: RecordQueryJob,
  signal: AbortSignal | undefined,
): Promise<QueryResult> {
  return new Promise((resolve, reject) => {
    engine.work.start({
      step(units) {
        try {
          if (signal?.aborted) throw new ApiError('bad_request', 'the client went before its list was ready');
          if (!job.step(units)) return false;
          resolve(job.result());
        } catch (error) {
          reject(error);
        }
        return true;
      },
    });
  });
}

/** A records list's `where`, `sort`, `fields` and `limit` parameters, checked. */
function listQuery(params: URLSearchParams) {
  const where = params.has('where')
    ? parseParam('where', WhereSchema, jsonParam('where', params.get('where') as string))
    : undefined;
  const sort = params.has('sort')
    ? parseParam('sort', SortSchema, parseSortList(params.get('sort') as string))
    : undefined;
  const fields = params.has('fields')
    ? parseParam('fields', FieldsSchema, parseSortList(params.get('fields') as string))
    : undefined;
  // Through zod like the other parameters, so a bad limit carries its issues in `details` too.
  const limit = params.has('limit')
    ? parseParam('limit', LimitParamSchema, Number(params.get('limit')))
    : undefined;
  return { where, sort, fields, limit };
}

/** The JSON of a records list, `{"records":[…]}` (with `"truncated":true` when cut), in pieces. */
function* listBody(
  result: QueryResult,
  project: (record: LiveRecord) => Record<string, unknown>,
): Generator<string, undefined> {
  let chunk = '{"records":[';
  for (let i = 0; i < result.records.length; i++) {
    chunk += `${i === 0 ? '' : ','}${JSON.stringify(project(result.records[i] as LiveRecord))}`;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]${result.truncated ? ',"truncated":true' : ''}}`;
  return undefined;
}

async function openSse(
  engine: Engine,
  params: URLSearchParams,
  cors: Record<string, string>,
): Promise<SseResponse> {
  const token = params.get('token');
  if (!token) throw new ApiError('token_invalid', 'token is missing: get one from GET /api/users/ws-auth/');
  // Spent by its first use, successful or not (PROTOCOL.md section 3): before the rest is checked.
  const admitted = await engine.admit(token);
  if ('refused' in admitted) {
    engine.auditSseRefusal(admitted);
    throw new ApiError(admitted.refused, admitted.message);
  }
  try {
    return sseStream(engine, admitted.key, params, cors);
  } catch (error) {
    engine.releaseAdmission(admitted.key); // in a cluster, its slot was taken
    throw error;
  }
}

/** The answer that starts an admitted SSE stream; throws `ApiError` for bad parameters. */
function sseStream(
  engine: Engine,
  key: KeyRecord,
  params: URLSearchParams,
  cors: Record<string, string>,
): SseResponse {
  const raw = params.has('subscriptions')
    ? jsonParam('subscriptions', params.get('subscriptions') as string)
    : [];
  const specs = parseParam(
    'subscriptions',
    z.array(SubscriptionSpecSchema).check(z.maxLength(engine.limits.maxSubscriptions)),
    raw,
  );
  const since = params.has('since') ? sinceParam(params.get('since') as string) : undefined;
  const epoch = params.get('epoch') ?? undefined;
  if (epoch !== undefined && (epoch.length === 0 || epoch.length > 128)) {
    throw new ApiError(
      'bad_request',
      'epoch must be 1 to 128 characters (the epoch of a welcome), or left out',
    );
  }
  // The URL's since/epoch fill in what a subscription leaves out, field by field: a subscription's
  // own since is never paired with an epoch it did not come from.
  const subscriptions: SubscriptionSpec[] = specs.map((spec) => {
    const s = spec.since ?? since;
    if (s === undefined) return spec;
    const e = spec.epoch ?? epoch;
    return e === undefined ? { ...spec, since: s } : { ...spec, since: s, epoch: e };
  });
  return {
    status: 200,
    headers: {
      ...cors,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
    start: (socket) => engine.startSse(socket, key, subscriptions),
  };
}

/** The URL's `since`: a seq in decimal digits (`since=` is not 0, nor is `since=0x10` 16). */
function sinceParam(text: string): number {
  const since = Number(text);
  if (/^\d+$/.test(text) && Number.isSafeInteger(since)) return since;
  throw new ApiError(
    'bad_request',
    text === ''
      ? 'since is empty: give a seq (a non-negative integer), or leave it out'
      : 'since must be a non-negative integer',
  );
}

function checkScope(key: KeyRecord, object: string, write: boolean): void {
  if (write && key.role !== 'secret') throw new ApiError('forbidden', 'publishable keys are read only');
  if (key.readable && !key.readable.has(object))
    throw new ApiError('forbidden', `this key may not read "${object}"`);
}

function allow(req: HttpRequest, ...methods: string[]): void {
  if (!methods.includes(req.method)) {
    throw new ApiError(
      'method_not_allowed',
      `${req.method} is not allowed here; use ${methods.join(' or ')}`,
    );
  }
}

function correlation(req: HttpRequest): string | undefined {
  const value = req.headers['x-correlation-id'];
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > 128)
    throw new ApiError('bad_request', 'X-Correlation-Id must be 1 to 128 characters');
  return value;
}

function readJson(req: HttpRequest): unknown {
  const body = req.body ?? '';
  if (utf8.encode(body).length > PROTOCOL_BOUNDS.maxHttpBodyBytes) {
    throw new ApiError('payload_too_large', `the body is over ${PROTOCOL_BOUNDS.maxHttpBodyBytes} bytes`);
  }
  if (body.trim() === '') throw new ApiError('bad_request', 'the body must be JSON');
  try {
    return JSON.parse(body);
  } catch {
    throw new ApiError('bad_request', 'the body is not valid JSON');
  }
}

function readRecordBody(req: HttpRequest): Record<string, unknown> {
  const value = readJson(req);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('bad_request', 'the body must be a JSON object');
  }
  checkStoredValue(value, 'body');
  return value as Record<string, unknown>;
}

function jsonParam(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('bad_request', `${name} is not valid JSON`);
  }
}

function parseParam<T>(name: string, schema: z.ZodMiniType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = toIssues(result.error).map((i) => ({ ...i, path: [name, ...i.path] }));
  throw new ApiError('bad_request', describeIssues(issues), issues);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('bad_request', `malformed URL segment "${segment}"`);
  }
}

/** The CORS headers of an answer to an allowed `origin` (none without an `Origin`). */
export function corsHeaders(engine: Engine, origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  return engine.config.allowedOrigins.includes('*')
    ? { 'access-control-allow-origin': '*' }
    : { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/** The JSON error answer for a refusal. */
export function errorResponse(error: ApiError, headers: Record<string, string>): HttpResponse {
  const body: ErrorBody = { error: { code: error.code as HttpErrorName, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  return { status: error.status, headers: { ...headers, ...JSON_TYPE }, body: JSON.stringify(body) };
}
