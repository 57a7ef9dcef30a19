/**
 * REST writers for crash tests, and the model of what the server acknowledged. Each writer owns
 * a few order ids and writes them one request at a time (create, patch, delete) and publishes
 * events, every write carrying a correlation id. A record's fields `a`, `b`, `c` and `n` are always
 * written together, so a half-applied write shows as fields that disagree. When the server dies
 * with a request in flight, that write may or may not have happened: after the restart a record
 * must be in its last acknowledged state or in the state of that one write, and nothing else.
 */
import { PublishResponseSchema } from '../../../protocol/index.js';
import { rest } from '../../support/raw-client.js';
import { KEYS } from '../../support/test-server.js';
import type { Random } from './seeded-random.js';

/** A record's state as the writers know it: absent, or its four fields' common value. */
export type RecordState = { n: number } | undefined;

type Tracked = { confirmed: RecordState; pending?: { state: RecordState } };

/** What the writers were told, and what may have happened without a word. */
export class WriteModel {
  readonly records = new Map<string, Tracked>();
  /** seq → data of every acknowledged publish. */
  readonly published = new Map<number, unknown>();
  /** Correlation ids of every acknowledged record write. */
  readonly acknowledged = new Set<string>();
  /** Correlation ids of writes in flight when the server died: each happened once or not at all. */
  readonly unknown = new Set<string>();
  /** Writes sent, answered, and cut by a crash. */
  readonly counts = { sent: 0, acknowledged: 0, cut: 0 };

  /** A number no write has used: a patch always changes its record, so it always commits. */
  nextValue(): number {
    return this.counts.sent + 1;
  }

  /** Why the records the server holds after a restart are not what was acknowledged, one line each. */
  check(held: ReadonlyMap<string, Record<string, unknown>>): string[] {
    const problems: string[] = [];
    for (const [id, tracked] of this.records) {
      const record = held.get(id);
      const actual: RecordState = record ? { n: record.n as number } : undefined;
      if (record && !(record.a === record.n && record.b === record.n && record.c === record.n)) {
        problems.push(`${id} is half-applied: ${JSON.stringify(record)}`);
      }
      const same = (state: RecordState) => JSON.stringify(state) === JSON.stringify(actual);
      if (!same(tracked.confirmed) && !(tracked.pending && same(tracked.pending.state))) {
        problems.push(
          `${id} is ${JSON.stringify(actual)}; acknowledged ${JSON.stringify(tracked.confirmed)}` +
            (tracked.pending ? `, in flight ${JSON.stringify(tracked.pending.state)}` : ''),
        );
      }
    }
    return problems;
  }

  /** Takes the restarted server's records as the new truth (a write in flight is now settled). */
  settle(held: ReadonlyMap<string, Record<string, unknown>>): void {
    for (const id of this.records.keys()) {
      const record = held.get(id);
      this.records.set(id, { confirmed: record ? { n: record.n as number } : undefined });
    }
  }
}

/** Writes against one server URL until stopped or until the server stops answering. */
export class CrashWriter {
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly ids: readonly string[],
    private readonly model: WriteModel,
    private readonly r: Random,
  ) {
    for (const id of ids) if (!model.records.has(id)) model.records.set(id, { confirmed: undefined });
  }

  /** Stops after the write in flight. */
  stop(): void {
    this.stopped = true;
  }

  /** Writes until stopped or cut off; resolves either way. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.writeOnce())) return;
    }
  }

  /** One write; false when the server did not answer (it is down). */
  private async writeOnce(): Promise<boolean> {
    const key = KEYS.acmeSecret;
    const n = this.model.nextValue();
    const correlation = `${this.name}-${n}`;
    const headers = { 'x-correlation-id': correlation };
    this.model.counts.sent++;
    if (this.r.chance(0.25)) {
      const data = { writer: this.name, n };
      const res = await rest({ url: this.url }, 'POST', '/api/events/crash', {
        key,
        body: data,
        headers,
      }).catch(() => undefined);
      if (!res) return this.cut(correlation);
      if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${JSON.stringify(res.body)}`);
      this.model.published.set(PublishResponseSchema.parse(res.body).seq, data);
      this.model.counts.acknowledged++;
      return true;
    }
    const id = this.r.pick(this.ids);
    const tracked = this.model.records.get(id) as Tracked;
    const fields = { a: n, b: n, c: n, n };
    const path = `/api/objects/orders/records/${id}`;
    const op = tracked.confirmed === undefined ? 'create' : this.r.chance(0.2) ? 'delete' : 'patch';
    const next: RecordState = op === 'delete' ? undefined : { n };
    tracked.pending = { state: next };
    const res = await (
      op === 'create'
        ? rest({ url: this.url }, 'POST', '/api/objects/orders/records', {
            key,
            body: { id, ...fields },
            headers,
          })
        : op === 'patch'
          ? rest({ url: this.url }, 'PATCH', path, { key, body: fields, headers })
          : rest({ url: this.url }, 'DELETE', path, { key, headers })
    ).catch(() => undefined);
    if (!res) return this.cut(correlation);
    const wanted = { create: 201, patch: 200, delete: 204 }[op];
    if (res.status !== wanted)
      throw new Error(`${op} ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    this.model.records.set(id, { confirmed: next });
    this.model.acknowledged.add(correlation);
    this.model.counts.acknowledged++;
    return true;
  }

  private cut(correlation: string): false {
    this.model.unknown.add(correlation);
    this.model.counts.cut++;
    return false;
  }
}
