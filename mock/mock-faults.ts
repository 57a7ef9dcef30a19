/**
 * The fault switches of the mock: what its transports answer instead of the engine while a
 * story or test has turned a fault on. The engine stays a faithful server; faults live here, at
 * the edge, where a real deployment's failures (a network down, a gateway refusing) would.
 */
import { CODE, PATHS } from '../protocol/index.js';
import { ApiError } from '../dev-server/engine/api-error.js';

/** A close a new WebSocket gets instead of reaching the engine. */
export type SocketRefusal = { code: number; reason: string };

/** Which faults are on. */
export type FaultState = {
  /** ws-auth and every request fail as on a dead network; sockets cannot open. */
  offline: boolean;
  /** ws-auth answers 403; a new socket is closed with 4003. */
  denied: boolean;
  /** A new socket (or SSE stream) is refused with 4008 (429). */
  quotaExceeded: boolean;
  /** This many more WebSocket connections are refused with 4002, whatever their token. */
  refusedTokens: number;
};

/** The close code of a socket that dies without a close frame (RFC 6455: reported, never sent). */
export const ABNORMAL_CLOSURE = 1006;

/** The current faults and what each makes the transports answer. */
export class MockFaults {
  readonly state: FaultState = { offline: false, denied: false, quotaExceeded: false, refusedTokens: 0 };

  /** What an HTTP request gets instead of the engine's answer: a network error, a refusal, or nothing. */
  httpFault(path: string): 'network' | ApiError | undefined {
    if (this.state.offline) return 'network';
    const pathname = path.replace(/[?#].*$/, '');
    if (this.state.denied && (isPath(pathname, PATHS.wsAuth) || isPath(pathname, PATHS.sse))) {
      return new ApiError('forbidden', 'this key is denied (the mock is set to deny it)');
    }
    if (this.state.quotaExceeded && isPath(pathname, PATHS.sse)) {
      return new ApiError(
        'quota_exceeded',
        'too many connections for this client (the mock is set to refuse)',
      );
    }
    return undefined;
  }

  /** The close a new WebSocket gets before it opens (no network): it never sees `open`. */
  unreachable(): SocketRefusal | undefined {
    return this.state.offline ? { code: ABNORMAL_CLOSURE, reason: '' } : undefined;
  }

  /** The close an opened WebSocket gets instead of the engine's `welcome`. */
  socketRefusal(): SocketRefusal | undefined {
    if (this.state.denied) return { code: CODE.scope_denied, reason: 'this key is denied' };
    if (this.state.quotaExceeded) {
      return { code: CODE.quota_exceeded, reason: 'too many connections for this client' };
    }
    return undefined;
  }

  /** Whether the next WebSocket's token is to be refused (and counts it). */
  takeRefusedToken(): boolean {
    if (this.state.refusedTokens <= 0) return false;
    this.state.refusedTokens--;
    return true;
  }

  /** Every fault off. */
  clear(): void {
    Object.assign(this.state, { offline: false, denied: false, quotaExceeded: false, refusedTokens: 0 });
  }
}

function isPath(pathname: string, path: string): boolean {
  return pathname === path || pathname === path.slice(0, -1);
}
