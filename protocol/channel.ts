/**
 * Channel names (PROTOCOL.md sections 4 and 10): `records:<object>`, `records:*`, `events:<topic>`,
 * `events:*`, `presence:<room>`, `postgres:<table>` and `postgres:*`.
 *
 * Decision (the contract is silent): an object, topic or room name is 1 to 128 characters of
 * letters, digits and `_ - . :`, starting with a letter or digit. That keeps names safe in URLs,
 * logs and file names; anything else is a malformed channel (4010).
 */

/** The name part of a channel: object, topic or room. */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The families of channels. */
export const CHANNEL_KINDS = ['records', 'events', 'presence', 'postgres'] as const;
/** One of `CHANNEL_KINDS`. */
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

const KIND_LIST = CHANNEL_KINDS.join(', ');

/** A parsed channel; `name` is `*` for the wildcard forms. */
export type Channel =
  | { kind: 'records'; name: string; wildcard: boolean }
  | { kind: 'events'; name: string; wildcard: boolean }
  | { kind: 'postgres'; name: string; wildcard: boolean }
  | { kind: 'presence'; name: string; wildcard: false };

/**
 * Parses a channel name, or returns a message saying why it is malformed.
 * `presence:*` is malformed: a member joins one room.
 */
export function parseChannel(channel: string): Channel | { error: string } {
  const colon = channel.indexOf(':');
  if (colon < 0) return { error: `channel "${clip(channel)}" has no kind; expected ${KIND_LIST}` };
  const kind = channel.slice(0, colon) as ChannelKind;
  const name = channel.slice(colon + 1);
  if (!CHANNEL_KINDS.includes(kind)) {
    return { error: `unknown channel kind "${clip(kind)}"; expected ${KIND_LIST}` };
  }
  if (name === '*') {
    if (kind === 'presence') return { error: 'presence:* is not a room; join one room, e.g. presence:lobby' };
    return { kind, name, wildcard: true };
  }
  if (!CHANNEL_NAME_PATTERN.test(name)) {
    return {
      error: `malformed ${kind} name "${clip(name)}"; use 1-128 letters, digits, "_", "-", "." or ":"`,
    };
  }
  return { kind, name, wildcard: false };
}

/** The channel name of one object's records. */
export function recordsChannel(object: string): string {
  return `records:${object}`;
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
