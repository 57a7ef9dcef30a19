/**
 * The Server-Sent Events framing of PROTOCOL.md section 6, as text: each server message is one
 * event whose `event:` is its type, `data:` its JSON and `id:` its largest seq; pings become `:`
 * comments; a close becomes `event: close`. Shared by the Node shell and the browser mock, which
 * only differ in where the text goes.
 */
import { codeName } from '../../protocol/index.js';
import type { FrameInfo } from './socket.js';

/** The SSE text of one server message, already serialized. */
export function formatSseFrame(frame: string, info: FrameInfo): string {
  if (info.type === 'ping') return ': ping\n\n';
  return `event: ${info.type}\n${info.seq === undefined ? '' : `id: ${info.seq}\n`}data: ${frame}\n\n`;
}

/** The last SSE event of a stream the server closes with a protocol code. */
export function formatSseClose(code: number, reason: string): string {
  const name = codeName(code) ?? 'closed';
  return `event: close\ndata: ${JSON.stringify({ code, name, message: reason })}\n\n`;
}
