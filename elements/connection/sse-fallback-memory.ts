/**
 * Where a tab remembers, per API, that `transport: 'auto'` fell back to Server-Sent Events: in
 * `sessionStorage`, so the tab's later connections (and reloads) start on SSE instead of failing
 * three WebSocket upgrades again, while a new tab tries WebSocket afresh.
 */
const FALLBACK_KEY = 'catalyst-realtime:sse-fallback:';

/** Notes that `auto` fell back to SSE for `url`. */
export function rememberFallback(url: string): void {
  try {
    globalThis.sessionStorage?.setItem(FALLBACK_KEY + url, '1');
  } catch {
    // storage off (privacy settings, sandboxed frame): this connection still falls back
  }
}

/** Whether `auto` fell back to SSE for `url` before, in this tab's session. */
export function fellBackBefore(url: string): boolean {
  try {
    return globalThis.sessionStorage?.getItem(FALLBACK_KEY + url) === '1';
  } catch {
    return false;
  }
}
