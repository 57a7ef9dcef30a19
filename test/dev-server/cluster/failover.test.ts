/**
 * A cluster of three CLI processes behind HAProxy (issue 15 item 3, in part): REST and psql
 * writes flow while one process is SIGKILLed; the clients it served reconnect through HAProxy to
 * another process and resume with `since` and `epoch`; nothing is lost, nothing doubled, and
 * every client's state equals a fresh query.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveRecord, RecordEvent } from '../../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../../support/cli-process.js';
import { Haproxy } from '../../support/haproxy.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { getToken, RawClient, rest, sleep } from '../../support/raw-client.js';
import { RedisServer } from '../../support/redis-server.js';
import { freePort } from '../../support/test-server.js';

const SECRET = 'sk_failover_acme';

let postgres: PostgresCluster;
let redis: RedisServer;
let haproxy: Haproxy;
const processes: CliProcess[] = [];
const dir = tempDir('catalyst-failover-');

before(async () => {
  [postgres, redis] = await Promise.all([PostgresCluster.start(), RedisServer.start()]);
  await postgres.query(`CREATE TABLE items (id text PRIMARY KEY, n int NOT NULL)`);
  const config = writeJson(dir.file('config.json'), {
    keys: [{ key: SECRET, client: 'acme', environment: 'production', role: 'secret' }],
    objects: ['items'],
    postgres: {
      url: postgres.url(),
      tables: [{ client: 'acme', environment: 'production', table: 'items', object: 'items' }],
    },
  });
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  for (const port of ports) {
    processes.push(
      await CliProcess.start([
        '--config',
        config,
        '--port',
        String(port),
        '--cluster',
        redis.url,
        '--flush-ms',
        '20',
      ]),
    );
  }
  haproxy = await Haproxy.start(ports);
});

after(async () => {
  await haproxy?.stop();
  await Promise.all(processes.map((p) => p.stop('SIGKILL').catch(() => undefined)));
  await Promise.all([postgres?.stop(), redis?.stop()]);
  dir.remove();
});

/** A client that keeps a live copy of `records:items`, reconnecting and resuming through HAProxy. */
class Follower {
  readonly records = new Map<string, LiveRecord>();
  readonly seen = new Set<number>();
  doubled = 0;
  epoch = '';
  seq = 0;
  reconnects = 0;
  resumedEach = true;
  private client: RawClient | undefined;
  private stopped = false;

  async start(): Promise<void> {
    await this.connect(false);
  }

  private async connect(resume: boolean): Promise<void> {
    const base = process.env.DIRECT ? (processes[0] as CliProcess & { url: string }).url : haproxy.url;
    const lb = { url: base, wsUrl: `${base.replace(/^http/, 'ws')}/ws/events/object-records/` };
    const client = await RawClient.open(`${lb.wsUrl}?token=${await getToken(lb, SECRET)}`);
    const welcome = await client.next('welcome');
    this.client = client;
    const answer = await client.subscribe({
      id: 'f',
      channel: 'records:items',
      snapshot: true,
      ...(resume ? { since: this.seq, epoch: this.epoch } : {}),
    });
    if (resume && !answer.resumed) this.resumedEach = false;
    if (!resume)
      for (const record of (answer.snapshot ?? []) as LiveRecord[]) this.records.set(record.id, record);
    this.epoch = welcome.epoch;
    this.seq = Math.max(this.seq, answer.seq);
    client.ws.on('message', () => this.drain(client));
    this.drain(client);
    client.ws.on('close', () => {
      if (this.stopped) return;
      this.reconnects++;
      void this.reconnect();
    });
  }

  private read = new WeakMap<RawClient, number>();

  private drain(client: RawClient): void {
    const events = client.events('f') as RecordEvent[];
    for (let i = this.read.get(client) ?? 0; i < events.length; i++) {
      const event = events[i] as RecordEvent;
      if (this.seen.has(event.seq)) {
        this.doubled++;
        continue;
      }
      this.seen.add(event.seq);
      this.seq = Math.max(this.seq, event.seq);
      if (event.change === 'removed') this.records.delete(event.id);
      else this.records.set(event.id, event.record);
    }
    this.read.set(client, events.length);
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; attempt < 50 && !this.stopped; attempt++) {
      try {
        await this.connect(true);
        return;
      } catch {
        await sleep(100);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.client?.close();
  }
}

describe('three processes behind HAProxy', () => {
  it('loses and doubles nothing when a process is SIGKILLed while writes flow', async () => {
    const followers = Array.from({ length: 6 }, () => new Follower());
    await Promise.all(followers.map((f) => f.start())).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; stderr: ${processes.map((p) => p.stderr).join(' | ')}`);
    });
    let writing = true;
    let written = 0;
    const restWriter = (async () => {
      for (let i = 0; writing; i++) {
        const answer = await rest({ url: haproxy.url }, 'POST', '/api/objects/items/records', {
          key: SECRET,
          body: { id: `r${i}`, n: i },
        }).catch(() => undefined);
        if (answer?.status === 201) written++;
        else i--; // the process died under it: write it again
        await sleep(10);
      }
    })();
    const sqlWriter = (async () => {
      for (let i = 0; writing; i++) {
        await postgres.psql(
          `INSERT INTO items VALUES ('s${i}', ${i}) ON CONFLICT (id) DO UPDATE SET n = items.n + 1`,
        );
        await sleep(15);
      }
    })();
    await sleep(1000);
    await processes[1]?.stop('SIGKILL');
    await sleep(2500);
    writing = false;
    await Promise.all([restWriter, sqlWriter]);
    assert.ok(written > 20, `only ${written} REST writes went through`);

    const truth = new Map(
      (await postgres.query<{ id: string; n: number }>(`SELECT id, n FROM items`)).map((row) => [
        row.id,
        row.n,
      ]),
    );
    for (const deadline = Date.now() + 15_000; ;) {
      const done = followers.every(
        (f) => f.records.size === truth.size && [...truth].every(([id, n]) => f.records.get(id)?.n === n),
      );
      if (done) break;
      assert.ok(
        Date.now() < deadline,
        `followers never matched the table (${followers.map((f) => f.records.size).join(', ')} of ${truth.size})`,
      );
      await sleep(100);
    }
    for (const follower of followers) {
      assert.equal(follower.resumedEach, true, 'every reconnect resumed');
      assert.equal(follower.doubled, 0, 'no event twice');
      follower.stop();
    }
    assert.ok(
      followers.some((f) => f.reconnects > 0),
      'some clients were on the killed process',
    );
  });
});
