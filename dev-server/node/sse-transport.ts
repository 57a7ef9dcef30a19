/**
 * Server-Sent Events glue (PROTOCOL.md section 6): each server message is one event whose
 * `event:` is its type, `data:` its JSON and `id:` its largest seq; pings become `:` comments;
 * a close becomes `event: close` and the end of the stream.
 */
import type { ServerResponse } from 'node:http';
import { codeName } from '../../protocol/index.js';
import type { SseResponse } from '../engine/rest.js';

/** Streams an admitted SSE answer on a Node response. */
export function streamSse(answer: SseResponse, res: ServerResponse): void {
  res.writeHead(answer.status, answer.headers);
  res.flushHeaders();
  let ended = false;
  const handle = answer.start({
    send(frame, info) {
      if (ended) return;
      if (info.type === 'ping') {
        res.write(': ping\n\n');
        return;
      }
      res.write(
        `event: ${info.type}\n${info.seq === undefined ? '' : `id: ${info.seq}\n`}data: ${frame}\n\n`,
      );
    },
    close(code, reason) {
      if (ended) return;
      ended = true;
      const name = codeName(code) ?? 'closed';
      res.end(`event: close\ndata: ${JSON.stringify({ code, name, message: reason })}\n\n`);
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
