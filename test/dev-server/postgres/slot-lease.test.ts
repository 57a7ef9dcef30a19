/**
 * The lease on a replication slot (issue 15 item 2; dev-server/sources/postgres/slot-lease.ts)
 * against a private PostgreSQL 15: one holder at a time among several leases; a holder killed
 * with SIGKILL, or hung with SIGSTOP, in a child process (test/support/slot-lease-holder.ts) is
 * replaced by a lease of this process, whose stream goes on from the confirmed position with
 * nothing lost; `stop()` hands over at the next ask; a terminated lease connection calls `onLost`
 * at once and the lease is acquired again. The measured times are printed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresConfigSchema, resolvePostgresConfig } from '../../../dev-server/sources/postgres/config.js';
import { preparePostgres } from '../../../dev-server/sources/postgres/setup.js';
import {
  SlotLease,
  slotLeaseKey,
  type SlotLeaseOptions,
} from '../../../dev-server/sources/postgres/slot-lease.js';
import { PostgresStream } from '../../../dev-server/sources/postgres/stream.js';
import { REPO_ROOT } from '../../support/cli-process.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { sleep } from '../../support/raw-client.js';
import type { SlotLeaseHolderArgs } from '../../support/slot-lease-holder.js';

let cluster: PostgresCluster;
before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(`CREATE TABLE items (id serial PRIMARY KEY, n int NOT NULL)`);
});
after(() => cluster?.stop());

/** Prepares a slot and publication of its own for one test. */
async function prepare(slot: string): Promise<void> {
  await preparePostgres(
    resolvePostgresConfig(
      PostgresConfigSchema.parse({
        url: cluster.url(),
        slot,
        publication: slot,
        tables: [{ client: 'acme', environment: 'production', table: 'items' }],
      }),
    ),
  );
}

async function until(test: () => boolean, what: string, timeoutMs = 15_000): Promise<number> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
  return Date.now();
}

/** A lease of this process, with what happened to it and when. */
class Lease {
  readonly lease: SlotLease;
  acquiredAt: number[] = [];
  lostAt: number[] = [];
  errors: Error[] = [];

  constructor(slot: string, options: Partial<SlotLeaseOptions> = {}) {
    this.lease = SlotLease.start({
      url: cluster.url(),
      slot,
      onAcquired: () => this.acquiredAt.push(Date.now()),
      onLost: (error) => {
        this.lostAt.push(Date.now());
        this.errors.push(error);
      },
      onWarning: () => {},
      ...options,
    });
  }
}

/** A lease of this process that reads the slot while it holds it, as a server process would. */
class LeasedReader extends Lease {
  stream: PostgresStream | undefined;
  streamingAt: number | undefined;
  readonly applied: number[] = [];

  constructor(slot: string, options: Partial<SlotLeaseOptions> = {}) {
    super(slot, {
      ...options,
      onAcquired: () => {
        this.acquiredAt.push(Date.now());
        this.stream = new PostgresStream({
          url: cluster.url(),
          slot,
          publication: slot,
          resumeAfter: undefined,
          apply: (transaction) => {
            for (const change of transaction.changes) {
              if (change.operation === 'INSERT') this.applied.push(Number(change.row.n));
            }
          },
          onStatus: (status) => {
            if (status === 'streaming') this.streamingAt ??= Date.now();
          },
        });
        void this.stream.start();
      },
    });
  }

  async stop(): Promise<void> {
    await this.stream?.stop();
    await this.lease.stop();
  }
}

/** A lease holder in a child process (test/support/slot-lease-holder.ts). */
class HolderProcess {
  output = '';
  readonly child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(args: SlotLeaseHolderArgs) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/slot-lease-holder.ts', JSON.stringify(args)],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', () => resolve()));
  }

  lines(): string[] {
    return this.output.split('\n').filter((line) => line !== '');
  }

  applied(): number[] {
    return this.lines().flatMap((line) => (line.startsWith('applied ') ? [Number(line.slice(8))] : []));
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Inserts rows numbered 1, 2, … one per transaction, every `everyMs`, until stopped. */
class Inserter {
  count = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(everyMs: number) {
    this.done = (async () => {
      const client = new pg.Client({ connectionString: cluster.url() });
      await client.connect();
      try {
        while (this.running) {
          await client.query('INSERT INTO items (n) VALUES ($1)', [this.count + 1]);
          this.count++;
          await sleep(everyMs);
        }
      } finally {
        await client.end();
      }
    })();
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.done;
    return this.count;
  }
}

async function leaseBackends(slot: string): Promise<number[]> {
  const rows = await cluster.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid`,
    [`catalyst slot lease ${slot}`],
  );
  return rows.map((r) => r.pid);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

describe('the lease on a replication slot', () => {
  it('is held by exactly one of three leases at any time', async () => {
    const slot = 'lease_three';
    const leases = [1, 2, 3].map(() => new Lease(slot, { retryMs: 200, holderTimeoutMs: 1000 }));
    try {
      await until(() => leases.some((l) => l.lease.isHolder), 'a holder', 5000);
      const holders: number[] = [];
      for (const end = Date.now() + 3000; Date.now() < end; await sleep(50)) {
        holders.push(leases.filter((l) => l.lease.isHolder).length);
      }
      assert.ok(holders.length >= 50, `sampled ${holders.length} times`);
      assert.deepEqual(new Set(holders), new Set([1]), 'one holder at every sample');
      assert.deepEqual(
        leases.map((l) => l.acquiredAt.length).sort(),
        [0, 0, 1],
        'the holder kept the lease; the others never got it',
      );
      const locks = await cluster.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_locks
          WHERE locktype = 'advisory' AND granted
            AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
        [slotLeaseKey(slot).toString()],
      );
      assert.equal(locks[0]?.n, '1', 'PostgreSQL shows one granted advisory lock for the slot');
    } finally {
      await Promise.all(leases.map((l) => l.lease.stop()));
    }
  });

  it('passes to another process within 10 s when its holder is killed with SIGKILL, which reads on from the confirmed position', async () => {
    const slot = 'lease_sigkill';
    await prepare(slot);
    const holder = new HolderProcess({ url: cluster.url(), slot, publication: slot });
    const inserter = new Inserter(20);
    let reader: LeasedReader | undefined;
    try {
      await until(() => holder.lines().includes('streaming'), 'the child to stream');
      reader = new LeasedReader(slot);
      await until(() => holder.applied().length >= 10, 'the child to apply rows');
      const killedAt = Date.now();
      await holder.kill();
      const streamingAt = await until(
        () => reader!.streamingAt !== undefined,
        'the new holder to stream',
        10_000,
      );
      const acquiredAt = reader.acquiredAt[0] as number;
      await sleep(200);
      const total = await inserter.stop();
      await until(() => reader!.applied.includes(total), 'the new holder to apply the last row');
      const old = holder.applied();
      const both = new Set([...old, ...reader.applied]);
      assert.deepEqual(
        [...both].sort((a, b) => a - b),
        range(total),
        'every row applied by one of them',
      );
      const twice = reader.applied.filter((n) => old.includes(n)).length;
      assert.ok(
        reader.applied.every((n, i) => i === 0 || n > reader!.applied[i - 1]!),
        'the new holder applies in order, once each',
      );
      console.log(
        `SIGKILL → lease acquired ${acquiredAt - killedAt} ms, → streaming ${streamingAt - killedAt} ms; rows ${total}, applied by both (deduplicated downstream by LSN): ${twice}`,
      );
      assert.ok(streamingAt - killedAt < 10_000);
    } finally {
      await inserter.stop();
      await holder.kill();
      await reader?.stop();
    }
  });

  it('passes to another process when its holder hangs (SIGSTOP), ending the hung walsender; the holder gives the lease up when it wakes', async () => {
    const slot = 'lease_sigstop';
    await prepare(slot);
    const timings = { retryMs: 500, holderTimeoutMs: 2000 };
    const holder = new HolderProcess({ url: cluster.url(), slot, publication: slot, ...timings });
    let reader: LeasedReader | undefined;
    try {
      await until(() => holder.lines().includes('streaming'), 'the child to stream');
      reader = new LeasedReader(slot, timings);
      await sleep(300);
      const stoppedAt = Date.now();
      holder.child.kill('SIGSTOP');
      const streamingAt = await until(
        () => reader!.streamingAt !== undefined,
        'the new holder to stream',
        10_000,
      );
      const acquiredAt = reader.acquiredAt[0] as number;
      await cluster.query('INSERT INTO items (n) VALUES (-1)');
      await until(() => reader!.applied.includes(-1), 'the new holder to read a new row');
      holder.child.kill('SIGCONT');
      const lostAt = await until(
        () => holder.lines().some((l) => l.startsWith('lost ')),
        'the woken holder to give up',
      );
      console.log(
        `SIGSTOP (holderTimeoutMs ${timings.holderTimeoutMs}) → lease acquired ${acquiredAt - stoppedAt} ms, → streaming ${streamingAt - stoppedAt} ms (wal_sender_timeout is 60 s); woken holder's onLost ${lostAt - streamingAt} ms after SIGCONT: ${holder.lines().find((l) => l.startsWith('lost '))}`,
      );
      // The hung holder's session went quiet at its last heartbeat, up to retryMs before SIGSTOP.
      assert.ok(
        acquiredAt - stoppedAt >= timings.holderTimeoutMs - timings.retryMs - 100,
        "not before the hung holder's session timed out",
      );
      assert.ok(streamingAt - stoppedAt < timings.holderTimeoutMs + 3000);
      assert.ok(!holder.applied().includes(-1), 'the woken holder did not read the new row');
    } finally {
      holder.child.kill('SIGCONT');
      await holder.kill();
      await reader?.stop();
    }
  });

  it('hands over at the next ask when the holder stops', async () => {
    const slot = 'lease_stop';
    const first = new Lease(slot, { retryMs: 200, holderTimeoutMs: 1000 });
    await until(() => first.lease.isHolder, 'the first lease to hold');
    const second = new Lease(slot, { retryMs: 200, holderTimeoutMs: 1000 });
    try {
      await sleep(300);
      assert.equal(second.lease.isHolder, false);
      const stoppedAt = Date.now();
      await first.lease.stop();
      assert.equal(first.lease.isHolder, false);
      const acquiredAt = await until(() => second.lease.isHolder, 'the second lease to hold', 2000);
      console.log(`stop() → the other lease acquired ${acquiredAt - stoppedAt} ms (retryMs 200)`);
      assert.deepEqual(first.lostAt, [], 'stop() does not call onLost');
    } finally {
      await first.lease.stop();
      await second.lease.stop();
    }
  });

  it('calls onLost at once when its connection is terminated, and acquires the lease again', async () => {
    const slot = 'lease_terminated';
    const lease = new Lease(slot, { retryMs: 200, holderTimeoutMs: 1000 });
    try {
      await until(() => lease.lease.isHolder, 'the lease to hold');
      const [pid] = await leaseBackends(slot);
      const terminatedAt = Date.now();
      await cluster.query('SELECT pg_terminate_backend($1)', [pid]);
      const lostAt = await until(() => lease.lostAt.length === 1, 'onLost', 2000);
      assert.equal(lease.lease.isHolder, false);
      assert.match(lease.errors[0]?.message ?? '', /terminating connection due to administrator command/);
      const againAt = await until(
        () => lease.acquiredAt.length === 2,
        'the lease to be acquired again',
        5000,
      );
      assert.equal(lease.lease.isHolder, true);
      console.log(
        `pg_terminate_backend → onLost ${lostAt - terminatedAt} ms, acquired again ${againAt - terminatedAt} ms`,
      );
    } finally {
      await lease.lease.stop();
    }
  });

  it('refuses timings where a live holder could lose the lease', () => {
    assert.throws(
      () =>
        SlotLease.start({
          url: cluster.url(),
          slot: 'x',
          onAcquired() {},
          onLost() {},
          retryMs: 1000,
          holderTimeoutMs: 2000,
        }),
      /holderTimeoutMs \(2000\) must be at least 3 × retryMs \(1000\)/,
    );
  });
});
