/**
 * The module registry of connections: one `LiveConnection` per (url, key) on the page, whoever
 * asks for it — a `<live-connection>` provider, an element with its own `url`/`api-key`, or
 * JavaScript calling `connect()`.
 */
import { LiveConnection, type ConnectOptions } from './live-connection.js';

const connections = new Map<string, LiveConnection>();

/**
 * The shared connection for `url` + `apiKey` (+ `transport`, `share`), created on first use (it
 * opens on first subscribe).
 */
export function connect(options: ConnectOptions): LiveConnection {
  const id = `${options.url.replace(/\/+$/, '')}\u0000${options.apiKey}\u0000${options.transport ?? 'auto'}\u0000${options.share ?? 'tabs'}`;
  const existing = connections.get(id);
  if (existing && existing.status.state !== 'closed') return existing;
  const connection = new LiveConnection(options);
  connections.set(id, connection);
  return connection;
}
