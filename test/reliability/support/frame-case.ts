/**
 * What a generated WebSocket frame is and what must follow it, and what the frame makers share:
 * the seeded stream, fresh subscription ids and the message builders (`FrameKit`).
 */
import { CODE } from '../../../protocol/index.js';
import type { Random } from './seeded-random.js';

/** The topic every generated publish goes to; an echo listener checks what arrives there. */
export const FUZZ_TOPIC = 'fz';

/** Longest subscription id, `epoch`, channel and ping `t` (PROTOCOL.md section 4, messages.ts). */
export const MAX = { id: 64, epoch: 128, channel: 256, t: 64 } as const;

/** What the server must do with a frame. */
export type Outcome =
  | { kind: 'answer'; type: 'subscribed' | 'published' | 'pong' | 'unsubscribed'; id?: string | undefined }
  | { kind: 'error'; code: number; id?: string | undefined; says?: string }
  | { kind: 'close'; code: number };

/** One generated frame and what must follow it. */
export type FrameCase = {
  category: string;
  /** Text, a binary frame, or a text frame whose bytes are not UTF-8. */
  payload: string | { binary: Buffer } | { invalidUtf8: Buffer };
  expect: Outcome;
  /** An accepted publish: the data subscribers of `events:fz` must receive. */
  echo?: unknown;
  /** An accepted presence subscribe: the meta this member must be listed with. */
  meta?: unknown;
  /** An accepted ping: the `t` its pong must carry. */
  t?: unknown;
};

/** Raw JSON members of a message, in order: `[key, JSON text]`. */
export type Members = readonly (readonly [string, string])[];

/** A frame's expectation before its text is final (the 1009 rule is applied last). */
export type Expectation = { expect: Outcome; echo?: unknown; meta?: unknown; t?: unknown };

/** What the frame makers share. */
export interface FrameKit {
  readonly r: Random;
  /** A fresh subscription or publish id. */
  id(): string;
  /** The text of a subscribe message with extra raw members. */
  subscribe(id: string, channel: string, extra?: Members): string;
  /** The text of a publish to `events:fz` with raw `data`. */
  publish(id: string, data: string): string;
  /** The case for a text frame; a frame over maxMessageBytes is closed with 1009 unread. */
  finish(category: string, text: string, expectation: Expectation): FrameCase;
}

/** Error 4000 (bad_request), carrying `id` and a message that contains `says`. */
export const error = (id?: string, says?: string): Outcome => ({
  kind: 'error',
  code: CODE.bad_request,
  id,
  says,
});

/** A `subscribed` answer with `id`. */
export const subscribed = (id: string): Outcome => ({ kind: 'answer', type: 'subscribed', id });

/** UTF-8 bytes of a text. */
export const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');
