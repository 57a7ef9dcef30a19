/**
 * A private HAProxy in front of several server processes, for tests of a cluster behind a load
 * balancer (issue 15): on a free port of 127.0.0.1, round-robin over the backends, its config and
 * admin socket in a temporary folder. Every answer names the server that gave it in `X-Backend`
 * (`s1`, `s2`, … in the order the backends were given), and a request that sends `X-Backend: s2`
 * goes to `s2` while it is up: independent dev servers issue one-time tokens for themselves only,
 * so a test pins the token request and the connection that uses it to one server (a cluster does
 * not need this).
 *
 * Settings, and why (HAProxy 2.6, `configuration.txt`):
 * - `option http-server-close`: a new backend connection per request, the client side kept
 *   alive. Each request is balanced on its own either way; without it HAProxy would send later
 *   requests over idle backend connections that Node closes after its 5 s `keepAliveTimeout`, and
 *   a request sent on one as it closes fails (a 502 for a POST, which is never retried). On
 *   127.0.0.1 a connection costs a fraction of a millisecond. A WebSocket upgrade turns the
 *   connection into a tunnel whatever this mode is, and an SSE answer is one long response.
 * - `timeout tunnel 1h`: a WebSocket's inactivity limit once upgraded (it replaces `timeout
 *   client` and `timeout server` there). `timeout client`/`timeout server` 2 min: an SSE stream
 *   stays a response, under those; the servers' heartbeat (30 s by default) keeps it active.
 * - Health checks `GET /healthz` every 500 ms, down after 2 failures, up after 1 success: a
 *   closed backend (refused connection) is out within about a second, a hung one (check timeout
 *   1 s) within about three.
 * - `retries 3` with `option redispatch`: a request whose connection to a backend is refused
 *   (dead, not yet marked down) is sent to another server instead of failing. Only connection
 *   failures are retried (`retry-on` stays `conn-failure`): a request that reached a server is
 *   never sent twice.
 *
 * The binary is Debian's (`apt-get install -y haproxy`, or `HAPROXY`); `.ci/run` installs it
 * where it is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portAccepts } from './test-server.js';

/** The haproxy binary. */
export const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy';

/** The header that names the server that answered, and that pins a request to one. */
export const BACKEND_HEADER = 'X-Backend';

/** Timings a test may shorten (milliseconds). */
export type HaproxyTimeouts = {
  /** Client and server inactivity of a request or response (SSE included). */
  http: number;
  /** A WebSocket's inactivity once upgraded. */
  tunnel: number;
  /** Between two health checks of a server. */
  checkInterval: number;
};

/** The defaults of `HaproxyTimeouts`. */
export const HAPROXY_TIMEOUTS: HaproxyTimeouts = { http: 120_000, tunnel: 3_600_000, checkInterval: 500 };

/** One backend as HAProxy knows it. */
export type HaproxyServer = { name: string; port: number };

/** A server's state as HAProxy's health checks see it (`show stat`). */
export type HaproxyServerStatus = 'UP' | 'DOWN' | 'NOLB' | 'MAINT' | 'no check' | string;

/** A running private HAProxy. */
export class Haproxy {
  private process: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly servers: readonly HaproxyServer[],
  ) {}

  /**
   * Starts HAProxy in front of `backends` (each a URL such as a test server's `url`, or a port of
   * 127.0.0.1); resolves once it listens (about 50 ms).
   */
  static async start(
    backends: readonly (string | number)[],
    timeouts: Partial<HaproxyTimeouts> = {},
  ): Promise<Haproxy> {
    if (backends.length === 0) throw new Error('HAProxy needs at least one backend');
    const servers = backends.map((backend, i) => ({ name: `s${i + 1}`, port: portOf(backend) }));
    const proxy = new Haproxy(mkdtempSync(join(tmpdir(), 'catalyst-haproxy-')), await freePort(), servers);
    try {
      writeFileSync(proxy.configFile, proxy.config({ ...HAPROXY_TIMEOUTS, ...timeouts }));
      await proxy.launch();
    } catch (error) {
      rmSync(proxy.dir, { recursive: true, force: true });
      throw error;
    }
    return proxy;
  }

  /** Where clients connect: `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The config file HAProxy runs with. */
  get configFile(): string {
    return join(this.dir, 'haproxy.cfg');
  }

  private get adminSocket(): string {
    return join(this.dir, 'admin.sock');
  }

  /** Each server's state now, by name. */
  async serverStatus(): Promise<Record<string, HaproxyServerStatus>> {
    const csv = await this.admin('show stat');
    const lines = csv.split('\n');
    const columns = (lines[0] ?? '').replace(/^# /, '').split(',');
    const [proxyName, serverName, status] = ['pxname', 'svname', 'status'].map((c) => columns.indexOf(c));
    const states: Record<string, HaproxyServerStatus> = {};
    for (const line of lines.slice(1)) {
      const fields = line.split(',');
      const name = fields[serverName as number];
      if (fields[proxyName as number] !== 'catalyst' || !name || name === 'FRONTEND' || name === 'BACKEND') {
        continue;
      }
      // A state in transition reads `DOWN 1/2` or `UP 1/2`: the last check has not been repeated enough yet.
      states[name] = fields[status as number] ?? '';
    }
    return states;
  }

  /** Waits until HAProxy sees server `name` in `status`; resolves with how long that took. */
  async waitForStatus(name: string, status: HaproxyServerStatus, timeoutMs = 10_000): Promise<number> {
    const start = Date.now();
    for (;;) {
      if ((await this.serverStatus())[name] === status) return Date.now() - start;
      if (Date.now() - start > timeoutMs) {
        throw new Error(`HAProxy did not see ${name} ${status} within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops HAProxy (its connections close) and removes its folder. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private config(t: HaproxyTimeouts): string {
    const pins = this.servers.map(
      (s) => `  use-server ${s.name} if { req.hdr(${BACKEND_HEADER}) -m str ${s.name} }`,
    );
    const servers = this.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`);
    return [
      'global',
      `  stats socket ${this.adminSocket} mode 600 level admin`,
      '',
      'defaults',
      '  mode http',
      '  option http-server-close',
      '  option redispatch',
      '  retries 3',
      '  timeout connect 2s',
      `  timeout client ${t.http}ms`,
      `  timeout server ${t.http}ms`,
      `  timeout tunnel ${t.tunnel}ms`,
      '  timeout client-fin 5s',
      '  timeout http-request 10s',
      '  timeout http-keep-alive 10s',
      '  timeout check 1s',
      '',
      'listen catalyst',
      `  bind 127.0.0.1:${this.port}`,
      '  balance roundrobin',
      '  option httpchk GET /healthz',
      '  http-check expect status 200',
      `  default-server check inter ${t.checkInterval}ms fall 2 rise 1`,
      `  http-response set-header ${BACKEND_HEADER} %s`,
      ...pins,
      ...servers,
      '',
    ].join('\n');
  }

  private async launch(): Promise<void> {
    const child = spawn(HAPROXY, ['-f', this.configFile, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(
          new Error(
            `cannot run ${HAPROXY}: install Debian's haproxy package (apt-get install -y haproxy) or set HAPROXY (${error.message})`,
          ),
        ),
      );
      child.once('exit', (code, signal) =>
        reject(new Error(`haproxy exited with ${code ?? signal}: ${stderr}`)),
      );
    });
    this.process = child;
    await Promise.race([failed, portAccepts(this.port, 'haproxy')]);
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
  }

  /** One command on the admin socket; resolves with its whole answer. */
  private admin(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.adminSocket);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.once('end', () => resolve(answer));
      socket.once('error', reject);
      socket.write(`${command}\n`);
    });
  }
}

function portOf(backend: string | number): number {
  if (typeof backend === 'number') return backend;
  const url = new URL(backend);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
    throw new Error(`HAProxy backends are on 127.0.0.1, not ${url.hostname}`);
  }
  return Number(url.port);
}
