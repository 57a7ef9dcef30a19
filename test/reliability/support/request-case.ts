/**
 * What a generated HTTP request is and what must follow it, and what the request makers share
 * (`RequestKit`): the seeded stream, fresh correlation marks, and builders for plain requests,
 * writes and publishes that say how many events they must commit.
 */
import type { HttpErrorName } from '../../../protocol/index.js';
import { wellFormed } from './hostile-json.js';
import type { Random } from './seeded-random.js';

/** One generated request and what must follow it. */
export type RequestCase = {
  category: string;
  method: string;
  /** Path and query exactly as sent (no normalization). */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  status: number;
  /** The error name of a refusal (none for 2xx, nor for Node's own 431). */
  code?: HttpErrorName;
  /** Writes: the key its events carry (`correlationId`, or `events:<topic>`) and how many it must commit. */
  commits?: { key: string; count: 0 | 1 };
  /** An accepted create: the fields the answer must hold as sent (after JSON's own normalization). */
  stored?: Record<string, unknown>;
  /** Needs a fresh one-time token in place of `{token}` in the path. */
  token?: boolean;
};

/** The orders collection every generated write goes to. */
export const ORDERS = '/api/objects/orders/records';

/** Path segments `decodeURIComponent` refuses. */
export const UNDECODABLE = ['%E0%A4%A', '%ZZ', '%ED%A0%80', '%', '%C0%AF'];

/** `text` percent-encoded as a URL path segment or query value (lone surrogates as U+FFFD). */
export function encode(text: string): string {
  return encodeURIComponent(wellFormed(text));
}

/** What the request makers share. */
export interface RequestKit {
  readonly r: Random;
  /** Order ids this generator created and has not deleted. */
  readonly existing: readonly string[];
  /** A fresh correlation mark, unique across generators. */
  mark(): string;
  /** A request with the acme production secret key (or `key`), expecting 200. */
  base(category: string, method: string, path: string, key?: string): RequestCase;
  /** A write with a correlation id: it commits one event when accepted, none when refused. */
  write(
    category: string,
    method: string,
    path: string,
    body: string | Buffer,
    status: number,
    code?: HttpErrorName,
  ): RequestCase;
  /** A publish to a topic of its own, so its event is told apart by channel. */
  publish(category: string, body: string | Buffer, status: number, code?: HttpErrorName): RequestCase;
}
