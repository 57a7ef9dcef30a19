/**
 * A Server-Sent Events link (PROTOCOL.md section 6). SSE is read-only: the subscriptions travel
 * in the URL, and changing them means a new link (the manager's job). The stream is read with
 * fetch rather than `EventSource`, which hides a refusal's HTTP status, cannot see the heartbeat
 * comments and retries on its own with a spent one-time token.
 */
import { firstIssue, type Issue } from '../../protocol/issues.js';
import { checkErrorBody } from '../../protocol/read-server-message.js';
import type { Link, LinkHandlers } from './link.js';

/** What an SSE link reports beyond a WebSocket's: any bytes at all, heartbeat comments included. */
export type SseLinkHandlers = LinkHandlers & { onActivity(): void };

/** The close code a WebSocket would have had for a refused stream (section 7). */
function refusalCode(status: number, name: string | undefined): number {
  if (status === 400) return 4000;
  if (status === 401) return name === 'token_expired' ? 4001 : 4002;
  if (status === 403) return 4003;
  if (status === 429) return 4008;
  return 1006;
}

/**
 * The subscription a refused stream names (HTTP 400 with issues at `["subscriptions", index, …]`)
 * and its issues relative to that subscription; `undefined` when the refusal names none.
 */
export function refusedSubscription(details: unknown): { index: number; issues: Issue[] } | undefined {
  const issue = firstIssue(details);
  if (!issue || issue.path[0] !== 'subscriptions' || typeof issue.path[1] !== 'number') return undefined;
  return { index: issue.path[1], issues: [{ path: issue.path.slice(2), message: issue.message }] };
}

/** Resolves in a task of its own (not throttled like a timer). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

/** Opens the stream at `url` (token, subscriptions, since and epoch already in it). */
export function openSseLink(fetcher: typeof fetch, url: string, handlers: SseLinkHandlers): Link {
  const abort = new AbortController();
  let ended = false;
  const end = (code: number, reason: string, details?: unknown) => {
    if (ended) return;
    ended = true;
    abort.abort();
    handlers.onClose(code, reason, details);
  };

  let event = '';
  let data: string[] = [];
  /** Events complete in the chunks read so far, not yet handed on. */
  const ready: [type: string, text: string][] = [];
  /** One line of the stream, as the HTML standard's event stream parser reads it. */
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) ready.push([event || 'message', data.join('\n')]);
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return; // a comment: the heartbeat
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(text[colon + 1] === ' ' ? colon + 2 : colon + 1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  const dispatch = (type: string, text: string) => {
    if (type !== 'close') return handlers.onFrame(text);
    let close: { code?: unknown; message?: unknown } = {};
    try {
      close = JSON.parse(text) as typeof close;
    } catch {
      // a malformed close still ends the stream
    }
    end(
      typeof close.code === 'number' ? close.code : 1006,
      typeof close.message === 'string' ? close.message : '',
    );
  };

  void (async () => {
    let response: Response;
    try {
      response = await fetcher(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    } catch (error) {
      return end(1006, `cannot reach the event stream: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body) {
      const refusal = checkErrorBody(await response.json().catch(() => undefined));
      return end(
        refusalCode(response.status, refusal?.error.code),
        refusal?.error.message ?? `the event stream answered HTTP ${response.status}`,
        refusal?.error.details,
      );
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || ended) break;
        handlers.onActivity();
        buffer += value;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          line(buffer.slice(0, buffer[newline - 1] === '\r' ? newline - 1 : newline));
          buffer = buffer.slice(newline + 1);
        }
        // One message per task, as WebSocket delivers them: a page renders each before the next.
        for (let next = ready.shift(); next && !ended; next = ready.shift()) {
          dispatch(...next);
          if (ready.length > 0) await nextTask();
        }
      }
    } catch (error) {
      return end(1006, `the event stream broke: ${(error as Error).message}`);
    }
    end(1006, 'the event stream ended');
  })();

  return {
    send: () => undefined, // read-only: subscriptions go in the URL
    close: (code, reason) => end(code, reason),
  };
}
