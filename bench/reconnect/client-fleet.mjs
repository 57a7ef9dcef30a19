// Many pages' worth of connection managers in one Node process: each client is `connect()` from
// elements/connection with `ws`'s WebSocket and its own API key (connect() shares one connection
// per url + key, so distinct keys make distinct connections), subscribed to `records:orders`
// with a snapshot. Each keeps the state an element would (records by id, applying each event's
// `change`) and counts every seq its handler is given, so lost and doubled events show up.
import { setTimeout } from 'node:timers';
import { WebSocket } from 'ws';

/**
 * One client's record of what it was given.
 * @typedef {{
 *   connection: import('../../elements/connection/index.ts').LiveConnection, records: Map<string, unknown>, firstSeq: number | undefined, seq: number,
 *   counts: Map<number, number>, resnapshots: number, resumes: number,
 *   subscribedAt: number[], progress: [number, number][], waits: [number, number][], errors: string[]
 * }} Client
 */

/**
 * Opens `keys.length` clients against `url` and resolves once every one has its snapshot.
 * @param {{ connect: Function, url: string, keys: string[], backoff?: object, timeoutMs: number }} options
 */
export async function openFleet({ connect, url, keys, backoff, timeoutMs }) {
  /** @type {Client[]} */
  const clients = keys.map((apiKey) => {
    const client = {
      connection: connect({
        url,
        apiKey,
        WebSocket,
        transport: 'websocket',
        ...(backoff ? { backoff } : {}),
      }),
      records: new Map(),
      firstSeq: undefined,
      seq: 0,
      counts: new Map(),
      resnapshots: 0,
      resumes: 0,
      subscribedAt: [],
      progress: [],
      waits: [],
      errors: [],
    };
    client.connection.onStatus((status) => {
      if (status.state === 'reconnecting' && status.retryInMs !== undefined) {
        client.waits.push([status.at, status.at + status.retryInMs]);
      }
    });
    client.connection.subscribe(
      { channel: 'records:orders', snapshot: true },
      {
        onSubscribed(message) {
          const now = Date.now();
          client.subscribedAt.push(now);
          if (message.resumed) {
            client.resumes++;
          } else {
            // A fresh snapshot replaces the state (what an element does); after the first one it
            // means the server could not resume.
            if (client.firstSeq === undefined) client.firstSeq = message.seq;
            else client.resnapshots++;
            client.records = new Map((message.snapshot ?? []).map((record) => [record.id, record]));
          }
          client.seq = Math.max(client.seq, message.seq);
          client.progress.push([now, client.seq]);
        },
        onEvents(events) {
          for (const event of events) {
            client.counts.set(event.seq, (client.counts.get(event.seq) ?? 0) + 1);
            if (event.change === 'removed') client.records.delete(event.id);
            else client.records.set(event.id, event.record);
            client.seq = Math.max(client.seq, event.seq);
          }
          client.progress.push([Date.now(), client.seq]);
        },
        onError(error) {
          client.errors.push(`${error.name}: ${error.message}`);
        },
      },
    );
    return client;
  });
  await waitFor(
    () => clients.every((c) => c.firstSeq !== undefined),
    timeoutMs,
    () => {
      const waiting = clients.filter((c) => c.firstSeq === undefined);
      return `${waiting.length} of ${clients.length} clients got no snapshot; first: ${JSON.stringify(waiting[0]?.connection.status)} ${waiting[0]?.errors.join('; ') ?? ''}`;
    },
  );
  return {
    clients,
    /** Closes every connection. */
    close() {
      for (const client of clients) client.connection.close();
    },
  };
}

/**
 * Resolves when `done()` holds (checked every 10 ms); throws after `timeoutMs` with `why()`.
 * @param {() => boolean} done
 * @param {number} timeoutMs
 * @param {() => string} why
 */
export async function waitFor(done, timeoutMs, why) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Seqs the client's handler should have been given exactly once — every seq after its first
 * snapshot up to `lastSeq` — that it got never (lost) or more than once (doubled; a seq already
 * in the snapshot counts as doubled too).
 * @param {Client} client
 * @param {number} lastSeq
 */
export function countLostAndDoubled(client, lastSeq) {
  let lost = 0;
  let doubled = 0;
  for (let seq = client.firstSeq + 1; seq <= lastSeq; seq++) {
    if (!client.counts.has(seq)) lost++;
  }
  for (const [seq, count] of client.counts) doubled += seq <= client.firstSeq ? count : count - 1;
  return { lost, doubled };
}

/**
 * When `client` was first both resubscribed after `since` and caught up to `seq` (undefined: not yet).
 * @param {Client} client
 * @param {number} since
 * @param {number} seq
 */
export function caughtUpAt(client, since, seq) {
  const resubscribed = client.subscribedAt.find((t) => t >= since);
  if (resubscribed === undefined) return undefined;
  const reached = client.progress.find(([t, s]) => t >= since && s >= seq);
  return reached && Math.max(reached[0], resubscribed);
}
