/**
 * Generated HTTP requests for the REST API and the SSE endpoint (PROTOCOL.md sections 2 and 6),
 * each with the status and error name documented for it: bodies of random bytes, truncated,
 * deep, non-object or hostile JSON, oversized bodies, bad ids (`.` and `..` among them), query strings with broken or
 * unbounded `where`s, sorts and limits, paths that do not decode, methods not allowed, unknown
 * and under-privileged keys, bad correlation ids and SSE queries. Every write says how many
 * events it must commit (one when accepted, none when refused), so a watcher can tell a refused
 * write that still changed something from an accepted one that changed nothing.
 */
import { CHANNEL_NAME_PATTERN, PROTOCOL_BOUNDS, type HttpErrorName } from '../../../protocol/index.js';
import { KEYS } from '../../support/test-server.js';
import {
  correlationRequest,
  keyRequest,
  methodRequest,
  pathRequest,
  queryRequest,
  sseRequest,
} from './bad-request-heads.js';
import {
  HUGE_NUMBERS,
  hostileJson,
  nestedArrays,
  normalized,
  oddString,
  quote,
  wellFormed,
} from './hostile-json.js';
import { ORDERS, encode, type RequestCase, type RequestKit } from './request-case.js';
import type { Random } from './seeded-random.js';

const MIB = PROTOCOL_BOUNDS.maxHttpBodyBytes;

/** Generates requests; `lane` namespaces the record ids and topics of one sequential runner. */
export class RequestGenerator implements RequestKit {
  private n = 0;
  /** Order ids this lane created (as documented: accepted creates), for patches, reads and deletes. */
  readonly existing: string[] = [];
  /** How many requests of each category `next()` has made. */
  readonly made = new Map<string, number>();

  constructor(
    readonly r: Random,
    private readonly lane: number,
  ) {}

  private readonly kinds: Record<string, () => RequestCase> = {
    'record bodies': () => this.recordBody(),
    'patch bodies': () => this.patchBody(),
    'event bodies': () => this.eventBody(),
    'oversized bodies': () => this.oversized(),
    'query strings': () => queryRequest(this),
    'paths that do not resolve': () => pathRequest(this),
    'methods not allowed': () => methodRequest(this),
    'keys and scopes': () => keyRequest(this),
    'correlation ids': () => correlationRequest(this),
    'SSE queries': () => sseRequest(this),
  };

  /** Every category `next()` draws from. */
  get categories(): string[] {
    return Object.keys(this.kinds);
  }

  /** The next request. */
  next(): RequestCase {
    const category = this.r.pick(this.categories);
    this.made.set(category, (this.made.get(category) ?? 0) + 1);
    return (this.kinds[category] as () => RequestCase)();
  }

  /** Records that an accepted create of `id` happened (call only for a 201). */
  private created(id: string): void {
    this.existing.push(id);
  }

  /** Records that an accepted delete of `id` happened (call only for a 204). */
  private deleted(id: string): void {
    const at = this.existing.indexOf(id);
    if (at >= 0) this.existing.splice(at, 1);
  }

  /** A fresh correlation mark, unique across generators. */
  mark(): string {
    return `rq-${this.lane}-${++this.n}`;
  }

  /** A request with the acme production secret key (or `key`), expecting 200. */
  base(category: string, method: string, path: string, key: string = KEYS.acmeSecret): RequestCase {
    return { category, method, path, headers: { authorization: `Bearer ${key}` }, status: 200 };
  }

  /** A write with a correlation id: it commits one event when accepted, none when refused. */
  write(
    category: string,
    method: string,
    path: string,
    body: string | Buffer,
    status: number,
    code?: HttpErrorName,
  ): RequestCase {
    const key = this.mark();
    const req = this.base(category, method, path);
    return {
      ...req,
      headers: { ...req.headers, 'content-type': 'application/json', 'x-correlation-id': key },
      body,
      status,
      ...(code ? { code } : {}),
      commits: { key, count: status < 300 ? 1 : 0 },
    };
  }

  /** A body that is no JSON object: random bytes, a truncated object, or JSON of another type. */
  private notAnObject(): string | Buffer {
    const choices: (() => string | Buffer)[] = [
      () => Buffer.concat([Buffer.from([0x01]), this.r.bytes(this.r.int(0, 500))]),
      () => {
        const text = `{"id":"x","a":[1,2,{"b":"${'c'.repeat(this.r.int(0, 50))}"}]}`;
        return text.slice(0, this.r.int(0, text.length - 1));
      },
      () => this.r.pick(['[]', '[1,2]', '"x"', '1', 'null', 'true', nestedArrays(3), '  ']),
    ];
    return this.r.pick(choices)();
  }

  private recordBody(): RequestCase {
    const id = `${this.mark()}-${this.r.int(0, 1e9)}`;
    const choices: (() => RequestCase)[] = [
      () => this.write('record bodies', 'POST', ORDERS, this.notAnObject(), 400, 'bad_request'),
      () => {
        const depth = this.r.int(PROTOCOL_BOUNDS.maxValueDepth, 100_000);
        return this.write(
          'record bodies',
          'POST',
          ORDERS,
          `{"id":${quote(id)},"a":${nestedArrays(depth)}}`,
          400,
          'bad_request',
        );
      },
      () => {
        // At the limit: the object is level 1, its arrays the next 63.
        const text = `{"id":${quote(id)},"a":${nestedArrays(PROTOCOL_BOUNDS.maxValueDepth - 1)}}`;
        return this.created201(id, text);
      },
      () => {
        let value = hostileJson(this.r, 5);
        while (!value.text.startsWith('{')) value = hostileJson(this.r, 5);
        const text =
          value.text === '{}' ? `{"id":${quote(id)}}` : `{"id":${quote(id)},${value.text.slice(1)}`;
        return value.protoKey
          ? this.write('record bodies', 'POST', ORDERS, text, 400, 'bad_request')
          : this.created201(id, text);
      },
      () => {
        const bad = this.r.pick([
          '7',
          'null',
          'true',
          '{}',
          '[]',
          '""',
          quote('x'.repeat(this.r.int(257, 3000))),
        ]);
        return this.write('record bodies', 'POST', ORDERS, `{"id":${bad},"a":1}`, 400, 'bad_request');
      },
      // URL dot segments: no URL could reach such a record.
      () =>
        this.write(
          'record bodies',
          'POST',
          ORDERS,
          JSON.stringify({ id: this.r.pick(['.', '..']) }),
          400,
          'bad_request',
        ),
      () => {
        const odd = oddString(this.r, 256);
        return this.created201(
          `${id}${odd}`.slice(0, 256),
          JSON.stringify({ id: `${id}${odd}`.slice(0, 256), odd }),
        );
      },
      () => {
        const huge = this.r.pick(HUGE_NUMBERS);
        return this.created201(id, `{"id":${quote(id)},"n":${huge},"m":[${huge},${huge}]}`);
      },
      () => this.created201(id, JSON.stringify({ id, text: 'x'.repeat(this.r.int(1000, 300_000)) })),
      () => {
        const taken = this.existing.length ? this.r.pick(this.existing) : undefined;
        return taken === undefined
          ? this.created201(id, JSON.stringify({ id }))
          : this.write(
              'record bodies',
              'POST',
              ORDERS,
              JSON.stringify({ id: taken, again: true }),
              409,
              'conflict',
            );
      },
    ];
    return this.r.pick(choices)();
  }

  /** An accepted create of `id`: 201, one event, and the answer holds every field as sent. */
  private created201(id: string, text: string): RequestCase {
    if (wellFormed(id) === id) this.created(id); // an id with a lone surrogate cannot be put in a URL
    return {
      ...this.write('record bodies', 'POST', ORDERS, text, 201),
      stored: normalized(text) as Record<string, unknown>,
    };
  }

  private patchBody(): RequestCase {
    const target =
      this.existing.length && this.r.chance(0.85) ? this.r.pick(this.existing) : `missing-${this.mark()}`;
    const found = this.existing.includes(target);
    const path = `${ORDERS}/${encode(target)}`;
    const marker = `"rq":${quote(this.mark())}`; // a field that always changes, so an accepted patch commits
    // One defect at a time: a missing record gets a valid body, so 404 is the only answer.
    const refusedOrMissing = (text: string | Buffer) =>
      found
        ? this.write('patch bodies', 'PATCH', path, text, 400, 'bad_request')
        : this.write('patch bodies', 'PATCH', path, `{${marker}}`, 404, 'not_found');
    const choices: (() => RequestCase)[] = [
      () => refusedOrMissing(this.notAnObject()),
      () =>
        refusedOrMissing(
          `{${marker},"a":${nestedArrays(this.r.int(PROTOCOL_BOUNDS.maxValueDepth, 100_000))}}`,
        ),
      () => refusedOrMissing(`{${marker},"id":${quote(`${target}-renamed`)}}`),
      () => {
        const value = hostileJson(this.r, 5);
        const text =
          value.text.startsWith('{') && value.text !== '{}'
            ? `{${marker},${value.text.slice(1)}`
            : `{${marker}}`;
        const patched = value.text.startsWith('{') && value.protoKey;
        if (patched) return refusedOrMissing(text);
        return found
          ? this.write('patch bodies', 'PATCH', path, text, 200)
          : this.write('patch bodies', 'PATCH', path, text, 404, 'not_found');
      },
      () => {
        // A delete is a write too: 204 and one event, or 404 and none.
        if (found) this.deleted(target);
        return found
          ? this.write('patch bodies', 'DELETE', path, '', 204)
          : this.write('patch bodies', 'DELETE', path, '', 404, 'not_found');
      },
    ];
    return this.r.pick(choices)();
  }

  /** A publish to a topic of its own, so its event is told apart by channel. */
  publish(category: string, body: string | Buffer, status: number, code?: HttpErrorName): RequestCase {
    const topic = `rq.${this.lane}.${++this.n}`;
    const req = this.base(category, 'POST', `/api/events/${topic}`);
    return {
      ...req,
      headers: { ...req.headers, 'content-type': 'application/json' },
      body,
      status,
      ...(code ? { code } : {}),
      commits: { key: `events:${topic}`, count: status < 300 ? 1 : 0 },
    };
  }

  private eventBody(): RequestCase {
    const choices: (() => RequestCase)[] = [
      () => {
        const body = this.notAnObject();
        // Event data is any JSON value: only what is not JSON is refused.
        let json = true;
        try {
          JSON.parse(body.toString());
        } catch {
          json = false;
        }
        return json && body.toString().trim() !== ''
          ? this.publish('event bodies', body, 202)
          : this.publish('event bodies', body, 400, 'bad_request');
      },
      () =>
        this.publish(
          'event bodies',
          nestedArrays(this.r.int(PROTOCOL_BOUNDS.maxValueDepth + 1, 100_000)),
          400,
          'bad_request',
        ),
      () => {
        const value = hostileJson(this.r, 6);
        return value.protoKey
          ? this.publish('event bodies', value.text, 400, 'bad_request')
          : this.publish('event bodies', value.text, 202);
      },
      () => {
        const topic = oddString(this.r, 140);
        const path = `/api/events/${encode(topic)}`;
        const status = CHANNEL_NAME_PATTERN.test(wellFormed(topic)) ? 202 : 404;
        return {
          ...this.base('event bodies', 'POST', path),
          body: '1',
          status,
          ...(status === 404 ? { code: 'not_found' as const } : {}),
        };
      },
    ];
    return this.r.pick(choices)();
  }

  private oversized(): RequestCase {
    const size = this.r.int(MIB + 1, 3 * MIB);
    const body = `{"a":"${'x'.repeat(size)}"}`;
    return this.r.chance(0.5)
      ? this.write('oversized bodies', 'POST', ORDERS, body, 413, 'payload_too_large')
      : this.publish('oversized bodies', body, 413, 'payload_too_large');
  }
}
