/**
 * A private NATS server for a test (issue 15): `nats-server -a 127.0.0.1 -p PORT -js -sd DIR` on a
 * free port, with JetStream's store in a temporary folder, so runs never share streams. `stop()`
 * keeps the folder and the port, and `restart()` brings the same server back, streams and stored
 * messages included; `remove()` stops it and deletes everything.
 *
 * Users (`{user, password}`) may be required; `setUsers()` changes them on the running server
 * (a configuration reload, SIGHUP), connections staying open. Measured on nats-server 2.9.10:
 * after such a reload JetStream's API stops answering users of the default account (requests
 * time out), so a test that reloads users runs without JetStream.
 *
 * The binary is Debian's `nats-server` package (`/usr/sbin/nats-server`, or `NATS_SERVER`);
 * `.ci/run` installs it where it is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './test-server.js';

/** Where the nats-server binary is. */
export const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';

/** A user the server accepts. */
export type NatsUser = { user: string; password: string };

/** A running (or stopped) private NATS server. */
export class NatsServer {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly jetstream: boolean,
  ) {}

  /**
   * Starts a server (a few tens of milliseconds); with `users`, only they may connect; with
   * `jetstream: false`, without JetStream (core NATS only).
   */
  static async start(
    options: { users?: readonly NatsUser[]; jetstream?: boolean } = {},
  ): Promise<NatsServer> {
    if (!existsSync(NATS_SERVER)) {
      throw new Error(
        `no nats-server at ${NATS_SERVER}: install Debian's nats-server package (apt-get install -y nats-server) or set NATS_SERVER`,
      );
    }
    const server = new NatsServer(
      mkdtempSync(join(tmpdir(), 'catalyst-nats-')),
      await freePort(),
      options.jetstream ?? true,
    );
    server.writeConfig(options.users);
    try {
      await server.restart();
    } catch (error) {
      rmSync(server.dir, { recursive: true, force: true });
      throw error;
    }
    return server;
  }

  /** `nats://127.0.0.1:PORT`, with credentials when given. */
  url(user?: NatsUser): string {
    const credentials = user ? `${encodeURIComponent(user.user)}:${encodeURIComponent(user.password)}@` : '';
    return `nats://${credentials}127.0.0.1:${this.port}`;
  }

  /** Whether the server runs now. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server again on its port with its store; waits until it takes connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('nats-server is running already');
    this.log = '';
    const args = ['-c', this.configFile, '-a', '127.0.0.1', '-p', String(this.port)];
    if (this.jetstream) args.push('-js', '-sd', join(this.dir, 'store'));
    const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.log += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    await this.waitForLog(/Server is ready/, exited, 'start');
  }

  /** Stops the server (SIGKILL: as if it crashed), keeping its store for `restart()`. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  /** Replaces the users who may connect (`undefined`: anyone); reloads a running server. */
  async setUsers(users: readonly NatsUser[] | undefined): Promise<void> {
    this.writeConfig(users);
    const child = this.child;
    if (!child) return;
    const reloads = this.log.split('Reloaded server configuration').length;
    child.kill('SIGHUP');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await this.waitForLog(
      (log) => log.split('Reloaded server configuration').length > reloads,
      exited,
      'reload its configuration',
    );
  }

  /** Stops the server and deletes its folder. */
  async remove(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get configFile(): string {
    return join(this.dir, 'nats.conf');
  }

  private writeConfig(users: readonly NatsUser[] | undefined): void {
    const lines = users
      ? [
          'authorization {',
          '  users = [',
          ...users.map(
            (u) => `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)} }`,
          ),
          '  ]',
          '}',
        ]
      : [];
    writeFileSync(this.configFile, `${lines.join('\n')}\n`);
  }

  private async waitForLog(
    done: RegExp | ((log: string) => boolean),
    exited: Promise<void>,
    what: string,
  ): Promise<void> {
    const test = typeof done === 'function' ? done : (log: string) => done.test(log);
    let gone = false;
    void exited.then(() => (gone = true));
    const deadline = Date.now() + 10_000;
    while (!test(this.log)) {
      if (gone) throw new Error(`nats-server exited before it could ${what}:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not ${what} within 10 s:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
