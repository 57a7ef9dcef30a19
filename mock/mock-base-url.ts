/**
 * The address the mock answers for: an origin with an optional path prefix, e.g.
 * `https://mock.catalyst.test` or `https://example.test/realtime`. The manager builds every URL
 * from such a base (`${url}/api/users/ws-auth/`, the socket on the same host with `ws`/`wss`), so
 * the handlers strip the prefix and hand the engine the path it knows.
 */

/** Where the mock answers unless told otherwise: a host that exists nowhere, so nothing leaks out. */
export const MOCK_URL = 'https://mock.catalyst.test';

/** A parsed base URL. */
export class MockBaseUrl {
  /** The base as given, without a trailing slash: what `connect({url})` takes. */
  readonly http: string;
  /** The same base with `ws:`/`wss:`: where the WebSocket handler listens. */
  readonly ws: string;
  private readonly origin: string;
  private readonly wsOrigin: string;
  private readonly prefix: string;

  constructor(url: string) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`the mock's baseUrl must be http: or https:, got "${url}"`);
    }
    if (parsed.search || parsed.hash) {
      throw new TypeError(`the mock's baseUrl takes no query or fragment, got "${url}"`);
    }
    this.prefix = parsed.pathname.replace(/\/+$/, '');
    this.origin = parsed.origin;
    this.wsOrigin = parsed.origin.replace(/^http/, 'ws');
    this.http = `${this.origin}${this.prefix}`;
    this.ws = `${this.wsOrigin}${this.prefix}`;
  }

  /** The path and query the engine sees for a request URL, or undefined when it is not the mock's. */
  enginePath(url: URL): string | undefined {
    const origin = url.protocol === 'ws:' || url.protocol === 'wss:' ? this.wsOrigin : this.origin;
    if (url.origin !== origin) return undefined;
    if (!url.pathname.startsWith(`${this.prefix}/`)) return undefined;
    return `${url.pathname.slice(this.prefix.length)}${url.search}`;
  }
}
