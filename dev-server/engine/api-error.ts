/**
 * A refused request, named as the HTTP API names it. REST answers with its status; the socket
 * side maps it to a protocol code.
 */
import { CODE, HTTP_ERRORS, type HttpErrorName } from '../../protocol/index.js';

/** A request the engine refuses, with the name and message the client sees. */
export class ApiError extends Error {
  constructor(
    readonly code: HttpErrorName,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The HTTP status of this error. */
  get status(): number {
    return HTTP_ERRORS[this.code];
  }

  /** The protocol error code (section 7) for the same refusal on a socket. */
  get protocolCode(): number {
    switch (this.code) {
      case 'forbidden':
      case 'unauthorized':
        return CODE.scope_denied;
      case 'not_found':
        return CODE.channel_unavailable;
      case 'quota_exceeded':
        return CODE.quota_exceeded;
      default:
        return CODE.bad_request;
    }
  }
}
