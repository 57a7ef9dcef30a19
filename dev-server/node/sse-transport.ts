/**
 * Server-Sent Events glue (PROTOCOL.md section 6): writes the engine's frames, framed by
 * `sse-format.ts`, on a Node response, and ends it on a close.
 */
import type { ServerResponse } from 'node:http';
import type { SseResponse } from '../engine/rest.js';
import { formatSseClose, formatSseFrame } from '../engine/sse-format.js';

/** How long a closed stream's last bytes may take to leave before its socket is cut (as on WebSocket). */
const CLOSE_GRACE_MS = 1000;

/** Streams an admitted SSE answer on a Node response. */
export function streamSse(answer: SseResponse, res: ServerResponse): void {
  res.writeHead(answer.status, answer.headers);
  res.flushHeaders();
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
      // A client that does not read (4009) would hold the socket and its buffered megabytes for
      // as long as it likes: cut it. Its 'close' then frees the connection's place in the quota.
      setTimeout(() => {
        if (!res.writableFinished) res.destroy();
      }, CLOSE_GRACE_MS).unref();
    },
    get bufferedAmount() {
      return res.writableLength;
    },
  });
  res.on('close', () => {
    ended = true;
    handle.closed();
  });
}
