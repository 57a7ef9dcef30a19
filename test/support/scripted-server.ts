/**
 * A tiny stand-in server on 127.0.0.1, for what the real dev server never does: it serves
 * `GET /api/users/ws-auth/` and the WebSocket path, welcomes every connection, and then does only
 * what the test's `afterWelcome` script says — nothing at all (a dead server that keeps its
 * socket open), frames that break the schema, or a close with any code.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { PATHS, PROTOCOL_NAME, stringifyServerMessage, type WsAuthResponse } from '../../protocol/index.js';

/** A running scripted server. */
export type ScriptedServer = {
  url: string;
  /** When each connection was welcomed (`Date.now()`), oldest first. */
  welcomedAt: number[];
  /** Text frames the clients sent, in order. */
  received: string[];
  close(): Promise<void>;
};

/** Starts a scripted server; `afterWelcome` runs on each connection right after its `welcome`. */
export async function startScriptedServer(options: {
  heartbeatMs: number;
  afterWelcome?: (socket: WebSocket) => void;
}): Promise<ScriptedServer> {
  const welcomedAt: number[] = [];
  const received: string[] = [];
  const http = createServer((req, res) => {
    if (req.url !== PATHS.wsAuth) {
      res.writeHead(404).end();
      return;
    }
    const body: WsAuthResponse = {
      token: randomUUID(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      environment: 'production',
      url: PATHS.websocket,
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const wss = new WebSocketServer({ server: http, path: PATHS.websocket });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => received.push(String(data)));
    welcomedAt.push(Date.now());
    socket.send(
      stringifyServerMessage({
        type: 'welcome',
        protocol: PROTOCOL_NAME,
        connectionId: `c_${welcomedAt.length}`,
        client: 'acme',
        environment: 'production',
        epoch: 'e_scripted',
        seq: 0,
        heartbeatMs: options.heartbeatMs,
        sessionExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        limits: { maxSubscriptions: 100, maxBatchEvents: 1000, flushIntervalMs: 20, maxMessageBytes: 65_536 },
      }),
    );
    options.afterWelcome?.(socket);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    welcomedAt,
    received,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
