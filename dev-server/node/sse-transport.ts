/**
 * Server-Sent Events glue (PROTOCOL.md section 6): writes the engine's frames, framed by
 * `sse-format.ts`, on a Node response, and ends it on a close.
 */
import type { ServerResponse } from 'node:http';
import type { SseResponse } from '../engine/rest.js';
import { formatSseClose, formatSseFrame } from '../engine/sse-format.js';

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
