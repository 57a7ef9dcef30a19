/**
 * WebSocket glue: upgrades on the protocol's path (refusing disallowed origins with HTTP 403)
 * and adapts each `ws` socket to the engine's `EngineSocket`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { PATHS } from '../../protocol/index.js';
import type { Engine } from '../engine/engine.js';

/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;

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

function attach(engine: Engine, ws: WebSocket, token: string | undefined): void {
  const handle = engine.openWebSocket(
    {
      send: (frame) => ws.send(frame),
      close: (code, reason) => {
        ws.close(code, reason);
        // A slow consumer may never read our close frame: cut it after a grace period.
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
    },
    token,
  );
  ws.on('message', (data) => handle.receive(data.toString()));
  ws.on('close', (code) => handle.closed(code));
  // ws has already sent its close (e.g. 1009) when it reports an error; 'close' follows. A frame
  // over maxPayload is still a server-side close for a bad frame: audit it as the engine would.
  ws.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') handle.frameTooBig();
  });
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
