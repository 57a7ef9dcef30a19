/**
 * A link: one attempt at a connection to the server, whatever carries it. The manager opens a
 * link per attempt, feeds it frames and learns once, through `onClose`, that it ended — by the
 * server, the network, or the manager itself. Reconnecting is the manager's job, not the link's.
 */

/** What a link reports. */
export type LinkHandlers = {
  /** One server message, as JSON text. */
  onFrame(text: string): void;
  /**
   * The link ended; called exactly once, and nothing is reported after it. `details`: the
   * server's issues when it refused the request that opened the link (SSE answers HTTP 400).
   */
  onClose(code: number, reason: string, details?: unknown): void;
};

/** One open (or opening) link. */
export interface Link {
  /** Sends a client message; ignored while the link is not open. */
  send(text: string): void;
  /** Ends the link now: `onClose(code, reason)` runs before this returns. */
  close(code: number, reason: string): void;
}

/**
 * A WebSocket constructor: the browser's, or `ws`'s in Node. Typed by its constructor only, so
 * `ws`'s class (whose instance type differs from the DOM's) is accepted without a cast.
 */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => unknown;

/** The part of a WebSocket (DOM or `ws`) a link uses. */
type SocketLike = {
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
};

const OPEN = 1;

/**
 * Opens a WebSocket link to `url`. Closing it ourselves reports the close at once rather than
 * after the closing handshake, which a dead network may never finish.
 */
export function openWebSocketLink(WebSocket: WebSocketClass, url: string, handlers: LinkHandlers): Link {
  const socket = new WebSocket(url) as SocketLike;
  let ended = false;
  const end = (code: number, reason: string) => {
    if (ended) return;
    ended = true;
    socket.onmessage = null;
    socket.onclose = null;
    handlers.onClose(code, reason);
  };
  socket.onmessage = (event) => handlers.onFrame(String(event.data));
  socket.onclose = (event) => end(event.code, event.reason);
  // A close of a socket still connecting makes `ws` emit an error, which would throw unheard.
  socket.onerror = () => undefined;
  return {
    send(text) {
      if (!ended && socket.readyState === OPEN) socket.send(text);
    },
    close(code, reason) {
      socket.close(code, reason);
      end(code, reason);
    },
  };
}
