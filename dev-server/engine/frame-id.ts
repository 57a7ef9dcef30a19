/**
 * The `id` of a frame the connection drops unread (rate limit, 4029), so the client can tell
 * which subscription or publish was refused: one pass over the text, no parse, no allocation but
 * the id itself. The frame is never parsed, so it is never validated either; this only finds
 * what JSON.parse would give as the top-level `"id"`.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Longest subscription id (`SubscriptionIdSchema`). */
const MAX_ID = 64;

/**
 * The string value of the top-level `"id"` key of an object frame (the last one, as JSON.parse
 * keeps), when it is 1 to 64 characters without escapes; otherwise undefined.
 */
export function topLevelId(text: string): string | undefined {
  let depth = 0;
  let id: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    else if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      const isIdKey = depth === 1 && end === i + 3 && text.startsWith('id', i + 1);
      i = end;
      if (!isIdKey) continue;
      const colon = skipSpace(text, end + 1);
      if (text.charCodeAt(colon) !== COLON) continue; // a value "id", not the key
      const start = skipSpace(text, colon + 1);
      if (text.charCodeAt(start) !== QUOTE) {
        id = undefined; // not a string: JSON.parse would give this, not an earlier id
        continue;
      }
      const valueEnd = stringEnd(text, start);
      if (valueEnd < 0) return undefined;
      id = plainString(text, start + 1, valueEnd);
      i = valueEnd;
    }
  }
  return id;
}

/** The index of the quote that ends the string starting at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}

/** `text` from `from` to `to` when that is 1 to 64 characters without an escape. */
function plainString(text: string, from: number, to: number): string | undefined {
  if (to - from < 1 || to - from > MAX_ID) return undefined;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === BACKSLASH) return undefined;
  return text.slice(from, to);
}

/** The index of the first character from `i` on that is not JSON whitespace. */
function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}
