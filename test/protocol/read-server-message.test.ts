import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as z from 'zod/mini';
import { parseServerMessage } from '../../protocol/codec.js';
import {
  CLIENT_MESSAGE_JSON_SCHEMA,
  ERROR_BODY_JSON_SCHEMA,
  SERVER_MESSAGE_JSON_SCHEMA,
  WS_AUTH_RESPONSE_JSON_SCHEMA,
} from '../../protocol/generated/json-schemas.js';
import { ErrorBodySchema, WsAuthResponseSchema } from '../../protocol/http.js';
import { checkJsonSchema, type JsonSchemaCheck } from '../../protocol/json-schema-check.js';
import { ClientMessageSchema, ServerMessageSchema } from '../../protocol/messages.js';
import {
  checkErrorBody,
  checkWsAuthResponse,
  readServerMessage,
} from '../../protocol/read-server-message.js';
import { TARGETS } from '../../scripts/generate-json-schemas.js';
import {
  CLIENT_MESSAGES,
  ERROR_BODIES,
  mutations,
  SERVER_MESSAGES,
  WS_AUTH_RESPONSES,
} from './message-corpus.js';

type Path = readonly (string | number)[];

/**
 * The data paths (`*` for any array index) of the refinements a target leaves to zod, read from
 * the generator's `unexpressed` JSON Pointers: `/oneOf/1/properties/filter/properties/where`
 * is `filter.where` of some message.
 */
function documentedGaps(name: string): string[][] {
  const target = TARGETS.find((t) => t.name === name);
  assert.ok(target, name);
  return Object.keys(target.unexpressed).map((pointer) => {
    const tokens = pointer.split('/').slice(1);
    const path: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] as string;
      if (token === 'oneOf' || token === 'anyOf' || token === 'prefixItems') i++;
      else if (token === 'items') path.push('*');
      else if (token !== 'properties') path.push(token);
    }
    return path;
  });
}

const startsWith = (path: Path, prefix: readonly string[]) =>
  prefix.length <= path.length && prefix.every((p, i) => p === '*' || p === String(path[i]));

type Agreement = {
  accepted: number;
  rejected: number;
  /** Mutations on which the verdicts differ outside the documented gaps, or the wrong way round. */
  unexplained: string[];
  /** Documented gaps that some mutation showed (zod refuses, the JSON Schema accepts). */
  shown: Set<string>;
};

/** Runs both validators on every mutation of every valid value in `corpus`. */
function agreement(
  corpus: readonly unknown[],
  schema: z.ZodMiniType,
  jsonSchema: JsonSchemaCheck,
  gaps: string[][],
): Agreement {
  const result: Agreement = { accepted: 0, rejected: 0, unexplained: [], shown: new Set() };
  for (const valid of corpus) {
    assert.equal(schema.safeParse(valid).success, true, JSON.stringify(valid));
    for (const { path, change, value } of mutations(valid as Parameters<typeof mutations>[0])) {
      const zodOk = schema.safeParse(value).success;
      const jsonOk = checkJsonSchema(jsonSchema, value).length === 0;
      if (zodOk) result.accepted++;
      else result.rejected++;
      if (zodOk === jsonOk) continue;
      // The change is inside a refined part, or replaced a node that contains one.
      const gap = gaps.find((g) => startsWith(path, g) || startsWith(g, path.map(String)));
      if (gap && !zodOk) result.shown.add(gap.join('.'));
      else result.unexplained.push(`${path.join('.')} ${change}: zod ${zodOk ? 'accepts' : 'refuses'} it`);
    }
  }
  return result;
}

describe('readServerMessage and parseServerMessage', () => {
  it('accept every message of the corpus and return the same message', () => {
    for (const message of SERVER_MESSAGES) {
      const text = JSON.stringify(message);
      const read = readServerMessage(text);
      assert.equal(read.ok, true, `${text}: ${read.ok ? '' : read.error}`);
      assert.deepEqual(read, parseServerMessage(text));
    }
  });

  it("agree on every mutation of every server message (only meta's keys are left to zod)", () => {
    assert.deepEqual(documentedGaps('SERVER_MESSAGE_JSON_SCHEMA'), [['members', '*', 'meta']]);
    // MemberSchema is one schema used twice: the generator names its gap once, at its first use.
    const gaps = [
      ['members', '*', 'meta'],
      ['events', '*', 'member', 'meta'],
    ];
    const { accepted, rejected, unexplained } = agreement(
      SERVER_MESSAGES,
      ServerMessageSchema,
      SERVER_MESSAGE_JSON_SCHEMA,
      gaps,
    );
    assert.deepEqual(unexplained.slice(0, 10), [], `${unexplained.length} disagreements`);
    // Both verdicts occur often, so agreeing is not trivial.
    assert.ok(rejected > 3000 && accepted > 1000, `${rejected} refused, ${accepted} accepted`);
  });

  it('agree on frames that are not JSON objects', () => {
    for (const text of ['', '{', 'null', '[]', '[{"type":"ping"}]', '5', '"ping"', 'true']) {
      assert.deepEqual(readServerMessage(text), parseServerMessage(text), text);
    }
    assert.deepEqual(readServerMessage('{'), { ok: false, error: 'frame is not valid JSON', issues: [] });
  });

  it('keep the id of a refused message when it could answer one', () => {
    const text = JSON.stringify({ type: 'subscribed', id: 's1' });
    const [read, parsed] = [readServerMessage(text), parseServerMessage(text)];
    assert.deepEqual([read.ok, !read.ok && read.id], [false, 's1']);
    assert.deepEqual([parsed.ok, !parsed.ok && parsed.id], [false, 's1']);
    const long = readServerMessage(JSON.stringify({ type: 'nope', id: 'x'.repeat(65) }));
    assert.equal(!long.ok && 'id' in long, false);
  });
});

describe('readServerMessage issues', () => {
  const cases: [description: string, message: unknown, path: Path, error: string][] = [
    [
      'names an unknown type and the known ones',
      { type: 'hello' },
      ['type'],
      'type: unknown type "hello"; expected one of "welcome", "subscribed", "unsubscribed", "published", "ping", "pong", "error", "batch"',
    ],
    ['names a missing type', { id: 's1' }, ['type'], 'type: expected one of "welcome", "subscribed",'],
    ['names a missing key', { type: 'unsubscribed' }, ['id'], 'id: required'],
    ['names an unknown key at its object', { type: 'pong', x: 1 }, [], 'unknown key "x"'],
    [
      'says which type a value should have',
      { type: 'subscribed', id: 's', seq: 1.5 },
      ['seq'],
      'seq: expected integer',
    ],
    [
      'gives the bound that is broken',
      { type: 'subscribed', id: 's', seq: -1 },
      ['seq'],
      'seq: expected at least 0',
    ],
    [
      'gives the length that is broken',
      { type: 'unsubscribed', id: 'x'.repeat(65) },
      ['id'],
      'id: expected at most 64 characters',
    ],
    ['says what a union expects', { type: 'ping', t: true }, ['t'], 't: expected number or string'],
    [
      'explains the event branch that comes closest',
      {
        type: 'batch',
        events: [{ seq: 1, sub: 's', channel: 'presence:l', timestamp: 't', change: 'join' }],
      },
      ['events', 0, 'member'],
      'events.0.member: required',
    ],
    [
      'reports an enum with its members',
      {
        type: 'batch',
        events: [
          {
            seq: 1,
            sub: 's',
            channel: 'presence:l',
            timestamp: 't',
            change: 'joined',
            member: { connectionId: 'c', meta: {} },
          },
        ],
      },
      ['events', 0, 'change'],
      'events.0.change: expected one of "join", "leave"',
    ],
  ];
  for (const [description, message, path, error] of cases) {
    it(description, () => {
      const result = readServerMessage(JSON.stringify(message));
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.deepEqual(result.issues[0]?.path, path);
      assert.ok(result.error.startsWith(error), result.error);
    });
  }

  it('points its first issue at the broken part of every mutation it refuses', () => {
    const misplaced: string[] = [];
    for (const valid of SERVER_MESSAGES) {
      for (const { path, change, value } of mutations(valid)) {
        const result = readServerMessage(JSON.stringify(value));
        // A changed `type` picks another branch, whose issues may be anywhere.
        if (result.ok || path.length === 0 || path.join() === 'type') continue;
        const at = result.issues[0]?.path ?? [];
        // At the changed node, one of its ancestors (an object with a dropped or unknown key), or
        // inside it (a replacement that is itself broken).
        if (!startsWith(path, at.map(String)) && !startsWith(at, path.map(String))) {
          misplaced.push(`${path.join('.')} ${change}: issue at ${at.join('.')}`);
        }
      }
    }
    assert.deepEqual(misplaced.slice(0, 10), [], `${misplaced.length} misplaced`);
  });
});

describe('checkWsAuthResponse and checkErrorBody', () => {
  it('return a valid body itself', () => {
    for (const body of WS_AUTH_RESPONSES) assert.equal(checkWsAuthResponse(body), body);
    for (const body of ERROR_BODIES) assert.equal(checkErrorBody(body), body);
  });

  it('return undefined for anything else', () => {
    assert.equal(checkWsAuthResponse(undefined), undefined);
    assert.equal(checkWsAuthResponse(ERROR_BODIES[0]), undefined);
    assert.equal(checkErrorBody(WS_AUTH_RESPONSES[0]), undefined);
    assert.equal(checkErrorBody({ error: { code: 7, message: 'a code is a name' } }), undefined);
    assert.equal(checkErrorBody({ error: { code: 'conflict' } }), undefined);
  });

  it('take an error code this client does not know: a newer server may add one', () => {
    const body = { error: { code: 'teapot', message: 'short and stout' } };
    assert.equal(checkErrorBody(body), body);
  });

  it('agree with WsAuthResponseSchema and ErrorBodySchema on every mutation', () => {
    for (const [name, corpus, schema, jsonSchema] of [
      ['WS_AUTH_RESPONSE_JSON_SCHEMA', WS_AUTH_RESPONSES, WsAuthResponseSchema, WS_AUTH_RESPONSE_JSON_SCHEMA],
      ['ERROR_BODY_JSON_SCHEMA', ERROR_BODIES, ErrorBodySchema, ERROR_BODY_JSON_SCHEMA],
    ] as const) {
      assert.deepEqual(documentedGaps(name), []);
      const { unexplained, rejected } = agreement(corpus, schema, jsonSchema, []);
      assert.deepEqual(unexplained.slice(0, 10), [], `${name}: ${unexplained.length} disagreements`);
      assert.ok(rejected > 50, `${name}: ${rejected} refused`);
    }
  });
});

describe('CLIENT_MESSAGE_JSON_SCHEMA', () => {
  it('differs from ClientMessageSchema exactly in the refinements it documents', () => {
    const gaps = documentedGaps('CLIENT_MESSAGE_JSON_SCHEMA');
    assert.deepEqual(gaps.map((g) => g.join('.')).sort(), [
      'fields',
      'filter.operations.*',
      'filter.where',
      'meta',
      'snapshot.sort',
    ]);
    const { unexplained, shown, rejected, accepted } = agreement(
      CLIENT_MESSAGES,
      ClientMessageSchema,
      CLIENT_MESSAGE_JSON_SCHEMA,
      gaps,
    );
    assert.deepEqual(unexplained.slice(0, 10), [], `${unexplained.length} unexplained disagreements`);
    assert.deepEqual([...shown].sort(), gaps.map((g) => g.join('.')).sort(), 'every documented gap is real');
    assert.ok(rejected > 1500 && accepted > 500, `${rejected} refused, ${accepted} accepted`);
  });
});
