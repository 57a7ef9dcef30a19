/** A refused request on a socket, answered with an `error` message; the connection stays open. */
import type { CodeName } from '../../protocol/index.js';

/** A refusal of one request, named by its protocol code (section 7). */
export class RequestError extends Error {
  constructor(
    readonly code: CodeName,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
