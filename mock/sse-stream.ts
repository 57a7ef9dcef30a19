/**
 * An admitted SSE answer as a `ReadableStream` for an msw response: the engine's frames, framed
 * by `sse-format.ts` like the Node server's, and the end of the stream on a close. msw streams
 * such a body to `fetch` and `EventSource` in the browser and in Node.
 */
import type { SseResponse } from '../dev-server/engine/rest.js';
import type { SocketHandle } from '../dev-server/engine/engine.js';
import { formatSseClose, formatSseFrame } from '../dev-server/engine/sse-format.js';
import type { MockSockets } from './mock-sockets.js';

const utf8 = new TextEncoder();

/**
 * The body of an SSE answer. `signal` is the request's: msw does not always cancel a mocked body
 * when its fetch is aborted, so an abort ends the stream here, as the network would.
 */
export function sseStream(
  answer: SseResponse,
  sockets: MockSockets,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  let handle: SocketHandle | undefined;
  let ended = false;
  let untrack: () => void = () => undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      // A cut (drop, offline) fails the stream the way a lost network fails a fetch body.
      const cut = (reason: unknown) => {
        if (ended) return;
        ended = true;
        untrack();
        controller.error(reason);
        handle?.closed();
      };
      untrack = sockets.track(() => cut(new TypeError('network connection lost')));
      signal.addEventListener('abort', () => cut(signal.reason), { once: true });
      handle = answer.start({
        send(frame, info) {
          if (!ended) controller.enqueue(utf8.encode(formatSseFrame(frame, info)));
        },
        close(code, reason) {
          if (ended) return;
          ended = true;
          untrack();
          controller.enqueue(utf8.encode(formatSseClose(code, reason)));
          controller.close();
          // The stream is over: report it as the Node server's socket does, so the quota is freed
          // (after this call returns, as the engine expects of a transport).
          queueMicrotask(() => handle?.closed());
        },
        bufferedAmount: 0,
      });
    },
    cancel() {
      if (ended) return;
      ended = true;
      untrack();
      handle?.closed();
    },
  });
}
