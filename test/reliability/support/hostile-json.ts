/**
 * Pieces of hostile JSON for the bad-input tests, written as JSON *text* so that values a
 * JavaScript value cannot hold (`1e309`, `-0` as typed, a lone surrogate escape) reach the server
 * exactly as a hostile client would send them. Each generated value says how deep it nests and
 * whether it carries a `__proto__` key, which is what the server's rules for stored values
 * (at most 64 levels, no `__proto__`) decide on.
 */
import { FORBIDDEN_KEYS } from '../../../protocol/index.js';
import type { Random } from './seeded-random.js';

/** Strings that trip naive code: lone surrogates, NUL, direction marks, BOM, non-characters, … */
export const ODD_STRINGS: readonly string[] = [
  '\ud800',
  '\udfff',
  'a\ud83d',
  '\ude00b',
  '\u0000',
  'nul\u0000inside',
  '\u202e',
  '\u202dltr\u202c',
  '\u200f\u200e',
  '\u200b',
  '\ufeff',
  '\uffff',
  '\ufffe',
  '\u2028\u2029',
  'e\u0301\u0301\u0301',
  '👩‍👩‍👧‍👦',
  '𝕏',
  '\u001b[31m',
  '\r\n',
  '\t',
  '"',
  '\\',
  '</script><script>',
  '%00',
  '${x}',
  'ﷺ',
  '\u0085',
];

/** Keys that reach prototypes in naive code; the protocol refuses the first three as field paths. */
export const PROTOTYPE_KEYS: readonly string[] = [
  ...FORBIDDEN_KEYS,
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__lookupSetter__',
  'isPrototypeOf',
];

/** Number literals at and past the edges of a double, as a client may type them. */
export const HUGE_NUMBERS: readonly string[] = [
  '1e308',
  '-1e308',
  '1e309',
  '-1e309',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740993',
  '1e-400',
  '-0',
  '123456789012345678901234567890e10',
  `1${'0'.repeat(400)}`,
  `0.${'1'.repeat(500)}`,
];

/**
 * A string of 1 to `maxLength` UTF-16 units made of odd pieces and random code points (never a
 * `.`, so it stays one field-path segment).
 */
export function oddString(r: Random, maxLength: number): string {
  let s = '';
  const target = r.int(1, maxLength);
  while (s.length < target) {
    if (r.chance(0.6)) s += r.pick(ODD_STRINGS);
    else {
      const codePoint = r.chance(0.5) ? r.int(0x20, 0x2ff) : r.int(0x300, 0x10ffff);
      if (codePoint !== 0x2e) s += String.fromCodePoint(codePoint);
    }
  }
  // Cutting may split a pair: that only adds a lone surrogate, which is odd on purpose.
  return s.slice(0, target);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` with every lone surrogate replaced by U+FFFD, as UTF-8 encoders (and URLs) carry it. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/** The JSON text of a string (lone surrogates are escaped, so they arrive as they are). */
export function quote(s: string): string {
  return JSON.stringify(s);
}

/** A JSON object's text from raw member texts, in order. */
export function object(members: readonly (readonly [string, string])[]): string {
  return `{${members.map(([key, value]) => `${quote(key)}:${value}`).join(',')}}`;
}

/** Arrays nested `depth` levels deep around `inner` (`depth` 0 is `inner` itself). */
export function nestedArrays(depth: number, inner = '0'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** A generated JSON value: its text, its nesting depth (a scalar is 0) and whether it has a `__proto__` key. */
export type JsonText = { text: string; depth: number; protoKey: boolean };

/** A random JSON value full of odd strings, odd keys and huge numbers, at most `maxDepth` deep. */
export function hostileJson(r: Random, maxDepth = 4): JsonText {
  const roll = r.int(0, maxDepth > 0 ? 9 : 5);
  switch (roll) {
    case 0:
    case 1:
      return scalar(quote(oddString(r, 24)));
    case 2:
      return scalar(r.pick(HUGE_NUMBERS));
    case 3:
      return scalar(r.pick(['null', 'true', 'false', '0', '-1.5']));
    case 4:
    case 5:
      return scalar(quote(r.pick(PROTOTYPE_KEYS)));
    case 6:
    case 7: {
      const items = Array.from({ length: r.int(0, 4) }, () => hostileJson(r, maxDepth - 1));
      return container(`[${items.map((i) => i.text).join(',')}]`, items);
    }
    default: {
      const members = Array.from({ length: r.int(0, 4) }, () => {
        const key = r.chance(0.4) ? r.pick(PROTOTYPE_KEYS) : oddString(r, 12);
        return { key, value: hostileJson(r, maxDepth - 1) };
      });
      // A repeated key keeps its last value in JSON.parse: keep one of each, so the text says what it means.
      const unique = [...new Map(members.map((m) => [m.key, m])).values()];
      const text = object(unique.map((m) => [m.key, m.value.text] as const));
      const value = container(
        text,
        unique.map((m) => m.value),
      );
      return { ...value, protoKey: value.protoKey || unique.some((m) => m.key === '__proto__') };
    }
  }
}

function scalar(text: string): JsonText {
  return { text, depth: 0, protoKey: false };
}

function container(text: string, children: readonly JsonText[]): JsonText {
  return {
    text,
    depth: 1 + Math.max(0, ...children.map((c) => c.depth)),
    protoKey: children.some((c) => c.protoKey),
  };
}

/**
 * What a JSON text comes back as after a server stored and re-sent it: parsed, then through
 * `JSON.stringify` (so `1e309` is `null` and `-0` is `0`).
 */
export function normalized(text: string): unknown {
  return JSON.parse(JSON.stringify(JSON.parse(text)));
}
