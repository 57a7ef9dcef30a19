/**
 * Issue 14 item 8, the path from a committed row to a subscriber: rows committed to a PostgreSQL
 * table, read by the dev server from its replication slot and delivered as `postgres:orders` row
 * events, against the same rows created through REST in the in-memory store and delivered as
 * `records:orders_mem` record events — the same server, the same subscribers, in one run.
 *
 * A private PostgreSQL 15 cluster (test/support/postgres-cluster.ts) is started for the run and
 * removed at its end, also when it fails. The dev server runs in a child process
 * (server-child.mjs), the subscribers in client processes (client-child.mjs), the writers here
 * (writers.mjs). Each phase writes its rows, then waits until every subscriber has every row.
 */
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { request } from '../fanout/ipc.mjs';
import { machineCpuMs, postgresCpu } from './postgres-cpu.mjs';
import { pgBurst, pgSteady, restBurst, restSteady } from './writers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const KEY = 'sk_bench_postgres';
const TABLE = 'orders';
const OBJECT = 'orders_mem';
const CHANNELS = { pg: `postgres:${TABLE}`, mem: `records:${OBJECT}` };

/** Sizes of the full run (a few minutes on 2 cores) and of the CI smoke (seconds). */
const SIZES = {
  full: {
    subscribers: 1000,
    // One, as in the fan-out benchmark: on 2 cores, more subscriber processes than server processes
    // would take the larger share of the CPU from the server they measure.
    clientProcesses: 1,
    steady: { rate: 200, durationMs: 10_000 },
    batched: { rows: 20_000, perTransaction: 100, clients: 4 },
    single: { rows: 20_000, clients: 8 },
    rest: { rows: 20_000, concurrency: 64 },
    warmup: 50,
  },
  smoke: {
    subscribers: 20,
    clientProcesses: 2, // so that merging their counts runs too
    steady: { rate: 50, durationMs: 1000 },
    batched: { rows: 300, perTransaction: 100, clients: 2 },
    single: { rows: 100, clients: 4 },
    rest: { rows: 300, concurrency: 4 },
    warmup: 10,
  },
};

/** How long a phase may go without a new delivery before what is missing counts as lost. */
const STALL_MS = 15_000;

const PATH = {
  pg: 'PostgreSQL → `postgres:orders`',
  rest: 'REST → in-memory `records:orders_mem` (baseline)',
};

const round = (x, digits = 0) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : 'n/a');
const thousands = (n) => n.toLocaleString('en-US').replaceAll(',', ' ');

/** The `p`th percentile of a sparse histogram ([ms, count] pairs, ascending). */
function percentile(histogram, p) {
  const total = histogram.reduce((sum, [, n]) => sum + n, 0);
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [ms, n] of histogram) {
    seen += n;
    if (seen >= rank) return ms;
  }
  return NaN;
}

/** Sparse histograms added up, ascending by ms. */
function merge(histograms) {
  const counts = new Map();
  for (const histogram of histograms) {
    for (const [ms, n] of histogram) counts.set(ms, (counts.get(ms) ?? 0) + n);
  }
  return [...counts].sort((a, b) => a[0] - b[0]);
}

/** The bench's processes and cluster, and one idempotent way to end them all. */
class Rig {
  cluster = undefined;
  server = undefined;
  clients = [];
  url = '';
  #ending = undefined;

  spawn(file, execArgv) {
    return fork(join(HERE, file), [], {
      cwd: ROOT,
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  async start(size) {
    const { PostgresCluster } = await tsImport('../../test/support/postgres-cluster.ts', import.meta.url);
    this.cluster = await PostgresCluster.start();
    await this.cluster.query(
      `CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, status text NOT NULL, total numeric NOT NULL, placed_at timestamptz NOT NULL)`,
    );
    this.server = this.spawn('server-child.mjs', ['--import', 'tsx', '--max-old-space-size=4096']);
    ({ url: this.url } = await request(this.server, {
      cmd: 'start',
      postgresUrl: this.cluster.url(),
      table: TABLE,
      object: OBJECT,
      key: KEY,
    }));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { postgres } = await request(this.server, { cmd: 'stats' });
      if (postgres === 'streaming') break;
      if (Date.now() > deadline) throw new Error(`the replication stream is ${postgres}, not streaming`);
      await sleep(50);
    }
    for (let i = 0; i < size.clientProcesses; i++) {
      this.clients.push({ child: this.spawn('client-child.mjs', ['--max-old-space-size=4096']), n: 0 });
    }
  }

  /** Subscribers connected so far, over every client process. */
  get subscribers() {
    return this.clients.reduce((sum, c) => sum + c.n, 0);
  }

  /** Opens connections until there are `total`, spread evenly over the client processes; resolves with the ms it took. */
  async connect(total) {
    const started = Date.now();
    const add = this.clients.map(() => 0);
    for (let next = this.subscribers; next < total; next++) {
      const least = this.clients.reduce(
        (best, c, j) => (c.n + add[j] < this.clients[best].n + add[best] ? j : best),
        0,
      );
      add[least]++;
    }
    await Promise.all(
      this.clients.map(async (client, j) => {
        if (add[j] === 0) return;
        await request(client.child, {
          cmd: 'connect',
          url: this.url,
          key: KEY,
          channels: CHANNELS,
          n: add[j],
          concurrency: 25,
        });
        client.n += add[j];
      }),
    );
    return Date.now() - started;
  }

  /** Deliveries so far over every client process, and the latest receive time. */
  async progress() {
    const all = await Promise.all(this.clients.map(({ child }) => request(child, { cmd: 'progress' })));
    return {
      count: all.reduce((sum, p) => sum + p.count, 0),
      lastRecv: Math.max(...all.map((p) => p.lastRecv)),
    };
  }

  /** Waits until `expected` deliveries have arrived, or none has for STALL_MS. */
  async drain(expected) {
    let last = { count: -1 };
    let changed = Date.now();
    for (;;) {
      const now = await this.progress();
      if (now.count >= expected) return now;
      if (now.count !== last.count) changed = Date.now();
      else if (Date.now() - changed > STALL_MS) return now;
      last = now;
      await sleep(25);
    }
  }

  /** Latencies and counts since the last collect, merged over the client processes. */
  async collect() {
    const all = await Promise.all(this.clients.map(({ child }) => request(child, { cmd: 'collect' })));
    const closed = {};
    for (const c of all)
      for (const [code, n] of Object.entries(c.closed)) closed[code] = (closed[code] ?? 0) + n;
    return {
      count: all.reduce((sum, c) => sum + c.count, 0),
      bytes: all.reduce((sum, c) => sum + c.bytes, 0),
      frames: all.reduce((sum, c) => sum + c.frames, 0),
      histogram: merge(all.map((c) => c.histogram)),
      sentHistogram: merge(all.map((c) => c.sentHistogram)),
      closed,
      unexpected: all.flatMap((c) => c.unexpected),
    };
  }

  /** CPU so far: the dev server's process, the client processes' and the cluster's. */
  async cpu() {
    const stats = await request(this.server, { cmd: 'stats' });
    const clients = await Promise.all(this.clients.map(({ child }) => request(child, { cmd: 'progress' })));
    const postgres = postgresCpu(join(this.cluster.dir, 'data'));
    return {
      now: Date.now(),
      serverMs: (stats.cpu.user + stats.cpu.system) / 1000,
      clientsMs: clients.reduce((sum, c) => sum + (c.cpu.user + c.cpu.system) / 1000, 0),
      postgresMs: postgres.totalMs,
      walsenderMs: postgres.walsenderMs,
      benchMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      machineMs: machineCpuMs(),
    };
  }

  /** Ends the server, the clients and the cluster (once, whatever state they are in). */
  end() {
    return (this.#ending ??= (async () => {
      if (this.server) {
        const exited = new Promise((resolve) => this.server.once('exit', resolve));
        if (this.server.exitCode === null) {
          await Promise.race([request(this.server, { cmd: 'exit' }).catch(() => undefined), sleep(4000)]);
          await Promise.race([exited, sleep(2000)]);
        }
        this.server.kill('SIGKILL');
      }
      for (const { child } of this.clients) {
        await Promise.race([request(child, { cmd: 'close' }).catch(() => undefined), sleep(2000)]);
        child.kill('SIGKILL');
      }
      await this.cluster?.stop();
    })());
  }
}

/** One phase: its writes, then every delivery, measured. */
async function phase(rig, spec) {
  const subscribers = rig.subscribers;
  const before = await rig.cpu();
  const written = await spec.write();
  const expected = spec.rows * subscribers;
  const progress = await rig.drain(expected);
  const after = await rig.cpu();
  const got = await rig.collect();
  const arrivals = await request(rig.server, { cmd: 'arrivals' });
  const activeMs = progress.lastRecv - written.firstWrite;
  const wallMs = after.now - before.now;
  const used = (key) => after[key] - before[key];
  const ours = used('serverMs') + used('clientsMs') + used('postgresMs') + used('benchMs');
  return {
    ...spec,
    subscribers,
    rowsPerSecondCommitted: spec.rows / ((written.lastWrite - written.firstWrite) / 1000),
    rowsPerSecondDelivered: spec.rows / (activeMs / 1000),
    deliveriesPerSecond: got.count / (activeMs / 1000),
    p50: percentile(got.histogram, 50),
    p99: percentile(got.histogram, 99),
    max: got.histogram.at(-1)?.[0] ?? NaN,
    sentP50: percentile(got.sentHistogram, 50),
    sentP99: percentile(got.sentHistogram, 99),
    arrivalP50: percentile(arrivals, 50),
    arrivalP99: percentile(arrivals, 99),
    serverCpuPercent: (used('serverMs') / wallMs) * 100,
    clientsCpuPercent: (used('clientsMs') / wallMs) * 100,
    writersCpuPercent: (used('benchMs') / wallMs) * 100,
    // What the machine spent beyond this benchmark's processes (never below 0: /proc counts in 10 ms ticks).
    otherCpuPercent: Math.max(0, ((used('machineMs') - ours) / wallMs) * 100),
    postgresCpuPercent: (used('postgresMs') / wallMs) * 100,
    serverCpuMsPerRow: used('serverMs') / spec.rows,
    walsenderCpuMsPerRow: used('walsenderMs') / spec.rows,
    bytesPerDelivery: got.bytes / Math.max(1, got.count),
    eventsPerFrame: got.count / Math.max(1, got.frames),
    lost: Math.max(0, expected - got.count),
    extra: Math.max(0, got.count - expected),
    closed: got.closed,
    unexpected: got.unexpected,
  };
}

/** @param {{ smoke: boolean, log: (line: string) => void }} options */
export async function run({ smoke, log }) {
  const size = smoke ? SIZES.smoke : SIZES.full;
  const rig = new Rig();
  const onSignal = (signal) => {
    void rig.end().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await rig.start(size);
    const pgUrl = rig.cluster.url();
    let nextPg = 1;
    let nextRest = 1;
    const ids = (path, rows) => {
      if (path === 'pg') return (nextPg += rows) - rows;
      return (nextRest += rows) - rows;
    };
    const rest = { url: rig.url, key: KEY, object: OBJECT };
    const { rate, durationMs } = size.steady;
    const steadyRows = Math.round((rate * durationMs) / 1000);
    const steadyLabel = `steady ${rate} rows/s for ${durationMs / 1000} s`;
    const steady = [
      {
        path: 'pg',
        writes: `${steadyLabel}, 1-row transactions`,
        rows: steadyRows,
        write: () => pgSteady({ url: pgUrl, firstId: ids('pg', steadyRows), rate, durationMs }),
      },
      {
        path: 'rest',
        writes: `${steadyLabel}, POST each`,
        rows: steadyRows,
        write: () => restSteady({ ...rest, firstId: ids('rest', steadyRows), rate, durationMs }),
      },
    ];
    const fast = [
      {
        path: 'pg',
        writes: `as fast as possible: ${size.batched.clients} connections × INSERT of ${size.batched.perTransaction} rows per transaction`,
        rows: size.batched.rows,
        write: () => pgBurst({ url: pgUrl, firstId: ids('pg', size.batched.rows), ...size.batched }),
      },
      {
        path: 'pg',
        writes: `as fast as possible: ${size.single.clients} connections × 1-row transactions`,
        rows: size.single.rows,
        write: () =>
          pgBurst({
            url: pgUrl,
            firstId: ids('pg', size.single.rows),
            rows: size.single.rows,
            perTransaction: 1,
            clients: size.single.clients,
          }),
      },
      {
        path: 'rest',
        writes: `as fast as possible: ${size.rest.concurrency} concurrent POSTs`,
        rows: size.rest.rows,
        write: () => restBurst({ ...rest, firstId: ids('rest', size.rest.rows), ...size.rest }),
      },
    ];

    const results = [];
    const measure = async (specs) => {
      for (const spec of specs) {
        const r = await phase(rig, spec);
        results.push(r);
        log(
          `${r.subscribers} subscriber${r.subscribers === 1 ? '' : 's'}, ${PATH[r.path]}, ${r.writes}: ` +
            `${thousands(r.rows)} rows committed at ${round(r.rowsPerSecondCommitted)}/s, delivered to all at ` +
            `${round(r.rowsPerSecondDelivered)} rows/s (${round(r.deliveriesPerSecond)} deliveries/s); commit → delivered ` +
            `p50 ${r.p50} p99 ${r.p99} max ${r.max} ms, commit → server p50 ${r.arrivalP50} p99 ${r.arrivalP99} ms, ` +
            `sent → delivered p50 ${r.sentP50} p99 ${r.sentP99} ms; CPU % server ${round(r.serverCpuPercent)}, ` +
            `PostgreSQL ${round(r.postgresCpuPercent)}, subscribers ${round(r.clientsCpuPercent)}, ` +
            `writers ${round(r.writersCpuPercent)}, others ${round(r.otherCpuPercent)}; lost ${r.lost}`,
        );
        await sleep(smoke ? 100 : 1000);
      }
    };

    // The path alone: one subscriber, so that fan-out costs next to nothing.
    await rig.connect(1);
    // Warm-up, not measured: the type catalog, the first relation message, JIT of both paths.
    await pgSteady({
      url: pgUrl,
      firstId: ids('pg', size.warmup),
      rate: 200,
      durationMs: (size.warmup / 200) * 1000,
    });
    await restSteady({
      ...rest,
      firstId: ids('rest', size.warmup),
      rate: 200,
      durationMs: (size.warmup / 200) * 1000,
    });
    await rig.drain(2 * size.warmup);
    await rig.collect();
    await request(rig.server, { cmd: 'arrivals' });
    await measure([...steady, ...fast]);

    const connectMs = await rig.connect(size.subscribers);
    log(`${size.subscribers} subscribers connected (${connectMs} ms)`);
    await sleep(smoke ? 100 : 1000);
    await measure([...steady, ...fast]);
    return report(size, results, smoke);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rig.end();
  }
}

/** The table, targets and notes of a run. */
function report(size, results, smoke) {
  const rows = results.map((r) => [
    thousands(r.subscribers),
    PATH[r.path],
    r.writes,
    thousands(r.rows),
    round(r.rowsPerSecondCommitted),
    round(r.rowsPerSecondDelivered),
    round(r.deliveriesPerSecond),
    `${round(r.p50)} / ${round(r.p99)} / ${round(r.max)}`,
    r.path === 'pg' ? `${round(r.arrivalP50)} / ${round(r.arrivalP99)}` : '—',
    `${round(r.sentP50)} / ${round(r.sentP99)}`,
    round(r.serverCpuPercent),
    round(r.postgresCpuPercent),
    r.lost,
  ]);
  const wrong = results.reduce((sum, r) => sum + r.lost + r.extra, 0);
  const targets = [
    {
      name: 'deliveries lost or doubled, every phase',
      target: '0',
      actual: String(wrong),
      met: wrong === 0,
      note: wrong === 0 ? '' : 'see the notes',
    },
  ];
  // Five phases with one subscriber, then the same five with all of them.
  const phases = (from) => {
    const [pgSteady, restSteady, batched, single, rest] = results.slice(from, from + 5);
    return { pgSteady, restSteady, batched, single, rest };
  };
  const alone = phases(0);
  const all = phases(5);
  const n = thousands(size.subscribers);
  const per = size.batched.perTransaction;
  const µs = (ms) => `${round(ms * 1000)} µs`;
  const times = (a, b) => `${round(a / b, 2)}×`;
  const inOrder = (key) => results.map((r) => round(r[key])).join(', ');
  const [load1, load5] = loadavg();
  const receiverBound = [all.batched, all.single, all.rest].every(
    (r) => r.clientsCpuPercent > r.serverCpuPercent,
  );
  const notes = [
    `Subscribers: WebSocket connections from ${size.clientProcesses === 1 ? 'one client process' : `${size.clientProcesses} client processes`}, ` +
      `each with two subscriptions and no filter, \`${CHANNELS.pg}\` and \`${CHANNELS.mem}\`; a phase writes to one of them. ` +
      `Every phase runs first with one subscriber, which shows the path itself with next to no fan-out, then with ${n}. One dev ` +
      `server process (\`createDevServer\`, flushIntervalMs 0) exposes the table ` +
      `\`${TABLE}(id bigint primary key, status text, total numeric, placed_at timestamptz)\` to acme/production from a private ` +
      `PostgreSQL 15 cluster (wal_level=logical, fsync=off, otherwise defaults) and keeps \`${OBJECT}\` in memory; both paths ` +
      "write the same four values per row. The writers run in the benchmark's own process: `pg` connections (a batch is one " +
      '`INSERT … SELECT FROM unnest($1…$4)`, one transaction) or keep-alive HTTP connections posting one record each ' +
      `(${smoke ? 'smoke sizes: the numbers mean nothing' : 'full sizes'}).`,
    "Latency is commit to delivery: the receiving client's `Date.now()` − the event's `timestamp` (same machine, same clock, whole " +
      "ms), which is the transaction's commit time in PostgreSQL for a row event and the moment the server committed the POST for a " +
      'record event; p50/p99/max over every delivery of the phase. "commit → server" is the part before the dev server hands the ' +
      "rows to its engine (PostgreSQL's commit, the walsender's decoding, the replication connection, parsing and value mapping, and " +
      'any wait for the server\'s event loop); the REST path has no such part. "sent → delivered" is the receive time − the ' +
      "row's `placed_at`, which the writer set just before it sent the row: the same start on both paths, so it also counts a " +
      "POST's wait for the server's event loop, which the record's commit time does not see.",
    'Rows/s committed: rows ÷ (last write answered − first write started). Rows/s delivered to all: rows ÷ (last delivery at the ' +
      'last subscriber − first write started); deliveries/s counts every delivery the same way. The steady rows are bounded by the ' +
      'rate and give latency without a backlog; the "as fast as possible" rows give throughput, and their latency is mostly the ' +
      "backlog. CPU %: user + system time over the phase's wall time (100 % = one core); PostgreSQL's is the postmaster and its " +
      "children (the writers' backends, the WAL writer, the walsender).",
    `The path itself (1 subscriber): ${per}-row transactions reach the subscriber at ` +
      `${times(alone.batched.rowsPerSecondDelivered, alone.rest.rowsPerSecondDelivered)} the rows/s of REST creates, one-row ` +
      `transactions at ${times(alone.single.rowsPerSecondDelivered, alone.rest.rowsPerSecondDelivered)}. Dev server CPU per row: ` +
      `${µs(alone.batched.serverCpuMsPerRow)} (${per}-row transactions: replication message parsing, value mapping, commit), ` +
      `${µs(alone.single.serverCpuMsPerRow)} (one-row), ${µs(alone.rest.serverCpuMsPerRow)} (REST: HTTP and JSON parsing, ` +
      `commit); the walsender (WAL decoding, pgoutput) ${µs(alone.batched.walsenderCpuMsPerRow)} and ` +
      `${µs(alone.single.walsenderCpuMsPerRow)} per row. At the steady rate, commit → delivered is p50 ${alone.pgSteady.p50} / ` +
      `p99 ${alone.pgSteady.p99} ms against ${alone.restSteady.p50} / ${alone.restSteady.p99} ms, of which commit → server ` +
      `${alone.pgSteady.arrivalP50} / ${alone.pgSteady.arrivalP99} ms: what a row costs in time before the server has it.`,
    `At ${n} subscribers: ${per}-row transactions reach every subscriber at ` +
      `${times(all.batched.rowsPerSecondDelivered, all.rest.rowsPerSecondDelivered)} the REST baseline's rows/s, one-row ` +
      `transactions at ${times(all.single.rowsPerSecondDelivered, all.rest.rowsPerSecondDelivered)}. Here the fan-out is the cost ` +
      `for both paths — dev server CPU per row ${µs(all.batched.serverCpuMsPerRow)}, ${µs(all.single.serverCpuMsPerRow)} and ` +
      `${µs(all.rest.serverCpuMsPerRow)} — and in the "as fast as possible" rows the subscribers' process used ` +
      `${round(all.batched.clientsCpuPercent)}, ${round(all.single.clientsCpuPercent)} and ${round(all.rest.clientsCpuPercent)} % ` +
      `CPU against the server's ${round(all.batched.serverCpuPercent)}, ${round(all.single.serverCpuPercent)} and ` +
      `${round(all.rest.serverCpuPercent)} %${receiverBound ? ': on this machine those rows/s measure the receiving side as much as either path' : ''}. ` +
      "The server commits a transaction's rows in one turn, so they go out in one batch frame per subscriber, and rows committed " +
      '(or POSTs answered) in the same turn share it: events per frame ' +
      `${round(all.batched.eventsPerFrame)}, ${round(all.single.eventsPerFrame)} and ${round(all.rest.eventsPerFrame)} ` +
      `(at the steady rate ${round(all.pgSteady.eventsPerFrame, 1)} and ${round(all.restSteady.eventsPerFrame, 1)}).`,
    `Latency at the steady rate, ${n} subscribers: commit → delivered p50 ${all.pgSteady.p50} ms (PostgreSQL) against ` +
      `${all.restSteady.p50} ms (REST), p99 ${all.pgSteady.p99} against ${all.restSteady.p99} ms; sent → delivered p50 ` +
      `${all.pgSteady.sentP50} against ${all.restSteady.sentP50} ms, p99 ${all.pgSteady.sentP99} against ` +
      `${all.restSteady.sentP99} ms. Of the PostgreSQL path's, commit → server is ${all.pgSteady.arrivalP50} ms at the p50 ` +
      `(${all.pgSteady.arrivalP99} ms at the p99): the path's own ${alone.pgSteady.arrivalP50} ms (1 subscriber) plus the wait ` +
      `for an event loop busy with the fan-out (server CPU ${round(all.pgSteady.serverCpuPercent)} %), a wait that a POST spends ` +
      'before its commit time is taken; from the engine on, both paths are the same fan-out. Bytes per delivery: row event ' +
      `${round(all.batched.bytesPerDelivery)}, record event ${round(all.rest.bytesPerDelivery)} (\`table\`, \`schema\`, ` +
      '`xid` and `lsn` against `createdAt` and `updatedAt`).',
    `Other CPU %, rows in table order — the subscribers' process: ${inOrder('clientsCpuPercent')}; the writers (the ` +
      `benchmark's process): ${inOrder('writersCpuPercent')}; every other process on the machine (none of this benchmark's): ` +
      `${inOrder('otherCpuPercent')}. Load average at the end: ${round(load1, 1)} (1 min), ${round(load5, 1)} (5 min), on ` +
      `${cpus().length} cores.`,
  ];
  for (const r of results) {
    if (r.lost || r.extra || Object.keys(r.closed).length || r.unexpected.length) {
      notes.push(
        `${r.subscribers} subscribers, ${PATH[r.path]}, ${r.writes}: ${r.lost} lost, ${r.extra} extra; connections closed ` +
          `by code ${JSON.stringify(r.closed)}; unexpected frames: ${JSON.stringify(r.unexpected)}`,
      );
    }
  }
  return {
    title: 'PostgreSQL rows to subscribers',
    table: {
      columns: [
        'subscribers',
        'path',
        'writes',
        'rows',
        'rows/s committed',
        'rows/s delivered to all',
        'deliveries/s',
        'commit → delivered p50 / p99 / max ms',
        'commit → server p50 / p99 ms',
        'sent → delivered p50 / p99 ms',
        'server CPU %',
        'PostgreSQL CPU %',
        'lost',
      ],
      rows,
    },
    targets,
    notes,
  };
}
