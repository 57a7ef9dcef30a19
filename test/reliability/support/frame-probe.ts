/**
 * Sends one generated frame over a real WebSocket and tells whether the server answered it as
 * documented. The frame is followed by a `ping` marker: the server handles a connection's frames
 * in order, so everything it sent before the marker's `pong` is its answer to the frame (batches
 * and server pings aside), and a close instead of the `pong` is its close for the frame.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ServerMessage } from '../../../protocol/index.js';
import type { CloseInfo, RawClient } from '../../support/raw-client.js';
import type { FrameCase } from './frame-case.js';

/** What followed a frame. */
export type Observed = { answers: ServerMessage[]; close?: CloseInfo | undefined; timedOut: boolean };

let markers = 0;

/** Sends `frame.payload`, then a marker ping, and collects the answers up to its pong or the close. */
export async function probeFrame(client: RawClient, frame: FrameCase, timeoutMs = 5000): Promise<Observed> {
  const from = client.messages.length;
  const marker = `marker-${++markers}`;
  const { payload } = frame;
  if (typeof payload === 'string') client.ws.send(payload);
  else if ('binary' in payload) client.ws.send(payload.binary, { binary: true });
  else client.ws.send(payload.invalidUtf8, { binary: false });
  client.send({ type: 'ping', t: marker });
  let timedOut = false;
  try {
    await client.next('pong', (m) => m.t === marker, timeoutMs);
  } catch {
    if (!client.closed) {
      // A close may be on its way after the socket went quiet; give it a moment before calling it silence.
      await client.waitForClose(500).catch(() => (timedOut = true));
    }
  }
  const answers = client.messages
    .slice(from)
    .filter((m) => m.type !== 'batch' && m.type !== 'ping' && !(m.type === 'pong' && m.t === marker));
  return { answers, close: client.closed, timedOut };
}

/** Why `observed` is not what `frame` documents, or undefined when it is. */
export function mismatch(frame: FrameCase, observed: Observed, connectionId: string): string | undefined {
  const got = () =>
    observed.close
      ? `close ${observed.close.code} ${observed.close.reason}` +
        (observed.answers.length ? ` after ${JSON.stringify(observed.answers).slice(0, 300)}` : '')
      : observed.timedOut
        ? `no answer and no close; answers ${JSON.stringify(observed.answers).slice(0, 300)}`
        : JSON.stringify(observed.answers).slice(0, 400);
  const { expect } = frame;
  if (expect.kind === 'close') {
    return observed.close?.code === expect.code ? undefined : `expected close ${expect.code}, got ${got()}`;
  }
  if (observed.close || observed.timedOut) return `expected ${JSON.stringify(expect)}, got ${got()}`;
  if (expect.kind === 'error') {
    const [answer] = observed.answers;
    const ok =
      observed.answers.length === 1 &&
      answer?.type === 'error' &&
      answer.code === expect.code &&
      answer.id === expect.id &&
      (expect.says === undefined || answer.message.includes(expect.says));
    return ok ? undefined : `expected ${JSON.stringify(expect)}, got ${got()}`;
  }
  const errors = observed.answers.filter((m) => m.type === 'error');
  const answer = observed.answers.find(
    (m) => m.type === expect.type && (expect.id === undefined || ('id' in m && m.id === expect.id)),
  );
  if (errors.length || !answer || observed.answers.length !== 1) {
    return `expected ${JSON.stringify(expect)}, got ${got()}`;
  }
  if (answer.type === 'pong' && !isDeepStrictEqual(answer.t, frame.t)) {
    return `pong carried t ${JSON.stringify(answer.t)}, not ${JSON.stringify(frame.t)}`;
  }
  if (answer.type === 'subscribed' && frame.meta !== undefined) {
    const me = answer.members?.find((m) => m.connectionId === connectionId);
    if (!isDeepStrictEqual(me?.meta, frame.meta)) {
      return `listed with meta ${JSON.stringify(me?.meta)}, not ${JSON.stringify(frame.meta)}`;
    }
  }
  return undefined;
}

/** A frame as a short printable text for failure messages. */
export function preview(frame: FrameCase): string {
  const { payload } = frame;
  const text =
    typeof payload === 'string'
      ? payload
      : 'binary' in payload
        ? `binary ${payload.binary.toString('hex')}`
        : `invalid UTF-8 text ${payload.invalidUtf8.toString('hex')}`;
  return JSON.stringify(text.length > 240 ? `${text.slice(0, 200)}… (${text.length} chars)` : text);
}
