/**
 * msw's WebSocket interception for `/ws/events/object-records/`, adapted to the engine: each
 * intercepted client becomes an `EngineSocket` (send, close with code and reason, nothing ever
 * buffered), and its frames go to `Engine.openWebSocket`'s handle. Like `ws-transport.ts` for the
 * Node server, it knows nothing of the protocol beyond the path.
 */
import { ws, type WebSocketHandler, type WebSocketHandlerConnection, type WebSocketLink } from 'msw';
import { PATHS } from '../protocol/index.js';
import type { Engine, SocketHandle } from '../dev-server/engine/engine.js';
import type { EngineSocket } from '../dev-server/engine/socket.js';
import { ABNORMAL_CLOSURE, type MockFaults } from './mock-faults.js';
import type { MockBaseUrl } from './mock-base-url.js';
import type { MockSockets } from './mock-sockets.js';

type Client = WebSocketHandlerConnection['client'];
type Frame = Parameters<Client['send']>[0];

/** A token no ws-auth ever issues: the engine refuses it with 4002, as it would a spent one. */
const REFUSED_TOKEN = 'refused-by-the-mock';

/**
 * One msw link per address: each `ws.link` keeps a client registry listening on a page-wide
 * channel, so a link per mock (a story each) would pile them up. Handlers of one link are cheap.
 */
const links = new Map<string, WebSocketLink>();

/** The msw handler that serves the protocol's WebSocket on `base`. */
export function createWebSocketHandler(
  engine: Engine,
  base: MockBaseUrl,
  faults: MockFaults,
  sockets: MockSockets,
): WebSocketHandler {
  const address = `${base.ws}/*`;
  let link = links.get(address);
  if (!link) links.set(address, (link = ws.link(address)));
  return link.addEventListener('connection', ({ client }) => {
    const path = base.enginePath(client.url);
    const pathname = path?.replace(/\?.*$/, '');
    // What a real server's refused upgrade looks like to a page: no `open`, then 1006.
    if (pathname !== PATHS.websocket && pathname !== PATHS.websocket.slice(0, -1)) {
      client.close(ABNORMAL_CLOSURE, '');
      return;
    }
    if (!engine.originAllowed(pageOrigin())) {
      client.close(ABNORMAL_CLOSURE, '');
      return;
    }
    const unreachable = faults.unreachable();
    if (unreachable) {
      client.close(unreachable.code, unreachable.reason);
      return;
    }
    attach(engine, client, faults, sockets);
  });
}

function attach(engine: Engine, client: Client, faults: MockFaults, sockets: MockSockets): void {
  let handle: SocketHandle | undefined;
  let ended = false;
  const early: string[] = [];
  const untrack = sockets.track(() => client.close(ABNORMAL_CLOSURE, ''));
  client.addEventListener('message', (event) => {
    decode(event.data, (text) => (handle ? handle.receive(text) : early.push(text)));
  });
  client.addEventListener('close', (event) => {
    ended = true;
    untrack();
    handle?.closed(event.code);
  });

  // msw opens the page's socket once this listener returns; the engine answers after that, as a
  // server would after the upgrade, so a refusal reaches the page as `open` and then a close.
  setTimeout(() => {
    if (ended) return;
    const refusal = faults.socketRefusal();
    if (refusal) {
      client.close(refusal.code, refusal.reason);
      return;
    }
    const socket: EngineSocket = {
      send: (frame) => client.send(frame),
      close: (code, reason) => client.close(code, reason),
      // msw hands a frame to the page on the next microtask: nothing ever waits in a buffer.
      bufferedAmount: 0,
    };
    const query = new URLSearchParams(client.url.search);
    const token = faults.takeRefusedToken() ? REFUSED_TOKEN : (query.get('token') ?? undefined);
    handle = engine.openWebSocket(socket, token);
    for (const text of early.splice(0)) handle.receive(text);
  }, 0);
}

/** Text of a frame; binary frames are read as UTF-8, as the Node server's `ws` does. */
function decode(data: Frame, deliver: (text: string) => void): void {
  if (typeof data === 'string') deliver(data);
  else if (data instanceof Blob) void data.text().then(deliver);
  else if (ArrayBuffer.isView(data)) deliver(new TextDecoder().decode(data));
  else deliver(new TextDecoder().decode(new Uint8Array(data)));
}

/** The page's origin, which a browser would send with the upgrade (none in Node). */
function pageOrigin(): string | undefined {
  return typeof location === 'undefined' ? undefined : location.origin;
}
