/** Identifiers the engine hands out. `crypto.randomUUID` exists in browsers and in Node ≥ 19. */

/** A one-time ws-auth token: a UUID v4, as PROTOCOL.md section 2 says. */
export function newToken(): string {
  return globalThis.crypto.randomUUID();
}

/** A connection id, `c_…`. */
export function newConnectionId(): string {
  return `c_${randomText(16)}`;
}

/** An epoch name, `e_…`: names one history of an environment's `seq`. */
export function newEpoch(now: number): string {
  return `e_${now.toString(36)}${randomText(8)}`;
}

/** A record id for a create without one, `r_…`. */
export function newRecordId(): string {
  return `r_${randomText(16)}`;
}

function randomText(length: number): string {
  return globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, length);
}
