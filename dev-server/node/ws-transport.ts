/**
 * WebSocket glue: upgrades on the protocol's path (refusing disallowed origins with HTTP 403)
 * and adapts each `ws` socket to the engine's `EngineSocket`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CODE, PATHS } from '../../protocol/index.js';
import type { Engine } from '../engine/engine.js';
import type { EngineSocket, SocketHandle } from '../engine/socket.js';

/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;

/** `ws` sends a Uint8Array as a binary frame unless told otherwise; protocol messages are text. */
const TEXT_FRAME = { binary: false } as const;

/** Attaches the WebSocket endpoint; returns the `ws` server (closed by the caller). */
export function createWebSocketEndpoint(engine: Engine): {
  handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  server: WebSocketServer;
} {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: engine.limits.maxMessageBytes,
    perMessageDeflate: false,
  });

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== PATHS.websocket && url.pathname !== PATHS.websocket.slice(0, -1)) {
      return refuseUpgrade(socket, 404, 'Not Found');
    }
    if (!engine.originAllowed(req.headers.origin)) return refuseUpgrade(socket, 403, 'Forbidden');
    const token = url.searchParams.get('token') ?? undefined;
    server.handleUpgrade(req, socket, head, (ws) => attach(engine, ws, token));
  }

  return { handleUpgrade, server };
}

/**
 * One `ws` socket as the engine's `EngineSocket`. A class and three module-level listeners rather
 * than closures per socket: thousands of idle connections each keep only this object.
 */
class WsSocket implements EngineSocket {
  constructor(private readonly ws: WebSocket) {}

  send(frame: string): void {
    this.ws.send(frame);
  }

  /** The same bytes go to every connection with the same batch; `ws` sends them as they are. */
  sendUtf8(bytes: Uint8Array): void {
    this.ws.send(bytes, TEXT_FRAME);
  }

  close(code: number, reason: string): void {
    const ws = this.ws;
    ws.close(code, reason);
    // A client closed for flooding has more frames in flight than TCP holds, and reading them
    // would only find its close frame behind them: stop reading, and let the grace cut it.
    if (code === CODE.rate_limited) ws.pause();
    // A slow consumer may never read our close frame: cut it after a grace period.
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
}

/** The engine's handle of each open socket, for the listeners below. */
const handles = new WeakMap<WebSocket, SocketHandle>();

function onMessage(this: WebSocket, data: RawData): void {
  handles.get(this)?.receive(data.toString());
}

function onClose(this: WebSocket, code: number): void {
  handles.get(this)?.closed(code);
}

// ws has already sent its close (e.g. 1009) when it reports an error; 'close' follows. A frame
// over maxPayload is still a server-side close for a bad frame: audit it as the engine would.
function onError(this: WebSocket, error: Error & { code?: string }): void {
  if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') handles.get(this)?.frameTooBig();
}

function attach(engine: Engine, ws: WebSocket, token: string | undefined): void {
  handles.set(ws, engine.openWebSocket(new WsSocket(ws), token));
  ws.on('message', onMessage);
  ws.on('close', onClose);
  ws.on('error', onError);
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
