/**
 * `--audit nats://…` (PROTOCOL.md section 11): publishes each audit record, as the JSON the file
 * sink writes on one line, on `console.realtime.<type>` with dots turned into dashes (the
 * workspace gateway's topic names). When a JetStream stream covers the subject the record goes
 * through JetStream and counts as sent once the stream acknowledged it (with a `Nats-Msg-Id`, so
 * a retry is stored once); otherwise it is a core publish, sent once the server answered a flush.
 *
 * Records are never dropped silently. They wait in order in a queue until sent; while NATS is
 * unreachable (down at start, or lost later) the queue holds up to `maxPendingRecords` and
 * `maxPendingBytes`, past which the oldest go, counted and reported on stderr once per outage.
 * The server never waits for NATS: it starts while NATS is down and says so on stderr.
 *
 * The NATS client reconnects by itself (`maxReconnectAttempts: -1`), but what is published
 * while it is down is lost (its buffer is reset at the reconnect: measured with 3.4 and
 * nats-server 2.9), and a JetStream publish then waits out its timeout; hence the sink's own
 * queue, from which a record leaves only once acknowledged or flushed, and a disconnect abandons
 * the batch in flight, to be sent again after the reconnect. After repeated authentication
 * errors the client closes for good: the sink then connects anew, every `reconnectTimeWaitMs`.
 *
 * Delivery is at least once: a core record in flight when the connection drops is sent again
 * after the reconnect, so a core subscriber may see it twice (same `Nats-Msg-Id` header); a
 * stream stores it once. A core record reaches only those subscribed at that moment; a stream
 * keeps it for whoever reads later.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { AuditRecord, AuditType } from '../../protocol/index.js';
import type { NatsAuditTarget } from './nats-audit-url.js';
import { NatsAuditReport } from './nats-audit-report.js';
import { NatsStreamFinder, noStream } from './nats-stream-finder.js';
import { PendingQueue } from './pending-queue.js';

/** Defaults of `NatsAuditOptions`. */
export const NATS_AUDIT_DEFAULTS = {
  /** Records kept while NATS cannot take them; past this the oldest are dropped (and counted). */
  maxPendingRecords: 10_000,
  /** The same bound in bytes of JSON. */
  maxPendingBytes: 4 * 1024 * 1024,
  /** Pause between connection attempts, at start and after a loss. */
  reconnectTimeWaitMs: 1000,
  /** How long one connection attempt may take. */
  connectTimeoutMs: 5000,
  /** How long a JetStream publish waits for its acknowledgement before it is tried again. */
  ackTimeoutMs: 5000,
  /** Pause before trying again after NATS refused a record while connected (a full stream…). */
  retryMs: 1000,
  /** A subject no stream covered is looked up again after this long (a stream may be added). */
  streamRecheckMs: 30_000,
  /** How long `close()` waits for the queue to empty. */
  closeTimeoutMs: 2000,
  /** Records published before their acknowledgements are awaited together. */
  batchSize: 100,
} as const;

type NatsAuditSettings = { [K in keyof typeof NATS_AUDIT_DEFAULTS]: number };

/** Options of `NatsAuditSink.open`; every field defaults to `NATS_AUDIT_DEFAULTS`. */
export type NatsAuditOptions = Partial<NatsAuditSettings> & {
  /** Where status lines go. Default: standard error. */
  log?: (line: string) => void;
};

/** The subject of an audit record type: `auth.granted` → `console.realtime.auth-granted`. */
export function natsAuditSubject(type: AuditType): string {
  return `console.realtime.${type.replaceAll('.', '-')}`;
}

type Pending = { subject: string; data: Uint8Array; id: string };

const encoder = new TextEncoder();

/** Sends audit records to NATS; see the module comment. */
export class NatsAuditSink {
  private readonly options: NatsAuditSettings;
  private readonly queue: PendingQueue<Pending>;
  private readonly idPrefix = randomUUID();
  private nextId = 0;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private streams: NatsStreamFinder | undefined;
  private connected = false;
  /** Counts connection losses: work begun on an older connection stops. */
  private generation = 0;
  private interrupted!: Promise<'interrupted'>;
  private interrupt!: () => void;
  private readonly stopping = new AbortController();
  private closed: Promise<void> | undefined;
  private pumping = false;
  private readonly report: NatsAuditReport;
  private drainWaiters: (() => void)[] = [];

  private constructor(
    readonly target: NatsAuditTarget,
    options: NatsAuditOptions,
  ) {
    const { log, ...limits } = options;
    this.options = { ...NATS_AUDIT_DEFAULTS, ...limits };
    const { maxPendingRecords: maxItems, maxPendingBytes: maxBytes } = this.options;
    this.queue = new PendingQueue({ maxItems, maxBytes }, (record) => record.data.length);
    this.report = new NatsAuditReport(
      target.display,
      { records: maxItems, bytes: maxBytes },
      log ?? ((line) => console.error(line)),
    );
    this.renewInterrupt();
  }

  /** Starts connecting (without waiting for NATS) and returns the sink at once. */
  static open(target: NatsAuditTarget, options: NatsAuditOptions = {}): NatsAuditSink {
    const sink = new NatsAuditSink(target, options);
    void sink.connectLoop();
    return sink;
  }

  /** Records waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  /** Records dropped since the start, the oldest first, because the queue was full. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Queues a record; it is sent as soon as NATS takes it. */
  write(record: AuditRecord): void {
    if (this.stopping.signal.aborted) return;
    const dropped = this.queue.push({
      subject: natsAuditSubject(record.type),
      data: encoder.encode(JSON.stringify(record)),
      id: `${this.idPrefix}-${this.nextId++}`,
    });
    this.report.dropped(dropped);
    this.kick();
  }

  /** Sends what waits (for at most `closeTimeoutMs`), then disconnects; reports what was not sent. */
  close(): Promise<void> {
    return (this.closed ??= (async () => {
      if (this.queue.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => this.drainWaiters.push(resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeTimeoutMs))),
        ]);
        clearTimeout(timer);
      }
      this.stopping.abort();
      this.connected = false;
      this.interrupt();
      await this.nc?.close().catch(() => undefined);
      this.report.unsent(this.queue.length);
    })());
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const nc = await connect({
          servers: this.target.server,
          user: this.target.user,
          pass: this.target.pass,
          token: this.target.token,
          name: 'catalyst-dev-server audit',
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.options.reconnectTimeWaitMs,
          timeout: this.options.connectTimeoutMs,
        });
        if (this.stopping.signal.aborted) {
          await nc.close();
          return;
        }
        this.attach(nc);
        return;
      } catch (error) {
        this.report.outage(`${this.target.display} unreachable: ${(error as Error).message}`);
        await this.sleep(this.options.reconnectTimeWaitMs);
      }
    }
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.options.ackTimeoutMs });
    this.streams = new NatsStreamFinder(nc, {
      recheckMs: this.options.streamRecheckMs,
      timeoutMs: this.options.ackTimeoutMs,
    });
    void this.watch(nc);
    // The client gives up only on repeated authentication errors or a close: start over then.
    void nc.closed().then((error) => {
      if (this.stopping.signal.aborted) return;
      this.lost(`connection closed${error ? `: ${error.message}` : ''}`);
      this.nc = undefined;
      void this.connectLoop();
    });
    this.connectedAgain();
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.lost('connection lost');
      else if (status.type === 'reconnect') this.connectedAgain();
      else if (status.type === 'error') this.report.error(status.error.message);
    }
  }

  private lost(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.generation++;
    this.interrupt();
    this.renewInterrupt();
    this.report.outage(`${this.target.display}: ${reason}`);
  }

  private connectedAgain(): void {
    this.connected = true;
    this.streams?.clear(); // another server, or the same one restarted: streams may have changed
    this.report.recovered();
    this.kick();
  }

  private kick(): void {
    if (this.connected && !this.pumping && this.queue.length > 0) void this.pump();
  }

  /** Sends the queue in order, one batch at a time, until it is empty or the connection goes. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.connected && this.queue.length > 0) {
        const interrupted = this.interrupted;
        let sent: number | 'interrupted';
        try {
          sent = await Promise.race([this.sendBatch(this.generation), interrupted]);
        } catch (error) {
          this.queue.sending = 0;
          this.report.outage(`${this.target.display}: ${(error as Error).message}`);
          await this.sleep(this.options.retryMs, interrupted);
          continue;
        }
        this.queue.sending = 0;
        if (sent === 'interrupted') continue; // kept in the queue: sent again after the reconnect
        this.queue.remove(sent);
        if (sent > 0) this.report.recovered();
      }
    } finally {
      this.pumping = false;
    }
    if (this.queue.length === 0) {
      this.report.drained();
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /**
   * Publishes the head of the queue and the records after it that go the same way (the same
   * stream, or core); returns how many of them were sent, from the head.
   */
  private async sendBatch(generation: number): Promise<number> {
    const nc = this.nc;
    const [head] = this.queue.peek(1);
    const { js, streams } = this;
    if (!nc || !js || !streams || !head) return 0;
    this.queue.sending = 1;
    const maxPayload = nc.info?.max_payload ?? Infinity;
    if (head.data.length > maxPayload) {
      this.queue.remove(1);
      this.report.tooLarge(head.data.length, maxPayload);
      return 0;
    }
    const stream = await streams.find(head.subject);
    if (generation !== this.generation) return 0;
    const batch = [head];
    for (const record of this.queue.peek(this.options.batchSize).slice(1)) {
      if (streams.known(record.subject) !== stream || record.data.length > maxPayload) break;
      batch.push(record);
    }
    this.queue.sending = batch.length;
    if (stream === undefined) {
      for (const record of batch) {
        const h = headers();
        h.set('Nats-Msg-Id', record.id);
        nc.publish(record.subject, record.data, { headers: h });
      }
      await nc.flush();
      return batch.length;
    }
    const acks = await Promise.allSettled(
      batch.map((record) => js.publish(record.subject, record.data, { msgID: record.id })),
    );
    const failed = acks.findIndex((ack) => ack.status === 'rejected');
    if (failed === -1) return batch.length;
    const error = (acks[failed] as PromiseRejectedResult).reason as unknown;
    if (failed > 0) return failed; // the failed one is tried again, and its error seen then
    if (!noStream(error)) throw error;
    // The stream went away: publish core from now on until the next look-up.
    streams.none(head.subject);
    return 0;
  }

  private renewInterrupt(): void {
    this.interrupted = new Promise((resolve) => (this.interrupt = () => resolve('interrupted')));
  }

  /** Waits `ms`, less if the sink closes or `until` settles. */
  private async sleep(ms: number, until?: Promise<unknown>): Promise<void> {
    if (this.stopping.signal.aborted) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        onAbort = resolve;
        this.stopping.signal.addEventListener('abort', onAbort, { once: true });
      }),
      ...(until ? [until] : []),
    ]);
    clearTimeout(timer);
    if (onAbort) this.stopping.signal.removeEventListener('abort', onAbort);
  }
}
