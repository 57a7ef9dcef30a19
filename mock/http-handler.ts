/**
 * One msw handler for the whole HTTP API under the base URL: it turns msw's `Request` into the
 * engine's `HttpRequest`, lets `handleHttp` answer (ws-auth, records REST, custom events, healthz,
 * SSE, CORS, every error), and turns the answer back into a `Response`. Like the Node server's
 * `answer()`, it adds no rule of its own; the faults answer before the engine when one is on.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { Engine } from '../dev-server/engine/engine.js';
import { corsHeaders, errorResponse, handleHttp, type StreamedResponse } from '../dev-server/engine/rest.js';
import type { MockBaseUrl } from './mock-base-url.js';
import type { MockFaults } from './mock-faults.js';
import type { MockSockets } from './mock-sockets.js';
import { sseStream } from './sse-stream.js';

/** The msw handler that serves the HTTP API on `base`. */
export function createHttpHandler(
  engine: Engine,
  base: MockBaseUrl,
  faults: MockFaults,
  sockets: MockSockets,
): HttpHandler {
  return http.all(
    ({ request }) => base.enginePath(new URL(request.url)) !== undefined,
    async ({ request }) => {
      const url = base.enginePath(new URL(request.url)) as string;
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => (headers[name] = value));
      const fault = faults.httpFault(url);
      if (fault === 'network') return HttpResponse.error();
      if (fault) {
        const refusal = errorResponse(
          fault,
          engine.originAllowed(headers.origin) ? corsHeaders(engine, headers.origin) : {},
        );
        return new HttpResponse(refusal.body, { status: refusal.status, headers: refusal.headers });
      }
      const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
      const answer = await handleHttp(engine, {
        method: request.method,
        url,
        headers,
        body: body === '' ? undefined : body,
        signal: request.signal,
      });
      if ('start' in answer) {
        return new HttpResponse(sseStream(answer, sockets, request.signal), {
          status: answer.status,
          headers: answer.headers,
        });
      }
      if ('chunks' in answer) {
        return new HttpResponse(streamedBody(answer), { status: answer.status, headers: answer.headers });
      }
      return new HttpResponse(answer.body === '' ? null : answer.body, {
        status: answer.status,
        headers: answer.headers,
      });
    },
  );
}

const utf8 = new TextEncoder();

/** A streamed answer's body: each piece made when the page reads on. */
function streamedBody(answer: StreamedResponse): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = answer.chunks.next();
      if (piece.done) {
        controller.close();
        answer.done();
      } else controller.enqueue(utf8.encode(piece.value));
    },
    cancel: answer.done,
  });
}
