/**
 * The frames whose JSON is well formed but whose values are hostile: numbers past the double
 * range, strings past each length limit, prototype names as keys and paths, and odd Unicode,
 * each at the places a client may put them, with the answer the documented rules give.
 */
import {
  CHANNEL_NAME_PATTERN,
  CODE,
  FORBIDDEN_KEYS,
  PROTOCOL_BOUNDS,
  fieldPathError,
} from '../../../protocol/index.js';
import {
  FUZZ_TOPIC,
  MAX,
  error,
  subscribed,
  utf8Length,
  type Expectation,
  type FrameCase,
  type FrameKit,
  type Outcome,
} from './frame-case.js';
import {
  HUGE_NUMBERS,
  PROTOTYPE_KEYS,
  hostileJson,
  normalized,
  object,
  oddString,
  quote,
} from './hostile-json.js';

const FORBIDDEN: readonly string[] = FORBIDDEN_KEYS;

/** Number literals past the double range in data, `t`, `since`, `snapshot.limit` and `where`. */
export function hugeNumberFrame(kit: FrameKit): FrameCase {
  const id = kit.id();
  const text = kit.r.pick(HUGE_NUMBERS);
  const value = Number(text);
  const ping = object([
    ['type', '"ping"'],
    ['t', text],
  ]);
  const choices: [string, Expectation][] = [
    [
      kit.publish(id, `{"n":${text}}`),
      { expect: { kind: 'answer', type: 'published', id }, echo: normalized(`{"n":${text}}`) },
    ],
    [
      ping,
      Number.isFinite(value)
        ? { expect: { kind: 'answer', type: 'pong' }, t: normalized(text) }
        : { expect: error() },
    ],
    [
      kit.subscribe(id, `events:${FUZZ_TOPIC}`, [['since', text]]),
      { expect: Number.isSafeInteger(value) && value >= 0 ? subscribed(id) : error(id) },
    ],
    // snapshot.limit is 1 to maxSnapshotLimit; none of these numbers is.
    [kit.subscribe(id, 'records:orders', [['snapshot', `{"limit":${text}}`]]), { expect: error(id) }],
    [
      kit.subscribe(id, 'records:orders', [['filter', `{"where":{"total":{"$gt":${text}}}}`]]),
      // A where operand must be a finite number (protocol/where.ts): 1e309 is Infinity to JSON.parse.
      { expect: Number.isFinite(value) ? subscribed(id) : error(id) },
    ],
  ];
  const [frame, expectation] = kit.r.pick(choices);
  return kit.finish('huge numbers', frame, expectation);
}

/** Strings past each length limit: ids, channels, epochs, `t`, data, meta and field paths. */
export function hugeStringFrame(kit: FrameKit): FrameCase {
  const id = kit.id();
  const length = kit.r.int(MAX.id + 1, 70_000);
  const s = 'x'.repeat(length);
  const channel = `events:${s}`;
  const metaBytes = utf8Length(JSON.stringify({ s }));
  const choices: [string, Expectation][] = [
    [kit.subscribe(s, `events:${FUZZ_TOPIC}`), { expect: error() }],
    [
      kit.subscribe(id, channel),
      {
        expect:
          channel.length > MAX.channel
            ? error(id)
            : CHANNEL_NAME_PATTERN.test(s)
              ? subscribed(id)
              : { kind: 'error', code: CODE.channel_unavailable, id },
      },
    ],
    [
      kit.subscribe(id, `events:${FUZZ_TOPIC}`, [['epoch', quote(s)]]),
      { expect: length > MAX.epoch ? error(id) : subscribed(id) },
    ],
    [
      object([
        ['type', '"ping"'],
        ['t', quote(s)],
      ]),
      { expect: error() },
    ],
    [kit.publish(id, quote(s)), { expect: { kind: 'answer', type: 'published', id }, echo: s }],
    [
      kit.subscribe(id, 'presence:fz', [['meta', JSON.stringify({ s })]]),
      metaBytes > PROTOCOL_BOUNDS.maxPresenceMetaBytes
        ? { expect: error(id, `${PROTOCOL_BOUNDS.maxPresenceMetaBytes} bytes`) }
        : { expect: subscribed(id), meta: { s } },
    ],
    [
      kit.subscribe(id, 'records:orders', [['fields', JSON.stringify([s])]]),
      { expect: fieldPathError(s) ? error(id) : subscribed(id) },
    ],
  ];
  const [text, base] = kit.r.pick(choices);
  return kit.finish('huge strings', text, base);
}

/** `__proto__`, `constructor`, `prototype` and other prototype names as keys, paths and values. */
export function prototypeKeyFrame(kit: FrameKit): FrameCase {
  const id = kit.id();
  const key = kit.r.pick(PROTOTYPE_KEYS);
  const forbidden = FORBIDDEN.includes(key);
  const isProto = key === '__proto__';
  const payload = `{${quote(key)}:{"polluted":true}}`;
  const asPath = (channel: string, member: readonly [string, string]): [string, Outcome] => [
    kit.subscribe(id, channel, [member]),
    forbidden ? error(id, key) : subscribed(id),
  ];
  const choices: (() => [string, Expectation])[] = [
    () => [`{"type":"ping",${quote(key)}:1}`, { expect: error() }],
    () => [kit.subscribe(id, `events:${FUZZ_TOPIC}`, [[key, '1']]), { expect: error(id) }],
    () => [kit.subscribe(id, 'records:orders', [['filter', payload]]), { expect: error(id) }],
    () => [kit.subscribe(id, 'records:orders', [['snapshot', payload]]), { expect: error(id) }],
    () => {
      const [text, expect] = asPath('records:orders', ['filter', `{"where":{${quote(key)}:1}}`]);
      return [text, { expect }];
    },
    () => {
      const [text, expect] = asPath('records:orders', [
        'filter',
        `{"where":[[${quote(`customer.${key}`)},"=",1]]}`,
      ]);
      return [text, { expect }];
    },
    () => {
      const [text, expect] = asPath('records:orders', ['fields', `[${quote(key)}]`]);
      return [text, { expect }];
    },
    () => {
      const [text, expect] = asPath('records:orders', ['snapshot', `{"sort":[${quote(`-${key}`)}]}`]);
      return [text, { expect }];
    },
    () => {
      // A literal operand is a value, not a path: deep equality with an object that has such a key.
      const text = kit.subscribe(id, 'records:orders', [['filter', `{"where":{"customer":${payload}}}`]]);
      return [text, { expect: subscribed(id) }];
    },
    // Stored and relayed values may not carry a __proto__ key at any depth (protocol/README.md).
    () => [
      kit.subscribe(id, 'presence:fz', [['meta', payload]]),
      isProto ? { expect: error(id, '__proto__') } : { expect: subscribed(id), meta: normalized(payload) },
    ],
    () => [
      kit.subscribe(id, 'presence:fz', [['meta', `{"a":${payload}}`]]),
      isProto
        ? { expect: error(id, '__proto__') }
        : { expect: subscribed(id), meta: normalized(`{"a":${payload}}`) },
    ],
    () => [
      kit.publish(id, payload),
      isProto
        ? { expect: error(id, '__proto__') }
        : { expect: { kind: 'answer', type: 'published', id }, echo: normalized(payload) },
    ],
    () => {
      const value = hostileJson(kit.r);
      return [
        kit.publish(id, value.text),
        value.protoKey
          ? { expect: error(id, '__proto__') }
          : {
              expect: { kind: 'answer', type: 'published', id },
              echo: normalized(value.text),
            },
      ];
    },
  ];
  const [text, base] = kit.r.pick(choices)();
  return kit.finish('prototype keys', text, base);
}

/** Lone surrogates, NUL, direction marks and other odd text in ids, channels, data, meta, `where` and `t`. */
export function oddUnicodeFrame(kit: FrameKit): FrameCase {
  const id = kit.id();
  const s = oddString(kit.r, MAX.id);
  const meta = JSON.stringify({ [s]: s });
  const choices: [string, Expectation][] = [
    [kit.subscribe(s, `events:${FUZZ_TOPIC}`), { expect: subscribed(s) }],
    [
      kit.subscribe(id, `events:${s}`),
      {
        expect: CHANNEL_NAME_PATTERN.test(s)
          ? subscribed(id)
          : { kind: 'error', code: CODE.channel_unavailable, id },
      },
    ],
    [
      kit.publish(id, JSON.stringify({ [s]: [s, s] })),
      { expect: { kind: 'answer', type: 'published', id }, echo: { [s]: [s, s] } },
    ],
    [
      kit.subscribe(id, 'presence:fz', [['meta', meta]]),
      utf8Length(meta) > PROTOCOL_BOUNDS.maxPresenceMetaBytes
        ? { expect: error(id) }
        : { expect: subscribed(id), meta: JSON.parse(meta) },
    ],
    [
      kit.subscribe(id, 'records:orders', [['filter', `{"where":{"status":${quote(s)}}}`]]),
      { expect: subscribed(id) },
    ],
    [
      kit.subscribe(id, 'records:orders', [['filter', `{"where":{${quote(s)}:1}}`]]),
      // A top-level key that starts with $ is an operator, and no operator has such a name.
      { expect: s.startsWith('$') || fieldPathError(s) ? error(id) : subscribed(id) },
    ],
    [
      object([
        ['type', '"ping"'],
        ['t', quote(s)],
      ]),
      { expect: s.length > MAX.t ? error() : { kind: 'answer', type: 'pong' }, t: s },
    ],
    [kit.subscribe(id, `events:${FUZZ_TOPIC}`, [['epoch', quote(s)]]), { expect: subscribed(id) }],
  ];
  const [text, base] = kit.r.pick(choices);
  return kit.finish('odd Unicode', text, base);
}
