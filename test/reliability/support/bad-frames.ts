/**
 * Generated WebSocket frames for an authenticated connection, each with the answer PROTOCOL.md
 * (sections 4 and 7) and protocol/README.md document for it: random bytes, invalid UTF-8,
 * truncated and deeply nested JSON, wrong types, huge numbers and strings, prototype keys, odd
 * Unicode, `where`s of thousands of terms, unknown operators, oversized frames, and valid frames
 * as controls. The expectation is derived from the documented rules (limits, name patterns,
 * field-path rules), never from running the server.
 */
import { CODE, PROTOCOL_BOUNDS, WHERE_LIMITS, WHERE_OPERATORS } from '../../../protocol/index.js';
import {
  FUZZ_TOPIC,
  MAX,
  error,
  subscribed,
  utf8Length,
  type Expectation,
  type FrameCase,
  type FrameKit,
  type Members,
  type Outcome,
} from './frame-case.js';
import { hugeNumberFrame, hugeStringFrame, oddUnicodeFrame, prototypeKeyFrame } from './hostile-frames.js';
import { nestedArrays, object, oddString, quote } from './hostile-json.js';
import type { Random } from './seeded-random.js';

/** A valid message's members and the answer it gets. */
type ValidMessage = Expectation & { members: Members };

/** Generates frames from a seeded stream; `maxMessageBytes` is the server's frame limit. */
export class FrameGenerator implements FrameKit {
  private count = 0;
  /** How many frames of each category `next()` has made. */
  readonly made = new Map<string, number>();

  constructor(
    readonly r: Random,
    private readonly maxMessageBytes: number,
  ) {}

  /** The kinds of frame, each a generator; `next()` picks among them evenly. */
  private readonly kinds: Record<string, () => FrameCase> = {
    'random bytes': () => ({
      category: 'random bytes',
      payload: { binary: this.r.bytes(this.r.int(1, 4096)) },
      expect: error(),
    }),
    'random text': () => this.text('random text', oddString(this.r, 2000), error()),
    'invalid UTF-8': () => {
      const bytes = this.r.bytes(this.r.int(0, 200));
      const at = this.r.int(0, bytes.length);
      const broken = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at)]);
      // RFC 6455 7.4.1: a text frame that is not UTF-8 fails the connection with 1007.
      return {
        category: 'invalid UTF-8',
        payload: { invalidUtf8: broken },
        expect: { kind: 'close', code: 1007 },
      };
    },
    'truncated JSON': () => {
      const base = this.base();
      const text = object(base.members);
      return this.text('truncated JSON', text.slice(0, this.r.int(0, text.length - 1)), error());
    },
    'deep nesting': () => this.deep(),
    'wrong types': () => this.wrongType(),
    'huge numbers': () => hugeNumberFrame(this),
    'huge strings': () => hugeStringFrame(this),
    'prototype keys': () => prototypeKeyFrame(this),
    'odd Unicode': () => oddUnicodeFrame(this),
    'where of thousands of terms': () => this.bigWhere(),
    'unknown operators': () => this.unknownOperator(),
    'oversized frame': () => ({
      category: 'oversized frame',
      payload: 'x'.repeat(this.maxMessageBytes + this.r.int(1, 100_000)),
      expect: { kind: 'close', code: CODE.message_too_big },
    }),
    'valid control': () => {
      const { members, ...expectation } = this.base();
      return this.finish('valid control', object(members), expectation);
    },
  };

  /** Every category `next()` draws from. */
  get categories(): string[] {
    return Object.keys(this.kinds);
  }

  /** The next frame. */
  next(): FrameCase {
    const category = this.r.pick(this.categories);
    this.made.set(category, (this.made.get(category) ?? 0) + 1);
    return (this.kinds[category] as () => FrameCase)();
  }

  /** A fresh subscription or publish id. */
  id(): string {
    return `f${++this.count}`;
  }

  /** The case for a text frame; any frame over maxMessageBytes is closed with 1009 unread. */
  finish(category: string, text: string, expectation: Expectation): FrameCase {
    if (utf8Length(text) > this.maxMessageBytes) {
      return { category, payload: text, expect: { kind: 'close', code: CODE.message_too_big } };
    }
    return { category, payload: text, ...expectation };
  }

  /** The text of a subscribe message with extra raw members. */
  subscribe(id: string, channel: string, extra: Members = []): string {
    return object([['type', '"subscribe"'], ['id', quote(id)], ['channel', quote(channel)], ...extra]);
  }

  /** The text of a publish to `events:fz` with raw `data`. */
  publish(id: string, data: string): string {
    return object([
      ['type', '"publish"'],
      ['id', quote(id)],
      ['channel', quote(`events:${FUZZ_TOPIC}`)],
      ['data', data],
    ]);
  }

  private text(category: string, text: string, expect: Outcome): FrameCase {
    return this.finish(category, text, { expect });
  }

  /** A valid message and its answer. */
  private base(): ValidMessage {
    const id = this.id();
    const type = (t: string) => ['type', quote(t)] as const;
    const idMember = ['id', quote(id)] as const;
    const choices: (() => ValidMessage)[] = [
      () => ({
        members: [type('subscribe'), idMember, ['channel', quote(`events:${FUZZ_TOPIC}`)]],
        expect: subscribed(id),
      }),
      () => ({
        members: [
          type('subscribe'),
          idMember,
          ['channel', '"records:orders"'],
          ['filter', '{"where":{"status":"pending"},"operations":["create","UPDATE"]}'],
          ['fields', '["status","total"]'],
          ['snapshot', '{"limit":5,"sort":["-total"]}'],
        ],
        expect: subscribed(id),
      }),
      () => ({
        members: [type('subscribe'), idMember, ['channel', '"presence:fz"'], ['meta', '{"name":"fz"}']],
        expect: subscribed(id),
        meta: { name: 'fz' },
      }),
      () => ({
        members: [
          type('subscribe'),
          idMember,
          ['channel', '"records:*"'],
          ['since', '0'],
          ['epoch', '"e_elsewhere"'],
        ],
        expect: subscribed(id),
      }),
      () => ({
        members: [type('unsubscribe'), idMember],
        expect: { kind: 'answer', type: 'unsubscribed', id },
      }),
      () => ({
        members: [type('publish'), idMember, ['channel', quote(`events:${FUZZ_TOPIC}`)], ['data', '{"n":1}']],
        expect: { kind: 'answer', type: 'published', id },
        echo: { n: 1 },
      }),
      () => ({ members: [type('ping'), ['t', '1']], expect: { kind: 'answer', type: 'pong' }, t: 1 }),
    ];
    return this.r.pick(choices)();
  }

  private deep(): FrameCase {
    const id = this.id();
    const depth = this.r.int(PROTOCOL_BOUNDS.maxValueDepth + 1, 30_000);
    const nots = WHERE_LIMITS.maxDepth + (depth % 5000);
    const choices: [string, Outcome][] = [
      [nestedArrays(depth), error()],
      [
        object([
          ['type', '"ping"'],
          ['t', nestedArrays(depth)],
        ]),
        error(),
      ],
      [this.publish(id, nestedArrays(depth)), error(id, `deeper than ${PROTOCOL_BOUNDS.maxValueDepth}`)],
      [this.subscribe(id, 'presence:fz', [['meta', `{"a":${nestedArrays(depth - 1)}}`]]), error(id)],
      [
        this.subscribe(id, 'records:orders', [['filter', `{"where":{"a":${nestedArrays(depth)}}}`]]),
        error(id, `more than ${WHERE_LIMITS.maxDepth} levels`),
      ],
      [
        this.subscribe(id, 'records:orders', [
          ['filter', `{"where":${'{"$not":'.repeat(nots)}{"a":1}${'}'.repeat(nots)}}`],
        ]),
        error(id, `more than ${WHERE_LIMITS.maxDepth} levels`),
      ],
    ];
    const [text, expect] = this.r.pick(choices);
    return this.text('deep nesting', text, expect);
  }

  private wrongType(): FrameCase {
    const base = this.base();
    // Values each field refuses (PROTOCOL.md section 4, messages.ts).
    const refused: Record<string, readonly string[]> = {
      type: ['null', 'true', '7', '"x"', '[1]', '{"a":1}'],
      id: ['null', 'true', '7', '1.5', '""', '[1]', '{"a":1}'],
      channel: ['null', 'true', '7', '""', '[1]', '{"a":1}'],
      filter: ['null', 'true', '7', '"x"', '[1]', '{"a":1}'],
      fields: ['null', 'true', '7', '"x"', '[1]', '{"a":1}'],
      snapshot: ['null', '7', '"x"', '[1]', '{"a":1}'],
      since: ['null', 'true', '1.5', '-3', '"x"', '[1]', '{"a":1}'],
      epoch: ['null', 'true', '7', '""', '[1]', '{"a":1}'],
      meta: ['null', 'true', '7', '"x"', '[1]'],
      t: ['null', 'true', '[1]', '{"a":1}'],
    };
    const fields = base.members.filter(([key]) => key in refused);
    const [field] = this.r.pick(fields);
    const value = this.r.pick(refused[field] as readonly string[]);
    const members = base.members.map(([key, v]) => [key, key === field ? value : v] as const);
    // A refused message keeps its id when that is a string of at most 64 characters (issues.ts).
    const idText = members.find(([key]) => key === 'id')?.[1];
    const id: unknown = idText === undefined ? undefined : JSON.parse(idText);
    const kept = typeof id === 'string' && id.length <= MAX.id ? id : undefined;
    return this.text('wrong types', object(members), error(kept));
  }

  private bigWhere(): FrameCase {
    const id = this.id();
    const terms = this.r.int(WHERE_LIMITS.maxTerms + 1, 10_000);
    const range = Array.from({ length: terms }, (_, i) => i);
    const wheres = [
      `{"status":{"$in":[${range.join(',')}]}}`,
      `{${range.map((i) => `"f${i}":${i}`).join(',')}}`,
      `{"$or":[${range.map((i) => `{"total":${i}}`).join(',')}]}`,
      `[${range.map((i) => `["total","!=",${i}]`).join(',')}]`,
    ];
    const text = this.subscribe(id, 'records:orders', [['filter', `{"where":${this.r.pick(wheres)}}`]]);
    return this.text(
      'where of thousands of terms',
      text,
      error(id, `more than ${WHERE_LIMITS.maxTerms} terms`),
    );
  }

  private unknownOperator(): FrameCase {
    const id = this.id();
    const letters = () =>
      Array.from({ length: this.r.int(1, 8) }, () => String.fromCharCode(this.r.int(97, 122))).join('');
    const fieldOps = [
      '$regex',
      '$where',
      '$expr',
      '$function',
      '$elemMatch',
      '$size',
      '$all',
      '$mod',
      '$type',
    ];
    const known: readonly string[] = [...WHERE_OPERATORS, '$and', '$or'];
    const fieldOp = this.r.chance(0.5) ? this.r.pick(fieldOps) : `$${letters()}`;
    const topOp = this.r.pick(['$nor', '$where', '$expr', '$text', '$comment', `$x${letters()}`]);
    const listOps = ['~', 'like', '==', '===', '<>', 'regex', 'IN', 'Contains', '$gt', `x${letters()}`];
    const listOp = this.r.pick(listOps);
    const choices: [string, string][] = [
      [`{"total":{${quote(fieldOp)}:1}}`, fieldOp],
      [`{${quote(topOp)}:[{"total":1}]}`, topOp],
      [`[["total",${quote(listOp)},1]]`, listOp],
    ];
    const [where, op] = this.r.pick(choices);
    const text = this.subscribe(id, 'records:orders', [['filter', `{"where":${where}}`]]);
    // A random name may spell a real operator ($eq, $in, …): then it is no unknown operator.
    if (known.includes(op)) return this.unknownOperator();
    return this.text('unknown operators', text, error(id, op));
  }
}
