/**
 * Nothing lost, nothing twice (issue 14, items 4 and 6; PROTOCOL.md sections 5 and 10): the real
 * CLI with `--data` on a private PostgreSQL 15, SIGKILLed while writers commit, restarted on the
 * same port with the same data file, read by a client that resumes with `since` and `epoch` after
 * every restart. Every committed change arrives exactly once, in commit order, each transaction's
 * changes together, including what was committed while the server was down; a transaction cut by
 * the kill half-way through its journaling continues without doubles. Without `--data` a restart
 * is a new epoch, and the stream starts from now.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import type { RowEvent, SubscribedMessage } from '../../../protocol/index.js';
import { CliProcess, tempDir, writeJson } from '../../support/cli-process.js';
import { PostgresCluster } from '../../support/postgres-cluster.js';
import { RawClient, getToken, sleep } from '../../support/raw-client.js';

const KEY = 'sk_pg_once_prod';
/** Changes in the big transaction. */
const BULK = 2000;

let cluster: PostgresCluster;
let cleanups: (() => unknown)[] = [];

before(async () => {
  cluster = await PostgresCluster.start();
  await cluster.query(`
    CREATE TABLE items (id text PRIMARY KEY, writer int NOT NULL, n int NOT NULL, xid bigint NOT NULL);
    CREATE TABLE counters (writer int PRIMARY KEY, n int NOT NULL, xid bigint);
    INSERT INTO counters SELECT w, 0, NULL FROM generate_series(0, 3) w;
    CREATE TABLE bulk (id int PRIMARY KEY, note text NOT NULL);
    CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
  `);
});
after(() => cluster?.stop());
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** Writes a config exposing `tables` to acme/production through its own slot; returns its path. */
function configFile(dir: ReturnType<typeof tempDir>, slot: string, tables: string[]): string {
  return writeJson(dir.file('config.json'), {
    keys: [{ key: KEY, client: 'acme', environment: 'production', role: 'secret' }],
    objects: ['notes'],
    limits: { historySize: 100_000 },
    postgres: {
      url: cluster.url(),
      slot,
      publication: slot,
      tables: tables.map((table) => ({ client: 'acme', environment: 'production', table })),
    },
  });
}

/** Starts the CLI; it is SIGKILLed after the test if still running. */
async function startCli(args: string[]): Promise<CliProcess & { url: string }> {
  const cli = await CliProcess.start(['--flush-ms', '20', '--host', '127.0.0.1', ...args]);
  cleanups.push(() => cli.stop('SIGKILL'));
  return cli;
}

async function kill(cli: CliProcess): Promise<void> {
  cli.child.kill('SIGKILL');
  assert.equal((await cli.exit()).signal, 'SIGKILL');
}

/**
 * A client that lives across restarts as section 5 tells clients to: subscribed to `postgres:*`,
 * it keeps the largest seq it has seen and the epoch, and after each reconnect subscribes again
 * with both. It keeps the events of every connection, in arrival order.
 */
class ResumingRowReader {
  private client: RawClient | undefined;
  private readonly past: RowEvent[] = [];
  /** Every `subscribed` answer, in order. */
  readonly answers: SubscribedMessage[] = [];
  /** Every `welcome`'s epoch, in order. */
  readonly epochs: string[] = [];
  /** Frames that failed the protocol's schemas. */
  readonly invalid: string[] = [];
  epoch: string | undefined;

  /** Connects to a (re)started server and subscribes, resuming from `since` and `epoch` once it has an epoch. */
  async connect(url: string): Promise<SubscribedMessage> {
    this.keep();
    const token = await getToken({ url }, KEY);
    const client = await RawClient.open(
      `${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
    );
    this.client = client;
    const welcome = await client.next('welcome');
    this.epochs.push(welcome.epoch);
    const resume = this.epoch === undefined ? {} : { since: this.lastSeq, epoch: this.epoch };
    const answer = await client.subscribe({ id: 'all', channel: 'postgres:*', ...resume });
    this.answers.push(answer);
    this.epoch = welcome.epoch;
    return answer;
  }

  /** The largest seq seen so far (0 before any). */
  get lastSeq(): number {
    return this.events().reduce((max, e) => Math.max(max, e.seq), 0);
  }

  /** Every row event received, over every connection, in arrival order. */
  events(): RowEvent[] {
    const current = (this.client?.events() ?? []).filter((e): e is RowEvent => 'table' in e);
    return [...this.past, ...current];
  }

  /** Waits until `done(events)` holds, up to `timeoutMs`. */
  async waitFor(
    done: (events: RowEvent[]) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<RowEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = this.events();
      if (done(events)) return events;
      if (Date.now() > deadline)
        throw new Error(`${what}: not within ${timeoutMs} ms (${events.length} events)`);
      await sleep(20);
    }
  }

  /** Moves the current connection's events into the past (its server is gone). */
  private keep(): void {
    if (!this.client) return;
    this.past.push(...this.client.events().filter((e): e is RowEvent => 'table' in e));
    this.invalid.push(...this.client.invalid);
    this.client.close();
    this.client = undefined;
  }

  close(): void {
    this.keep();
  }
}

/** A transaction a writer saw commit: its xid (32-bit, as events carry it) and its changes. */
type Committed = { xid: string; changes: string[]; committedAt: number };

/** `xid|table|id|operation`: what identifies one change of one transaction. */
const changeKey = (xid: string, table: string, id: string | undefined, operation: string) =>
  `${xid}|${table}|${id ?? ''}|${operation}`;

/** The 32-bit xid of `txid_current()`'s 64-bit value, as the stream reports it. */
const xid32 = (txid: string) => String(BigInt(txid) & 0xffff_ffffn);

const lsnValue = (lsn: string) => {
  const [high = '0', low = '0'] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
};

/**
 * One writer: its own connection, small transactions back to back until stopped — every other
 * one a single INSERT, the rest INSERT plus an UPDATE of the writer's counter row in one
 * transaction. Each row carries its transaction's xid (`txid_current()`).
 */
class Writer {
  readonly committed: Committed[] = [];
  private stopped = false;

  constructor(private readonly w: number) {}

  async run(): Promise<void> {
    const client = new pg.Client({ connectionString: cluster.url() });
    await client.connect();
    try {
      for (let n = 0; !this.stopped; n++) {
        const id = `w${this.w}-${n}`;
        const insert = `INSERT INTO items VALUES ($1, $2, $3, txid_current()) RETURNING xid::text`;
        if (n % 2 === 0) {
          const { rows } = await client.query<{ xid: string }>(insert, [id, this.w, n]);
          const xid = xid32(rows[0]?.xid ?? '0');
          this.committed.push({
            xid,
            changes: [changeKey(xid, 'items', id, 'INSERT')],
            committedAt: Date.now(),
          });
        } else {
          await client.query('BEGIN');
          const { rows } = await client.query<{ xid: string }>(insert, [id, this.w, n]);
          await client.query('UPDATE counters SET n = n + 1, xid = txid_current() WHERE writer = $1', [
            this.w,
          ]);
          await client.query('COMMIT');
          const xid = xid32(rows[0]?.xid ?? '0');
          this.committed.push({
            xid,
            changes: [
              changeKey(xid, 'items', id, 'INSERT'),
              changeKey(xid, 'counters', String(this.w), 'UPDATE'),
            ],
            committedAt: Date.now(),
          });
        }
        await sleep(2); // about 250 transactions a second per writer: thousands of events, not tens of thousands
      }
    } finally {
      await client.end();
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

/** The row commits a journal holds for one xid (its torn last line, if any, left out). */
function journaledChanges(path: string, xid: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return 0;
  }
  let count = 0;
  for (const line of text.split('\n')) {
    try {
      const { commit } = JSON.parse(line) as { commit?: { kind?: string; xid?: string } };
      if (commit?.kind === 'row' && commit.xid === xid) count++;
    } catch {
      // the line a kill cut short, or the empty one after the last newline
    }
  }
  return count;
}

describe('exactly once across SIGKILL (--data)', () => {
  it('delivers every change committed by concurrent writers exactly once, in commit order, across three kills', async () => {
    const dir = tempDir('catalyst-pg-once-');
    cleanups.push(() => dir.remove());
    const config = configFile(dir, 'once_kill', ['items', 'counters']);
    const data = dir.file('data.json');
    let cli = await startCli(['--config', config, '--port', '0', '--data', data]);
    const port = new URL(cli.url).port;
    const reader = new ResumingRowReader();
    cleanups.push(() => reader.close());
    const first = await reader.connect(cli.url);
    assert.equal(first.seq, 0);

    const writers = [0, 1, 2, 3].map((w) => new Writer(w));
    const running = writers.map((w) => w.run());
    const downtimes: { from: number; to: number }[] = [];
    const moments: number[] = [];
    const started = Date.now();
    for (let kills = 0; kills < 3; kills++) {
      const wait = 150 + Math.floor(Math.random() * 450);
      moments.push(Date.now() - started + wait);
      await sleep(wait);
      const from = Date.now();
      await kill(cli);
      await sleep(Math.floor(Math.random() * 300)); // the writers go on while it is down (and while it starts)
      cli = await startCli(['--config', config, '--port', port, '--data', data]);
      downtimes.push({ from, to: Date.now() });
      const answer = await reader.connect(cli.url);
      assert.equal(answer.resumed, true, `resumed after kill ${kills + 1} (at ${moments.join(', ')} ms)`);
    }
    await sleep(Math.max(300, 4000 - (Date.now() - started))); // writes go on after the last restart too
    for (const w of writers) w.stop();
    await Promise.all(running);

    const committed = writers.flatMap((w) => w.committed);
    const expected = committed.flatMap((t) => t.changes);
    const events = await reader.waitFor((e) => e.length >= expected.length, `${expected.length} changes`);
    await sleep(500); // anything doubled would come now
    const all = reader.events();
    const context = `kills at ${moments.join(', ')} ms; ${committed.length} transactions, ${expected.length} changes`;
    assert.ok(events.length >= expected.length);

    // Exactly once: the events are the writers' changes, each once.
    const got = all.map((e) => changeKey(e.xid, e.table, e.id, e.operation));
    const doubled = got.filter((k, i) => got.indexOf(k) !== i);
    assert.deepEqual(doubled, [], `no change twice; ${context}`);
    const gotSet = new Set(got);
    assert.deepEqual(
      expected.filter((k) => !gotSet.has(k)),
      [],
      `no committed change missing; ${context}`,
    );
    assert.equal(got.length, expected.length, `nothing but the writers' changes; ${context}`);

    // The table agrees: every row was an INSERT event of its own transaction.
    const rows = await cluster.query<{ id: string; xid: string }>('SELECT id, xid::text FROM items');
    assert.equal(rows.length, all.filter((e) => e.table === 'items').length);
    for (const row of rows)
      assert.ok(gotSet.has(changeKey(xid32(row.xid), 'items', row.id, 'INSERT')), row.id);
    const counters = await cluster.query<{ total: string }>('SELECT sum(n)::text AS total FROM counters');
    assert.equal(Number(counters[0]?.total), all.filter((e) => e.table === 'counters').length);

    // Seqs dense 1..N in arrival order: resuming gave exactly what was missed.
    assert.deepEqual(
      all.map((e) => e.seq),
      all.map((_, i) => i + 1),
      `seq 1..${all.length} once each, in order; ${context}`,
    );
    // A transaction's changes: consecutive seqs, one xid, one lsn; transactions in commit order.
    const runs: RowEvent[][] = [];
    for (const event of all) {
      const last = runs.at(-1);
      if (last?.[0]?.xid === event.xid) last.push(event);
      else runs.push([event]);
    }
    const xids = runs.map((r) => r[0]?.xid);
    assert.equal(new Set(xids).size, runs.length, `each transaction in one run of seqs; ${context}`);
    assert.equal(runs.length, committed.length);
    for (const run of runs)
      assert.equal(new Set(run.map((e) => e.lsn)).size, 1, `one lsn for xid ${run[0]?.xid}`);
    const lsns = runs.map((r) => lsnValue(r[0]?.lsn ?? '0/0'));
    assert.ok(
      lsns.every((lsn, i) => i === 0 || lsn > (lsns[i - 1] as bigint)),
      `commit lsns rise with seq; ${context}`,
    );
    const shapes = new Set(runs.map((r) => r.map((e) => `${e.table} ${e.operation}`).join(', ')));
    assert.deepEqual([...shapes].sort(), ['items INSERT', 'items INSERT, counters UPDATE']);

    // What was committed while the server was down arrived too.
    for (const [i, down] of downtimes.entries()) {
      const meanwhile = committed.filter((t) => t.committedAt > down.from && t.committedAt < down.to);
      assert.ok(meanwhile.length > 0, `writes went on during downtime ${i + 1}`);
      const seen = new Set(xids);
      assert.deepEqual(
        meanwhile.filter((t) => !seen.has(t.xid)).map((t) => t.xid),
        [],
        `downtime ${i + 1}`,
      );
    }
    assert.deepEqual(
      reader.epochs.filter((e) => e !== reader.epochs[0]),
      [],
      'one epoch throughout',
    );
    assert.deepEqual(reader.invalid, []);
  });

  it('continues a 2000-change transaction cut by a kill during its journaling without doubles', async () => {
    const dir = tempDir('catalyst-pg-once-');
    cleanups.push(() => dir.remove());
    const config = configFile(dir, 'once_bulk', ['bulk']);
    const data = dir.file('data.json');
    const journal = `${data}.journal`;
    let cli = await startCli(['--config', config, '--port', '0', '--data', data]);
    const port = new URL(cli.url).port;
    const reader = new ResumingRowReader();
    cleanups.push(() => reader.close());
    await reader.connect(cli.url);
    await cluster.query(`INSERT INTO bulk VALUES (0, 'before')`);
    await reader.waitFor((e) => e.length === 1, 'the first insert');

    /** Each transaction's events, read live and from the history, checked as one. */
    const check = (list: RowEvent[], xid: string, first: number, who: string) => {
      const mine = list.filter((e) => e.xid === xid);
      assert.equal(mine.length, BULK, `${who}: ${BULK} events for xid ${xid}`);
      assert.deepEqual(
        mine.map((e) => e.id),
        Array.from({ length: BULK }, (_, i) => String(first + i)),
        `${who}: each row once, in statement order`,
      );
      const seq = mine[0]?.seq ?? 0;
      assert.deepEqual(
        mine.map((e) => e.seq),
        Array.from({ length: BULK }, (_, i) => seq + i),
        `${who}: consecutive seqs`,
      );
    };
    // The journal grows line by line as the transaction's changes take their seqs, all in one turn
    // of the server (tens of milliseconds): watch it without yielding and kill once about a fifth
    // is written. A loaded machine may deschedule this process past the whole turn; then the
    // attempt still checks the restart, and another transaction tries again.
    const cuts: number[] = [];
    const transactions: { xid: string; first: number }[] = [];
    const inside = (cut: number) => cut > 0 && cut < BULK;
    for (let attempt = 0; attempt < 3 && !cuts.some(inside); attempt++) {
      const before = statSync(journal).size;
      const lineBytes = 320; // a journal line of one bulk row, about
      const first = attempt * BULK + 1;
      const client = new pg.Client({ connectionString: cluster.url() });
      await client.connect();
      await client.query('BEGIN');
      const txid = (await client.query<{ xid: string }>('SELECT txid_current()::text AS xid')).rows[0]?.xid;
      await client.query(
        `INSERT INTO bulk SELECT g, repeat('x', 40) || g FROM generate_series($1::int, $2::int) g`,
        [first, first + BULK - 1],
      );
      await client.query('COMMIT');
      await client.end();
      const xid = xid32(txid ?? '0');
      transactions.push({ xid, first });

      const deadline = Date.now() + 10_000;
      while (statSync(journal).size < before + (BULK / 5) * lineBytes && Date.now() < deadline) {
        // spin: a timer would come too late
      }
      await kill(cli);
      cuts.push(journaledChanges(journal, xid));

      cli = await startCli(['--config', config, '--port', port, '--data', data]);
      assert.equal((await reader.connect(cli.url)).resumed, true);
      await reader.waitFor((e) => e.filter((x) => x.xid === xid).length >= BULK, `${BULK} changes`);
      await sleep(300); // anything doubled would come now
      check(reader.events(), xid, first, `attempt ${attempt + 1}, ${cuts.at(-1)} journaled before the kill`);
      assert.equal(reader.events().length, 1 + BULK * (attempt + 1), 'nothing else');
    }
    assert.ok(
      cuts.some(inside),
      `a kill landed inside a transaction's journaling (journaled: ${cuts.join(', ')})`,
    );
    const all = reader.events();
    assert.deepEqual(
      all.map((e) => e.seq),
      all.map((_, i) => i + 1),
    );

    // A client reading the whole history from seq 0 finds the same: the store holds no doubles.
    const fresh = new ResumingRowReader();
    cleanups.push(() => fresh.close());
    fresh.epoch = reader.epoch;
    assert.equal((await fresh.connect(cli.url)).resumed, true);
    const history = await fresh.waitFor((e) => e.length >= all.length, 'the history');
    await sleep(100);
    assert.equal(fresh.events().length, all.length);
    for (const { xid, first } of transactions) check(history, xid, first, 'the history');
  });
});

describe('without --data', () => {
  it('starts a new epoch at each start and streams from then on, not what was committed while down', async () => {
    const dir = tempDir('catalyst-pg-once-');
    cleanups.push(() => dir.remove());
    const config = configFile(dir, 'once_nodata', ['notes']);
    let cli = await startCli(['--config', config, '--port', '0']);
    const port = new URL(cli.url).port;
    const reader = new ResumingRowReader();
    cleanups.push(() => reader.close());
    await reader.connect(cli.url);
    await cluster.query(`INSERT INTO notes VALUES (1, 'while up')`);
    await reader.waitFor((e) => e.length === 1, 'the first note');

    await kill(cli);
    await cluster.query(`INSERT INTO notes VALUES (2, 'while down')`);
    cli = await startCli(['--config', config, '--port', port]);
    const answer = await reader.connect(cli.url);
    assert.notEqual(reader.epochs[1], reader.epochs[0], 'a new epoch');
    assert.equal(answer.resumed, false, 'the old epoch cannot be resumed');
    assert.equal(answer.seq, 0, 'a history from nothing');

    await cluster.query(`INSERT INTO notes VALUES (3, 'after the restart')`);
    await reader.waitFor((e) => e.length === 2, 'the note after the restart');
    await sleep(300);
    assert.deepEqual(
      reader.events().map((e) => [e.seq, e.id, e.record?.body]),
      [
        [1, '1', 'while up'],
        [1, '3', 'after the restart'],
      ],
      'the note committed while the server was down is not replayed',
    );
    const rows = await cluster.query<{ id: number }>('SELECT id FROM notes ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.id),
      [1, 2, 3],
      'it is in the table',
    );
  });
});
