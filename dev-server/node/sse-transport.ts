/**
 * Server-Sent Events glue (PROTOCOL.md section 6): writes the engine's frames, framed by
 * `sse-format.ts`, on a Node response, and ends it on a close.
 */
import type { ServerResponse } from 'node:http';
import type { SseResponse } from '../engine/rest.js';
import { formatSseClose, formatSseFrame } from '../engine/sse-format.js';

/** How long a closed stream's last bytes may take to leave before its socket is cut (as on WebSocket). */
const CLOSE_GRACE_MS = 1000;

/**
 * Streams an admitted SSE answer on a Node response. The connection is over when its socket is:
 * the stream's socket ends with it (`connection: close`, so a client never reuses it for another
 * request while it closes; a client reconnects with a new request anyway), and a server close
 * cuts it after `CLOSE_GRACE_MS` if the client does not read — an unread stream (4009) would
 * otherwise hold its socket and buffered megabytes for as long as the client likes.
 */
export function streamSse(answer: SseResponse, res: ServerResponse): void {
  res.writeHead(answer.status, { ...answer.headers, connection: 'close' });
  res.flushHeaders();
  const socket = res.socket;
  let ended = false;
  const handle = answer.start({
    send(frame, info) {
      if (ended) return;
      res.write(formatSseFrame(frame, info));
    },
    close(code, reason) {
      if (ended) return;
      ended = true;
      res.end(formatSseClose(code, reason));
      setTimeout(() => socket?.destroy(), CLOSE_GRACE_MS).unref();
    },
    get bufferedAmount() {
      return res.writableLength;
    },
  });
  const gone = () => {
    ended = true;
    handle.closed();
  };
  if (!socket || socket.destroyed) queueMicrotask(gone);
  else socket.once('close', gone);
}
