/**
 * The four things the engine needs of a transport. The Node shell adapts `ws` and SSE responses
 * to it, the browser mock adapts msw's WebSocket interception: the engine never sees which.
 */
import type { ServerMessageType } from '../../protocol/index.js';

/** What a frame is, for transports that frame messages themselves (SSE's `event:` and `id:`). */
export type FrameInfo = { type: ServerMessageType; seq?: number | undefined };

/** A connection's socket as the engine drives it. */
export interface EngineSocket {
  /** Sends one server message, already serialized. */
  send(frame: string, info: FrameInfo): void;
  /** Closes with a protocol close code (section 7) and a short reason. */
  close(code: number, reason: string): void;
  /** Bytes accepted by `send` and not yet written out (slow consumer detection). */
  readonly bufferedAmount: number;
}

/** The transport kinds a connection can have. */
export type Transport = 'websocket' | 'sse';
