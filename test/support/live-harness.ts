/**
 * Drives the connection manager in Node against a server, through its public API only: a
 * `connect()` with `ws` wrapped to record every socket and frame, a `fetch` that counts the
 * ws-auth requests and can hold them back (a gate, so a test decides when a reconnect may
 * happen), a log per subscription that applies snapshots and events as a live list would, and a
 * writer whose REST writes tell, by `seq`, which events each subscription must receive.
 */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import {
  connect,
  type ConnectionStatus,
  type LiveConnection,
  type LiveError,
  type SubscriptionHandlers,
  type Transport,
} from '../../elements/connection/index.js';
import {
  PATHS,
  parseClientMessage,
  parseServerMessage,
  type Change,
  type ClientMessage,
  type LiveEvent,
  type LiveRecord,
  type Operation,
  type RecordEvent,
  type ServerMessage,
  type SubscribedMessage,
  type WsAuthResponse,
} from '../../protocol/index.js';
import { rest, sleep } from './raw-client.js';
import { KEYS, type TestServer } from './test-server.js';

/** Backoff small enough for tests: 10–20 ms for the first retry, never more than 200 ms. */
export const FAST_BACKOFF = { minMs: 20, maxMs: 200, factor: 2 } as const;

/** Holds ws-auth requests back while closed. */
export class Gate {
  private waiting: (() => void)[] = [];
  private shut = false;

  close(): void {
    this.shut = true;
  }

  open(): void {
    this.shut = false;
    for (const release of this.waiting.splice(0)) release();
  }

  pass(): Promise<void> {
    return this.shut ? new Promise((resolve) => this.waiting.push(resolve)) : Promise.resolve();
  }
}

/** A connection manager under test and everything it did. */
export type Harness = {
  connection: LiveConnection;
  /** Every socket the manager opened, oldest first. */
  sockets: WebSocket[];
  /** Frames the manager sent, validated. */
  sent: ClientMessage[];
  /** Frames the manager received, as text, in order. */
  received: string[];
  /** URLs of the ws-auth requests the manager made. */
  authRequests: string[];
  /** Tokens the server handed out. */
  tokens: string[];
  /** Every status, in order. */
  statuses: ConnectionStatus[];
  /** Closed: ws-auth requests wait until it opens. */
  gate: Gate;
};

/** Options of `manage`, passed on to `connect()`. */
export type HarnessOptions = {
  apiKey?: string;
  lingerMs?: number;
  backoff?: { minMs: number; maxMs: number; factor: number };
  /** The manager's `transport` (default: its own, `auto`). */
  transport?: Transport;
  /** The WebSocket class under the tracing (default `ws`'s), e.g. one a proxy blocks. */
  WebSocket?: new (address: string, protocols?: string | string[]) => WebSocket;
};

/**
 * Connects to `url` with `ws` and a counting `fetch`; `close()` it when done. `connect()` shares
 * one connection per (url, key), so the previous one for the same pair must be closed first.
 */
export function manage(url: string, options: HarnessOptions = {}): Harness {
  const harness: Omit<Harness, 'connection'> = {
    sockets: [],
    sent: [],
    received: [],
    authRequests: [],
    tokens: [],
    statuses: [],
    gate: new Gate(),
  };
  // A `ws` subclass with `ws`'s constructor, whatever the option declares.
  const Base = (options.WebSocket ?? WebSocket) as typeof WebSocket;
  class TracedWebSocket extends Base {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      harness.sockets.push(this);
      this.on('message', (data) => harness.received.push(String(data)));
      const send = this.send.bind(this);
      this.send = ((data: string) => {
        const parsed = parseClientMessage(data);
        assert.ok(parsed.ok, `the manager sent an invalid frame: ${data}`);
        harness.sent.push(parsed.message);
        send(data);
      }) as WebSocket['send'];
    }
  }
  const countingFetch: typeof fetch = async (input, init) => {
    if (!String(input).includes(PATHS.wsAuth)) return fetch(input, init); // an SSE stream
    harness.authRequests.push(String(input));
    await harness.gate.pass();
    const response = await fetch(input, init);
    if (response.ok) harness.tokens.push(((await response.clone().json()) as WsAuthResponse).token);
    return response;
  };
  const connection = connect({
    url,
    apiKey: options.apiKey ?? KEYS.acmeSecret,
    WebSocket: TracedWebSocket,
    fetch: countingFetch,
    backoff: options.backoff ?? FAST_BACKOFF,
    lingerMs: options.lingerMs ?? 50,
    ...(options.transport ? { transport: options.transport } : {}),
  });
  connection.onStatus((status) => harness.statuses.push(status));
  return { ...harness, connection };
}

/** The frames of one type the manager sent. */
export function sentOf<T extends ClientMessage['type']>(
  harness: Harness,
  type: T,
): Extract<ClientMessage, { type: T }>[] {
  return harness.sent.filter((m): m is Extract<ClientMessage, { type: T }> => m.type === type);
}

/** The frames of one type the manager received. */
export function receivedOf<T extends ServerMessage['type']>(
  harness: Harness,
  type: T,
): Extract<ServerMessage, { type: T }>[] {
  const out: Extract<ServerMessage, { type: T }>[] = [];
  for (const text of harness.received) {
    const parsed = parseServerMessage(text);
    if (parsed.ok && parsed.message.type === type)
      out.push(parsed.message as Extract<ServerMessage, { type: T }>);
  }
  return out;
}

/** Waits until `test` holds, polling every 5 ms. */
export async function until(
  what: string,
  test: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Waits until the manager is in `state`. */
export function stateBecomes(
  harness: Harness,
  state: ConnectionStatus['state'],
  timeoutMs = 3000,
): Promise<void> {
  return until(
    `state ${state} (now ${harness.connection.status.state})`,
    () => harness.connection.status.state === state,
    timeoutMs,
  );
}

/** Whether an event is a record event. */
export function isRecordEvent(event: LiveEvent): event is RecordEvent {
  return 'object' in event;
}

/** What one subscription received, applied as a live list applies it. */
export class SubscriptionLog {
  readonly subscribed: SubscribedMessage[] = [];
  /** For each `subscribed`, how many batches had arrived before it. */
  readonly batchesBefore: number[] = [];
  /** Each `onEvents` call's array. */
  readonly batches: LiveEvent[][] = [];
  readonly errors: LiveError[] = [];
  /** The result set: the last snapshot with every event since applied. */
  readonly records = new Map<string, LiveRecord>();

  readonly handlers: SubscriptionHandlers = {
    onSubscribed: (message) => {
      this.subscribed.push(message);
      this.batchesBefore.push(this.batches.length);
      if (message.snapshot && !message.resumed) {
        this.records.clear();
        for (const record of message.snapshot as LiveRecord[]) this.records.set(record.id, record);
      }
    },
    onEvents: (events) => {
      this.batches.push(events);
      for (const event of events) {
        if (!isRecordEvent(event)) continue;
        if (event.change === 'removed') this.records.delete(event.id);
        else this.records.set(event.id, event.record);
      }
    },
    onError: (error) => {
      this.errors.push(error);
    },
  };

  /** Every event received, in order. */
  get events(): LiveEvent[] {
    return this.batches.flat();
  }

  /** Record events received after the `subscribed` numbered `from` (0: all of them). */
  recordEvents(from = 0): RecordEvent[] {
    return this.batches
      .slice(this.batchesBefore[from] ?? 0)
      .flat()
      .filter(isRecordEvent);
  }

  /** The result set, sorted by id. */
  sorted(): LiveRecord[] {
    return [...this.records.values()].sort(byId);
  }

  /** The seq of the last event received. */
  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }
}

/** Orders records by id. */
export function byId(a: LiveRecord, b: LiveRecord): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A fresh REST query of acme production's orders, sorted by id. */
export async function queryOrders(server: { url: string }, where?: object): Promise<LiveRecord[]> {
  const query = where ? `?where=${encodeURIComponent(JSON.stringify(where))}` : '';
  const res = await rest(server, 'GET', `/api/objects/orders/records${query}`, { key: KEYS.acmeSecret });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { records: LiveRecord[] }).records.sort(byId);
}

/** One REST write and the event it must cause. */
export type Write = {
  seq: number;
  operation: Operation;
  id: string;
  /** What it does to a `status: pending` subscription (undefined: not delivered). */
  pending: Change | undefined;
};

/**
 * REST writes to acme production's orders, one seq each (creates, updates that always change a
 * field, deletes), each noted with the seq it took — read from the server, which the test runs
 * in-process — and with the change a `status: pending` subscription must see.
 */
export class Writer {
  writes: Write[] = [];
  /** Status of each record this writer created and has not deleted. */
  private readonly status = new Map<string, string>();
  private n = 0;

  constructor(public server: TestServer) {}

  /** Writes once; `pad` makes the record that large (to fill a socket). */
  async write(pad = ''): Promise<void> {
    const n = this.n++;
    const ids = [...this.status.keys()];
    const status = n % 2 === 0 ? 'pending' : 'paid';
    const path = '/api/objects/orders/records';
    const key = KEYS.acmeSecret;
    let operation: Operation;
    let id: string;
    if (n % 7 === 6 && ids.length > 0) {
      operation = 'delete';
      id = ids[0] as string;
      assert.equal((await rest(this.server, 'DELETE', `${path}/${id}`, { key })).status, 204);
    } else if (n % 3 === 2 && ids.length > 0) {
      operation = 'update';
      id = ids[n % ids.length] as string;
      const res = await rest(this.server, 'PATCH', `${path}/${id}`, { key, body: { status, n } });
      assert.equal(res.status, 200);
    } else {
      operation = 'create';
      id = `w${n}`;
      const body = pad ? { id, status, n, pad } : { id, status, n };
      assert.equal((await rest(this.server, 'POST', path, { key, body })).status, 201);
    }
    const before = this.status.get(id) === 'pending';
    const after = operation !== 'delete' && status === 'pending';
    if (operation === 'delete') this.status.delete(id);
    else this.status.set(id, status);
    this.writes.push({
      seq: this.server.store.environment('acme', 'production').seq,
      operation,
      id,
      pending: before && after ? 'modified' : after ? 'added' : before ? 'removed' : undefined,
    });
  }

  /** Writes `count` times in a row. */
  async burst(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.write();
  }

  /** Writes every `gapMs` until the returned function is called (which waits for the last write). */
  run(gapMs = 3): () => Promise<void> {
    let running = true;
    const loop = (async () => {
      while (running) {
        await this.write();
        await sleep(gapMs);
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  }

  /** The server lost its store (restart without `--data`): only the seed records are left. */
  restartedEmpty(server: TestServer): void {
    this.server = server;
    this.status.clear();
    this.writes = [];
  }

  /** The seq of the last write. */
  get seq(): number {
    return this.writes.at(-1)?.seq ?? 0;
  }

  /** What an unfiltered subscription must receive after `seq`: `seq operation id`. */
  all(after: number): string[] {
    return this.writes.filter((w) => w.seq > after).map((w) => `${w.seq} ${w.operation} ${w.id}`);
  }

  /** What a `status: pending` subscription must receive after `seq`: `seq change id`. */
  pendingOnly(after: number): string[] {
    return this.writes
      .filter((w) => w.seq > after && w.pending)
      .map((w) => `${w.seq} ${w.pending as Change} ${w.id}`);
  }
}

/** `seq operation id` of each record event since `subscribed` number `from`: compare with `Writer.all`. */
export function operations(log: SubscriptionLog, from = 0): string[] {
  return log.recordEvents(from).map((e) => `${e.seq} ${e.operation} ${e.id}`);
}

/** `seq change id` of each record event since `subscribed` number `from`: compare with `Writer.pendingOnly`. */
export function changes(log: SubscriptionLog, from = 0): string[] {
  return log.recordEvents(from).map((e) => `${e.seq} ${e.change} ${e.id}`);
}
