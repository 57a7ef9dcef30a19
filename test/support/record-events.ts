/**
 * Helpers for tests of records channels: REST writes that assert their status, and waiting for a
 * subscription's events up to a known "sentinel" event. Because a subscription's events arrive
 * in `seq` order, every event committed before the sentinel has arrived once the sentinel has, so
 * a test can assert that something was *not* delivered without sleeping.
 */
import assert from 'node:assert/strict';
import type { LiveEvent, LiveRecord, RecordEvent, ServerMessage } from '../../protocol/index.js';
import { rest, type RawClient } from './raw-client.js';
import { KEYS } from './test-server.js';

/** Whether an event is a record event. */
export function isRecordEvent(event: LiveEvent): event is RecordEvent {
  return 'object' in event;
}

/** The record events of one subscription received so far. */
export function recordEvents(client: RawClient, sub: string): RecordEvent[] {
  return client.events(sub).filter(isRecordEvent);
}

/**
 * Waits for the first record event of `sub` that `isLast` accepts and returns every event of `sub`
 * before it (the sentinel itself is left out).
 */
export async function eventsBefore(
  client: RawClient,
  sub: string,
  isLast: (event: RecordEvent) => boolean,
  timeoutMs = 3000,
): Promise<RecordEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = recordEvents(client, sub);
    const index = events.findIndex(isLast);
    if (index >= 0) return events.slice(0, index);
    if (client.closed) throw new Error(`closed (${client.closed.code}) before the sentinel event of ${sub}`);
    if (Date.now() > deadline) {
      throw new Error(`no sentinel event for ${sub} within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sends a `subscribe` expected to fail and returns the `error` answering it. */
export async function subscribeError(
  client: RawClient,
  spec: Record<string, unknown> & { id: string },
  timeoutMs = 3000,
): Promise<Extract<ServerMessage, { type: 'error' }>> {
  const from = client.messages.length;
  client.send(JSON.stringify({ type: 'subscribe', ...spec }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = client.messages
      .slice(from)
      .find((m) => (m.type === 'error' || m.type === 'subscribed') && m.id === spec.id);
    if (answer?.type === 'error') return answer;
    if (answer) assert.fail(`subscribe ${spec.id} was accepted: ${JSON.stringify(answer)}`);
    if (client.closed) throw new Error(`closed (${client.closed.code}) before answering ${spec.id}`);
    if (Date.now() > deadline) throw new Error(`no answer to subscribe ${spec.id} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Server = { url: string };

/** REST record writes and reads with a key (the acme production secret key by default). */
export const api = {
  async create(server: Server, object: string, body: Record<string, unknown>, key: string = KEYS.acmeSecret) {
    const res = await rest(server, 'POST', `/api/objects/${object}/records`, { key, body });
    assert.equal(res.status, 201, `create ${object}: ${JSON.stringify(res.body)}`);
    return res.body as LiveRecord;
  },
  async patch(
    server: Server,
    object: string,
    id: string,
    body: Record<string, unknown>,
    key: string = KEYS.acmeSecret,
  ) {
    const res = await rest(server, 'PATCH', `/api/objects/${object}/records/${id}`, { key, body });
    assert.equal(res.status, 200, `patch ${object}/${id}: ${JSON.stringify(res.body)}`);
    return res.body as LiveRecord;
  },
  async remove(server: Server, object: string, id: string, key: string = KEYS.acmeSecret) {
    const res = await rest(server, 'DELETE', `/api/objects/${object}/records/${id}`, { key });
    assert.equal(res.status, 204, `delete ${object}/${id}: ${JSON.stringify(res.body)}`);
  },
  async get(server: Server, object: string, id: string, key: string = KEYS.acmeSecret) {
    const res = await rest(server, 'GET', `/api/objects/${object}/records/${id}`, { key });
    assert.equal(res.status, 200, `get ${object}/${id}: ${JSON.stringify(res.body)}`);
    return res.body as LiveRecord;
  },
};
