/**
 * A private `redis-server` for a test (issue 15): on a free port of 127.0.0.1, without persistence
 * (`--save '' --appendonly no`), its files in a temporary folder, so runs never share state with
 * each other or with the machine's own Redis. `restart()` keeps the port, so clients reconnect to
 * an empty Redis, as after a crash of a Redis that persists nothing. `stop()` removes everything.
 *
 * The binary comes from Debian's `redis-server` package (or `REDIS_SERVER`); `.ci/run` installs
 * it where it is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort, portAccepts } from './test-server.js';

/** The redis-server binary. */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** A running private Redis. */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** Starts a Redis (a few tens of milliseconds). */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(mkdtempSync(join(tmpdir(), 'catalyst-redis-')), await freePort());
    try {
      await server.launch();
    } catch (error) {
      rmSync(server.dir, { recursive: true, force: true });
      throw error;
    }
    return server;
  }

  /** The URL clients connect to. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** A connection for the helper's own commands: it fails instead of retrying. */
  private client() {
    return createClient({ url: this.url, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
  }

  /** Runs one command on a fresh connection and returns its reply. */
  async command(...args: string[]): Promise<unknown> {
    const client = this.client();
    client.on('error', () => {});
    await client.connect();
    try {
      return await client.sendCommand(args);
    } finally {
      client.destroy();
    }
  }

  /** Drops every key (`FLUSHALL`): what a Redis that lost its data looks like. */
  async flushAll(): Promise<void> {
    await this.command('FLUSHALL');
  }

  /** Closes the server's connections of one type (`CLIENT KILL TYPE pubsub`); returns how many. */
  async clientKill(type: 'pubsub' | 'normal'): Promise<number> {
    return Number(await this.command('CLIENT', 'KILL', 'TYPE', type));
  }

  /**
   * Closes every subscriber connection (`CLIENT KILL TYPE pubsub`) and keeps them away: new
   * connections are refused (a password is set, which the open ones do not need) until the
   * returned function is called. node-redis reconnects within a millisecond otherwise, too soon
   * for a test to publish anything the subscriber would miss.
   */
  async cutSubscribers(): Promise<{ killed: number; readmit: () => Promise<void> }> {
    const client = this.client();
    client.on('error', () => {});
    await client.connect();
    try {
      await client.sendCommand(['CONFIG', 'SET', 'requirepass', `locked-${process.pid}`]);
      const killed = Number(await client.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']));
      const readmit = async () => {
        try {
          await client.sendCommand(['CONFIG', 'SET', 'requirepass', '']);
        } finally {
          client.destroy();
        }
      };
      return { killed, readmit };
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  /** Holds every client's commands for `ms` (`CLIENT PAUSE … ALL`): a Redis that hangs. */
  async pause(ms: number): Promise<void> {
    await this.command('CLIENT', 'PAUSE', String(ms), 'ALL');
  }

  /** Stops the server at once (SIGKILL): its data is gone, its port refuses connections. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  /** Starts the server again on the same port, empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Stops the server and removes its folder. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(
          new Error(
            `cannot run ${REDIS_SERVER}: install Debian's redis-server package (apt-get install -y redis-server) or set REDIS_SERVER (${error.message})`,
          ),
        ),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${stderr}`)));
    });
    this.process = child;
    await Promise.race([failed, portAccepts(this.port, 'redis-server')]);
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
  }
}
