/**
 * `npm run demo:postgres` (scripts/demo-postgres.mjs) as its user sees it (issue 14, item 7):
 * without `DATABASE_URL` it creates a private PostgreSQL 15 cluster, seeds the demo's tables and
 * serves the unchanged demo page, whose `<live-record-list object="orders">` then reads the
 * `orders` table. Headless Chromium opens the page; the test writes with the `psql` command line
 * client — the command the script prints, pasted as printed, and others — and the page must show
 * every change live. Ctrl-C must stop it and remove the cluster. With `DATABASE_URL` (a cluster
 * this test starts) it uses that database: tables created and seeded once, the slot dropped on exit.
 *
 * Builds nothing: it needs dist/ from `npx vite build` (scripts/test.mjs builds first).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { type Browser, type Page } from 'playwright-core';
import { DEMO_KEYS } from '../../dev-server/engine/demo-data.js';
import type { RecordListResponse } from '../../protocol/index.js';
import { REPO_ROOT } from '../support/cli-process.js';
import { demoListItems, eventually, launchChromium, type DemoListRow } from '../support/browser.js';
import { PG_BIN, PostgresCluster } from '../support/postgres-cluster.js';
import { rest } from '../support/raw-client.js';

const run = promisify(execFile);
const euros = new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' });

/** What one item of the page's list shows. */
type Row = DemoListRow;

/** The script, running: its output so far and how it exited. */
class DemoScript {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private done = false;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.done = true;
        resolve(code);
      }),
    );
  }

  /** Runs the script on a free port, flushing every 20 ms, with `databaseUrl` or none. */
  static start(databaseUrl?: string): DemoScript {
    const { DATABASE_URL: _ignored, ...env } = process.env;
    const child = spawn(process.execPath, ['scripts/demo-postgres.mjs', '--port', '0', '--flush-ms', '20'], {
      cwd: REPO_ROOT,
      env: databaseUrl === undefined ? env : { ...env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new DemoScript(child);
  }

  /** Waits for the CLI's last start-up line; resolves with what the script printed to stdout. */
  async ready(): Promise<string[]> {
    // Up to a minute: the script builds first when the sources are newer than dist/.
    await eventually(
      async () => (this.done ? 'exited' : this.stdout),
      (text) => text === 'exited' || /static files/.test(text),
      'demo-postgres.mjs printed no "static files" line',
      60_000,
    );
    assert.ok(!this.done, `the script exited early: ${this.stderr}`);
    return this.stdout.split('\n');
  }

  /** Ctrl-C as a terminal sends it; resolves with the exit code (SIGKILL after 15 s). */
  async interrupt(): Promise<number | null> {
    if (this.done) return this.exited;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs SQL with the `psql` client, as a person at a terminal would. */
async function psql(url: string, sql: string): Promise<string> {
  const { stdout } = await run(join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);
  return stdout;
}

/** Stops and removes a cluster the script left behind (only when a test failed half way). */
function removeLeftCluster(dir: string | undefined): void {
  if (!dir || !existsSync(dir)) return;
  const stop = [join(PG_BIN, 'pg_ctl'), '-D', join(dir, 'data'), '-m', 'immediate', 'stop'];
  if (process.getuid?.() === 0) spawnSync('runuser', ['-u', 'postgres', '--', ...stop]);
  else spawnSync(stop[0] as string, stop.slice(1));
  rmSync(dir, { recursive: true, force: true });
}

describe('npm run demo:postgres on a private cluster, with the demo page in Chromium', () => {
  let script: DemoScript;
  let lines: string[];
  let url: string;
  let databaseUrl: string;
  let clusterDir: string | undefined;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const shown = (): Promise<Row[]> => demoListItems(page);

  /** What the list must show now, read from the table itself: the page's query as SQL. */
  async function truth(limit = 8): Promise<Row[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; title: string; total: string }>(
        `SELECT id, title, total::text FROM orders WHERE status = 'pending'
          ORDER BY "createdAt" DESC, id LIMIT $1`,
        [limit],
      );
      return rows.map((row) => ({ id: row.id, title: row.title, total: euros.format(Number(row.total)) }));
    } finally {
      await client.end();
    }
  }

  /** Waits until the list shows exactly what the table holds now. */
  async function listMatchesTruth(message: string): Promise<Row[]> {
    const expected = await truth();
    return eventually(shown, (rows) => JSON.stringify(rows) === JSON.stringify(expected), message);
  }

  /** What the page's `<live-record>` (order o38) shows. */
  const record = () =>
    page.evaluate(() => {
      const root = document.querySelector('live-record')?.shadowRoot;
      const [status, total] = ['status', 'total'].map(
        (field) => root?.querySelector(`[data-field="${field}"]`)?.textContent ?? '',
      );
      return { status, total };
    });

  before(async () => {
    script = DemoScript.start();
    lines = await script.ready();
    url = /^catalyst-dev-server listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0] ?? '')?.[1] ?? '';
    databaseUrl = /^ {2}database: (postgres:\/\/\S+) /.exec(lines[2] ?? '')?.[1] ?? '';
    clusterDir = /private PostgreSQL 15 cluster in (\S+),/.exec(lines[2] ?? '')?.[1];
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await page.goto(`${url}/`);
  });

  after(async () => {
    await browser?.close();
    await script?.interrupt();
    removeLeftCluster(clusterDir);
  });

  it('prints the page, the database of its private cluster and psql commands to paste', () => {
    assert.ok(url, `first line: ${lines[0]}`);
    assert.equal(lines[1], `  demo page: ${url}/`);
    assert.match(
      lines[2] ?? '',
      /^ {2}database: postgres:\/\/postgres@127\.0\.0\.1:\d+\/demo \(a private PostgreSQL 15 cluster in \S+, removed on exit\)$/,
    );
    assert.ok(clusterDir && existsSync(clusterDir), 'the cluster folder exists while the demo runs');
    const commands = lines.filter((line) => line.startsWith('    psql '));
    assert.deepEqual(
      commands.map((line) => line.trim().split(' -c ')[0]),
      [`psql "${databaseUrl}"`, `psql "${databaseUrl}"`],
    );
    assert.match(commands[0] ?? '', /-c "UPDATE orders SET status = 'shipped' WHERE id = 'o\d+'"$/);
    assert.match(commands[1] ?? '', /-c "INSERT INTO orders /);
  });

  it('lists the seeded pending orders from the orders table', async () => {
    const rows = await listMatchesTruth('the list never showed the seeded orders');
    assert.equal(rows.length, 8, 'the seed has more than 8 pending orders');
    const [count] = await (async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows;
      } finally {
        await client.end();
      }
    })();
    assert.equal(count?.n, 40, "the built-in demo's 40 orders");
  });

  it('moves the list when the printed psql UPDATE ships its first order', async () => {
    const [first] = await shown();
    const next = (await truth(9))[8];
    assert.ok(first && next);
    const command = lines.find((line) => line.includes('UPDATE orders'))?.trim() ?? '';
    assert.ok(command.includes(`id = '${first.id}'`), `${command} names the first order listed`);
    await run('sh', ['-c', command]); // pasted into a shell as printed
    const rows = await listMatchesTruth('the shipped order never left the list');
    assert.ok(!rows.some((row) => row.id === first.id));
    assert.equal(rows.at(-1)?.id, next.id, 'the next pending order moved up');
  });

  it('shows a change made in psql to an order it lists', async () => {
    const [, second] = await shown();
    assert.ok(second);
    await psql(
      databaseUrl,
      `UPDATE orders SET title = '9 × Changed clock', total = 1234 WHERE id = '${second.id}'`,
    );
    const rows = await listMatchesTruth('the change never showed');
    assert.deepEqual(rows[1], { id: second.id, title: '9 × Changed clock', total: '€1,234.00' });
  });

  it('shows an order inserted in psql at the top', async () => {
    const command = lines.find((line) => line.includes('INSERT INTO orders'))?.trim() ?? '';
    await run('sh', ['-c', command]);
    const rows = await listMatchesTruth('the inserted order never appeared');
    assert.deepEqual(rows[0], { id: 'o41', title: '2 × Oak shelf', total: '€198.00' });
  });

  it('drops an order deleted in psql', async () => {
    const [, , third] = await shown();
    assert.ok(third);
    await psql(databaseUrl, `DELETE FROM orders WHERE id = '${third.id}'`);
    const rows = await listMatchesTruth('the deleted order never left');
    assert.ok(!rows.some((row) => row.id === third.id));
  });

  it('updates the live record when psql changes it', async () => {
    await eventually(record, (r) => r.status === 'paid', 'order o38 never showed');
    await psql(databaseUrl, `UPDATE orders SET status = 'shipped', total = 77 WHERE id = 'o38'`);
    await eventually(
      record,
      (r) => r.status === 'shipped' && r.total === '€77.00',
      "the record's change never showed",
    );
  });

  it('ran without a console error, an uncaught error or a failed request', () => {
    assert.deepEqual(problems, []);
  });

  it('stops on Ctrl-C and removes its cluster', async () => {
    const code = await script.interrupt();
    assert.equal(code, 0, `stops gracefully (stderr: ${script.stderr})`);
    assert.match(script.stderr, /catalyst-dev-server: SIGINT, closing/);
    assert.ok(clusterDir && !existsSync(clusterDir), `${clusterDir} is removed`);
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 });
    await assert.rejects(client.connect(), 'nothing answers on the database port');
  });
});

describe('npm run demo:postgres with DATABASE_URL', () => {
  let cluster: PostgresCluster;

  before(async () => {
    cluster = await PostgresCluster.start();
    await cluster.query('CREATE DATABASE shop');
  });
  after(() => cluster?.stop());

  const slots = () =>
    cluster.query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots', [], 'shop');

  it('seeds its tables once, serves them, keeps them and drops its slot on exit', async () => {
    for (const start of ['first', 'second']) {
      const script = DemoScript.start(cluster.url('shop'));
      try {
        const lines = await script.ready();
        const url = /listening on (\S+)$/.exec(lines[0] ?? '')?.[1] ?? '';
        assert.equal(
          lines[2],
          `  database: ${cluster.url('shop')} (DATABASE_URL; its tables stay, replication slot catalyst_demo is dropped on exit)`,
        );
        assert.match(
          script.stderr,
          start === 'first'
            ? /created and seeded tables orders and products/
            : /using the existing tables orders and products/,
        );
        assert.deepEqual(
          (await slots()).map((s) => s.slot_name),
          ['catalyst_demo'],
        );
        const res = await rest({ url }, 'GET', '/api/objects/orders/records?limit=1&sort=id', {
          key: DEMO_KEYS.publishable,
        });
        assert.equal(res.status, 200);
        assert.equal((res.body as RecordListResponse).records[0]?.id, 'o1');
      } finally {
        assert.equal(await script.interrupt(), 0, script.stderr);
      }
      assert.match(script.stderr, /dropped replication slot catalyst_demo/);
      assert.deepEqual(await slots(), [], `${start} start: no slot keeps WAL after the demo`);
    }
    const [count] = await cluster.query<{ n: number }>('SELECT count(*)::int AS n FROM orders', [], 'shop');
    assert.equal(count?.n, 40, 'seeded once; the tables stay');
  });
});
