/**
 * The few things the engine needs of a transport. The Node shell adapts `ws` and SSE responses
 * to it, the browser mock adapts msw's WebSocket interception: the engine never sees which.
 */
import type { ServerMessageType } from '../../protocol/index.js';

/** What a frame is, for transports that frame messages themselves (SSE's `event:` and `id:`). */
export type FrameInfo = { type: ServerMessageType; seq?: number | undefined };

/** A connection's socket as the engine drives it. */
export interface EngineSocket {
  /** Sends one server message, already serialized. */
  send(frame: string, info: FrameInfo): void;
  /**
   * Sends one server message as UTF-8 bytes, in a text frame. Optional: batch frames go this way
   * when a transport has it, so a frame shared by many connections is encoded once and the same
   * bytes are handed to each (the caller never changes them). Without it they go to `send`.
   */
  sendUtf8?(bytes: Uint8Array, info: FrameInfo): void;
  /**
   * Closes with a protocol close code (section 7) and a short reason, and ends the socket: at
   * once, or after a short grace for the client to read the close. The transport then reports
   * `closed()` once the socket is gone (never from within this call), which frees the quota.
   */
  close(code: number, reason: string): void;
  /** Bytes accepted by `send` or `sendUtf8` and not yet written out (slow consumer detection). */
  readonly bufferedAmount: number;
}

/** What a transport calls as frames arrive and when the socket ends. */
export interface SocketHandle {
  receive(text: string): void;
  /** The transport refused a frame over `maxMessageBytes` before reading it (`ws`'s `maxPayload`). */
  frameTooBig(): void;
  /** The socket is gone, whoever closed it: every transport calls it once, also after `close`. */
  closed(code?: number): void;
}

/** The transport kinds a connection can have. */
export type Transport = 'websocket' | 'sse';
