/**
 * One Redis connection for the cluster's request/reply parts (one-time tokens, connection
 * counts), with the failure rules of environment-log.ts: while Redis cannot be reached a command
 * rejects at once (the offline queue is off), a command without an answer rejects after
 * `commandTimeoutMs` (Redis hangs), both as `ClusterUnavailableError`; the connection reconnects
 * on its own, and its errors go to `onError` once per outage instead of crashing the process.
 *
 * Scripts are sent with `EVALSHA` and fall back to `EVAL` (which caches them) on `NOSCRIPT`, e.g.
 * after a Redis restart, as node-redis does for the scripts it is given at creation.
 */
import { createHash } from 'node:crypto';
import { createClient, ErrorReply } from 'redis';
import { ClusterUnavailableError } from './cluster-unavailable-error.js';
import { connectWithin, withDeadline } from './redis-deadline.js';

/** How to reach Redis and how long to wait for it. */
export type CommandConnectionOptions = {
  /** `redis://host:port` (PROTOCOL.md section 11's `--cluster`). */
  url: string;
  /** A command without an answer after this long fails as unavailable (Redis hangs). */
  commandTimeoutMs?: number;
  /** How long `connect()` waits for Redis before it fails as unavailable. */
  connectTimeoutMs?: number;
  /** Connection errors, once per outage; the default writes to stderr. */
  onError?: (error: unknown) => void;
};

/** The defaults of `CommandConnectionOptions` (the same as the cluster log's). */
export const COMMAND_CONNECTION_DEFAULTS = {
  commandTimeoutMs: 2000,
  connectTimeoutMs: 5000,
} as const;

/** A Lua script and its SHA-1, for `EVALSHA`. */
export type LuaScript = { readonly lua: string; readonly sha1: string };

/** A script to send with `CommandConnection.eval`. */
export function luaScript(lua: string): LuaScript {
  return { lua, sha1: createHash('sha1').update(lua).digest('hex') };
}

function createCommandClient(options: Required<Omit<CommandConnectionOptions, 'onError'>>) {
  return createClient({
    url: options.url,
    // Fail at once while disconnected: the caller answers "unavailable" instead of waiting.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      // Retry forever, at most about a second apart, so a process is back soon after Redis is.
      reconnectStrategy: (retries: number) =>
        Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100),
    },
  });
}

/** A node-redis client as `CommandConnection.run` hands it to a command. */
export type CommandClient = ReturnType<typeof createCommandClient>;

/** A command connection that fails fast (see the file comment). */
export class CommandConnection {
  private readonly readyListeners = new Set<() => void>();
  private closed = false;
  private down = false;

  private constructor(
    private readonly client: CommandClient,
    private readonly name: string,
    private readonly commandTimeoutMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    client.on('error', (error: unknown) => {
      if (this.down || this.closed) return;
      this.down = true;
      this.onError(new ClusterUnavailableError(`${this.name} connection: ${describe(error)}`));
    });
    client.on('ready', () => {
      this.down = false;
      for (const listener of this.readyListeners) listener();
    });
  }

  /**
   * Connects; rejects with `ClusterUnavailableError` when Redis does not answer within
   * `connectTimeoutMs`. `name` says which part's connection an error report is about.
   */
  static async connect(options: CommandConnectionOptions, name: string): Promise<CommandConnection> {
    const settings = { ...COMMAND_CONNECTION_DEFAULTS, ...options };
    const onError =
      options.onError ?? ((error: unknown) => console.error(`dev server: cluster: ${describe(error)}`));
    const connection = new CommandConnection(
      createCommandClient(settings),
      name,
      settings.commandTimeoutMs,
      onError,
    );
    await connectWithin(connection.client.connect(), settings.connectTimeoutMs, settings.url, () =>
      connection.close(),
    );
    return connection;
  }

  /** Whether the connection is up now (for `/healthz`). */
  get available(): boolean {
    return this.client.isReady;
  }

  /** Calls `listener` each time the connection is (again) ready after a reconnect. */
  onReady(listener: () => void): void {
    this.readyListeners.add(listener);
  }

  /**
   * Runs a command, turning a connection's failure into `ClusterUnavailableError`, and so is an
   * answer that takes longer than `commandTimeoutMs`: node-redis's own timeout covers only a
   * command's wait to be written, not a Redis that stops answering (environment-log.ts). A command
   * that timed out may still be applied later by a Redis that was only slow; commands sent after
   * it on this connection are applied after it.
   */
  async run<T>(command: (client: CommandClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new ClusterUnavailableError(`the ${this.name} connection is closed`);
    return withDeadline(() => command(this.client), this.commandTimeoutMs);
  }

  /** Runs a Lua script (`EVALSHA`, then `EVAL` on `NOSCRIPT`) through `run`; the raw reply. */
  eval(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.run(async (client) => {
      const tail = [String(keys.length), ...keys, ...args];
      try {
        return await client.sendCommand(['EVALSHA', script.sha1, ...tail]);
      } catch (error) {
        if (!(error instanceof ErrorReply && error.message.startsWith('NOSCRIPT'))) throw error;
        return await client.sendCommand(['EVAL', script.lua, ...tail]);
      }
    });
  }

  /** Closes the connection: gracefully when it is up, at once when it is not. */
  async close(): Promise<void> {
    this.closed = true;
    this.readyListeners.clear();
    try {
      if (this.client.isReady) await this.client.close();
      else if (this.client.isOpen) this.client.destroy();
    } catch {
      this.client.destroy();
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
