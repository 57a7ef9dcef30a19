/**
 * A steady flow of REST writes for the fault tests: a few writers, each owning some order ids,
 * create, patch and delete them (a status drawn from `pending`, `paid`, `shipped`, so a `where`
 * on status matches part of them) and publish custom events to a topic, until a number of writes
 * have been acknowledged. A write cut off by a crash (no answer) is not counted and is made again
 * once the server answers; whether the cut one happened is for the server's history to say, so
 * the flow keeps no model of the records beyond whether an id probably exists.
 */
import { rest, sleep } from '../../support/raw-client.js';
import type { Random } from './seeded-random.js';

/** What the writers did. */
export type WriteCounts = {
  /** Writes answered with success: record writes and publishes. */
  acknowledged: number;
  /** Of those, publishes. */
  published: number;
  /** Requests that got no answer (the server was down or died mid-request). */
  cut: number;
  /** Record writes refused because an earlier cut write had in fact happened (409, 404). */
  stale: number;
  /** Answers with a 5xx status: the server failed (the write is made again). */
  serverErrors: number;
};

const STATUSES = ['pending', 'paid', 'shipped'] as const;

/** Writers that share one budget of acknowledged writes. */
export class WriteFlow {
  readonly counts: WriteCounts = { acknowledged: 0, published: 0, cut: 0, stale: 0, serverErrors: 0 };
  private remaining = 0;
  private n = 0;

  /**
   * `ids` are the order ids to write (split among the writers); `topic` the custom-events topic;
   * `url` the server itself (writes do not go through the proxy that cuts client connections).
   */
  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly ids: readonly string[],
    private readonly topic: string,
    private readonly r: Random,
  ) {}

  /** Writes with `writers` concurrent writers until `total` writes are acknowledged. */
  async run(total: number, writers: number): Promise<void> {
    this.remaining = total;
    const share = Math.ceil(this.ids.length / writers);
    await Promise.all(
      Array.from({ length: writers }, (_, w) => this.writer(this.ids.slice(w * share, (w + 1) * share))),
    );
  }

  private async writer(ids: readonly string[]): Promise<void> {
    // Whether each id exists, as far as this writer knows: undefined after a cut write.
    const exists = new Map<string, boolean | undefined>(ids.map((id) => [id, false]));
    while (this.remaining > 0) {
      this.remaining--;
      const ok = await this.writeOnce(ids, exists);
      if (!ok) this.remaining++;
    }
  }

  /** One write; false when it was not acknowledged (and is to be made again). */
  private async writeOnce(
    ids: readonly string[],
    exists: Map<string, boolean | undefined>,
  ): Promise<boolean> {
    const n = ++this.n;
    const status = this.r.pick(STATUSES);
    if (this.r.chance(0.2)) {
      const answer = await this.request('POST', `/api/events/${this.topic}`, { n, status });
      if (answer === undefined || answer >= 500) return false;
      this.expect(answer, 202, 'publish');
      this.counts.published++;
      this.counts.acknowledged++;
      return true;
    }
    const id = this.r.pick(ids);
    const known = exists.get(id);
    const path = `/api/objects/orders/records/${id}`;
    const op = known === false ? 'create' : known === undefined || this.r.chance(0.75) ? 'patch' : 'delete';
    const answer =
      op === 'create'
        ? await this.request('POST', '/api/objects/orders/records', { id, status, n })
        : op === 'patch'
          ? await this.request('PATCH', path, { status, n })
          : await this.request('DELETE', path);
    if (answer === undefined || answer >= 500) {
      exists.set(id, undefined);
      return false;
    }
    // A cut write that had happened: the id is the other way round from what the writer thought.
    if ((op === 'create' && answer === 409) || (op !== 'create' && answer === 404)) {
      exists.set(id, op === 'create');
      this.counts.stale++;
      return false;
    }
    this.expect(answer, { create: 201, patch: 200, delete: 204 }[op], `${op} ${id}`);
    exists.set(id, op !== 'delete');
    this.counts.acknowledged++;
    return true;
  }

  /** The answer's status, or undefined when the request got no answer (after a short pause). */
  private async request(method: string, path: string, body?: unknown): Promise<number | undefined> {
    try {
      const res = await rest({ url: this.url }, method, path, { key: this.key, body });
      if (res.status >= 500) this.counts.serverErrors++;
      return res.status;
    } catch {
      this.counts.cut++;
      await sleep(20); // the server is down or restarting: do not spin
      return undefined;
    }
  }

  private expect(status: number, wanted: number, what: string): void {
    if (status !== wanted) throw new Error(`${what} answered ${status}, not ${wanted}`);
  }
}
