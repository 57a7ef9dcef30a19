/**
 * A private PostgreSQL 15 cluster for a test (issue 14): `initdb` into a temporary folder, started
 * with `wal_level=logical` on a free port of 127.0.0.1 (and a Unix socket in the folder), so runs
 * never share state with each other or with the machine's own cluster. As root (CI), the server
 * runs as the `postgres` user, since `initdb` refuses root. `stop()` removes everything.
 * `npm run demo:postgres` (scripts/demo-postgres.mjs) runs its demo on one too.
 *
 * The binaries come from Debian's `postgresql` package (`/usr/lib/postgresql/15/bin`, or
 * `PG_BIN`); `.ci/run` installs it where it is missing.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './test-server.js';

const run = promisify(execFile);

/** Where the PostgreSQL binaries are. */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Extra server settings (`-c name=value`) a test may ask for. */
export type ClusterSettings = Readonly<Record<string, string | number>>;

/** A running private cluster. */
export class PostgresCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly settings: ClusterSettings,
  ) {}

  /** Creates and starts a cluster (about a second). */
  static async start(settings: ClusterSettings = {}): Promise<PostgresCluster> {
    if (!existsSync(join(PG_BIN, 'initdb'))) {
      throw new Error(
        `no PostgreSQL binaries in ${PG_BIN}: install Debian's postgresql package (apt-get install -y postgresql) or set PG_BIN`,
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'catalyst-pg-'));
    chmodSync(dir, 0o755);
    if (isRoot()) chownSync(dir, postgresUid(), postgresGid());
    const cluster = new PostgresCluster(dir, await freePort(), { wal_level: 'logical', ...settings });
    try {
      await cluster.asServerUser(join(PG_BIN, 'initdb'), [
        '-D',
        cluster.dataDir,
        '-A',
        'trust',
        '-U',
        'postgres',
        '-E',
        'UTF8',
        '--no-sync',
      ]);
      await cluster.pgCtl('start');
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return cluster;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** A connection URL (TCP, trust auth) for `database` as `user`. */
  url(database = 'postgres', user = 'postgres'): string {
    return `postgres://${user}@127.0.0.1:${this.port}/${database}`;
  }

  /** Runs SQL over a fresh connection and returns the rows of the last statement. */
  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    database = 'postgres',
  ): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      const result = await client.query<R>(sql, params as unknown[]);
      return result.rows;
    } finally {
      await client.end();
    }
  }

  /** Runs SQL with the `psql` command-line client, as another service or a person would. */
  async psql(sql: string, database = 'postgres'): Promise<string> {
    const { stdout } = await run(
      join(PG_BIN, 'psql'),
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '-d',
        database,
        '-c',
        sql,
      ],
      { env: { ...process.env, PGCONNECT_TIMEOUT: '5' } },
    );
    return stdout;
  }

  /** Stops the server (`fast` by default) and starts it again on the same port. */
  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pgCtl('stop', mode);
    await this.pgCtl('start');
  }

  /** Stops the server, leaving its data. */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pgCtl('stop', mode);
  }

  /** Starts a stopped server again. */
  async startServer(): Promise<void> {
    await this.pgCtl('start');
  }

  /** Stops the server and removes the cluster. */
  async stop(): Promise<void> {
    try {
      await this.pgCtl('stop', 'immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async pgCtl(action: 'start' | 'stop', mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const options = [
      ...Object.entries(this.settings).map(([name, value]) => `-c ${name}=${value}`),
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
    ].join(' ');
    const args =
      action === 'start'
        ? ['-D', this.dataDir, '-l', join(this.dir, 'log'), '-w', '-t', '30', '-o', options, 'start']
        : ['-D', this.dataDir, '-w', '-t', '30', '-m', mode, 'stop'];
    await this.asServerUser(join(PG_BIN, 'pg_ctl'), args);
  }

  /**
   * Runs `initdb` or `pg_ctl` in a process group of its own, so that a Ctrl-C meant for the
   * caller (scripts/demo-postgres.mjs) never cuts one short: a `pg_ctl start` interrupted after
   * the postmaster is up leaves it running (pg_ctl puts it in its own session) while its folder is
   * removed. The caller stops the cluster once the step is over.
   */
  private async asServerUser(command: string, args: readonly string[]): Promise<void> {
    const [file, argv] = isRoot()
      ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
      : [command, [...args]];
    // spawn, not execFile: execFile does not pass `detached` on.
    const child = spawn(file, argv as string[], {
      cwd: this.dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const failure = await new Promise<string | undefined>((resolve) => {
      child.on('error', (error) => resolve(error.message));
      child.on('close', (code, signal) =>
        resolve(code === 0 ? undefined : output || `exit ${code ?? signal}`),
      );
    });
    if (failure !== undefined) throw new Error(`${command} ${args.join(' ')} failed: ${failure}`);
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function postgresUid(): number {
  return Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
}

function postgresGid(): number {
  return Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
}
