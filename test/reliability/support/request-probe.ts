/**
 * Sends one generated HTTP request exactly as generated (node:http: no path normalization, any
 * method, any body) and tells whether the answer is the documented one: its status, and for a
 * refusal the error body of PROTOCOL.md section 2 with the right name; for an accepted create,
 * the stored record holding every field as sent.
 */
import { request as httpRequest } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import {
  ErrorBodySchema,
  HTTP_ERRORS,
  PublishResponseSchema,
  RecordListResponseSchema,
  RecordSchema,
} from '../../../protocol/index.js';
import type { RequestCase } from './request-case.js';

/** The status and body text of an answer, or `undefined` status when the connection failed first. */
export type Answer = { status: number | undefined; text: string; error?: string };

/** Sends `req` to 127.0.0.1:`port` on a connection of its own. */
export function sendRequest(port: number, req: RequestCase, path = req.path): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    let settled = false;
    const settle = (answer: Answer) => {
      if (!settled) resolve(answer);
      settled = true;
    };
    const outgoing = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path, headers, agent: false },
      (res) => {
        if (res.headers['content-type']?.startsWith('text/event-stream')) {
          // A stream is never over by itself: its status is the answer (and a wrong one).
          res.destroy();
          settle({ status: res.statusCode, text: '' });
          return;
        }
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => settle({ status: res.statusCode, text }));
        res.on('error', () => settle({ status: res.statusCode, text }));
      },
    );
    // The server may answer a body it refuses (413) before reading all of it, then close: the
    // answer still counts; a failure with no answer at all does not.
    outgoing.on('error', (error) =>
      setTimeout(() => settle({ status: undefined, text: '', error: error.message }), 200),
    );
    outgoing.end(req.body);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Why `answer` is not what `req` documents, or undefined when it is. */
export function requestMismatch(req: RequestCase, answer: Answer): string | undefined {
  const got = `${answer.status ?? answer.error} ${answer.text.slice(0, 200)}`;
  if (answer.status !== req.status)
    return `expected ${req.status}${req.code ? ` ${req.code}` : ''}, got ${got}`;
  const body = parse(answer.text);
  if (req.status >= 400) {
    if (req.code === undefined) return undefined; // Node's own refusal (431): no API body
    const error = ErrorBodySchema.safeParse(body);
    if (!error.success) return `a ${req.status} without the error body: ${got}`;
    if (error.data.error.code !== req.code || HTTP_ERRORS[error.data.error.code] !== req.status) {
      return `expected ${req.status} ${req.code}, got ${got}`;
    }
    return undefined;
  }
  if (req.status === 204) return answer.text === '' ? undefined : `a 204 with a body: ${got}`;
  if (req.status === 202)
    return PublishResponseSchema.safeParse(body).success ? undefined : `not a publish answer: ${got}`;
  if (req.method === 'GET' && req.path.includes('/records?')) {
    return RecordListResponseSchema.safeParse(body).success ? undefined : `not a records list: ${got}`;
  }
  const record = RecordSchema.safeParse(body);
  if (!record.success) return `not a record: ${got}`;
  for (const [key, value] of Object.entries(req.stored ?? {})) {
    if (!isDeepStrictEqual(record.data[key], value)) {
      return `stored ${key} as ${JSON.stringify(record.data[key]).slice(0, 100)}, not ${JSON.stringify(value).slice(0, 100)}`;
    }
  }
  return undefined;
}
