/**
 * Checks a subscribe request against its channel, key and environment, and compiles it. Every
 * refusal names the problem: 4010 for a bad channel or unknown object, 4003 for an object the
 * key may not read, 4000 for options that do not fit the channel or a bad filter.
 */
import { PROTOCOL_BOUNDS, WhereError, parseChannel, type SubscriptionSpec } from '../../protocol/index.js';
import type { KeyRecord } from './engine-core.js';
import type { Environment } from './environment.js';
import { RequestError } from './request-error.js';
import { checkStoredValue } from './stored-value.js';
import { Subscription, type SubscriptionOwner } from './subscription.js';

const utf8 = new TextEncoder();

/** A checked, compiled subscription for `owner`; throws `RequestError`. */
export function compileSubscription(
  spec: SubscriptionSpec,
  key: KeyRecord,
  env: Environment,
  owner: SubscriptionOwner,
): Subscription {
  const channel = parseChannel(spec.channel);
  if ('error' in channel) throw new RequestError('channel_unavailable', channel.error);
  let readable: ReadonlySet<string> | undefined;
  if (channel.kind === 'records') {
    if (channel.wildcard) {
      if (spec.snapshot) {
        throw new RequestError('bad_request', 'a snapshot needs one object: subscribe to records:<object>');
      }
      readable = key.readable;
    } else {
      if (!env.hasObject(channel.name)) {
        throw new RequestError('channel_unavailable', `unknown object "${channel.name}"`);
      }
      if (key.readable && !key.readable.has(channel.name)) {
        throw new RequestError('scope_denied', `this key may not read "${channel.name}"`);
      }
    }
    if (spec.meta !== undefined)
      throw new RequestError('bad_request', 'meta applies to presence channels only');
  } else {
    for (const field of ['filter', 'fields', 'snapshot'] as const) {
      if (spec[field] !== undefined && spec[field] !== false) {
        throw new RequestError('bad_request', `${field} applies to records channels only`);
      }
    }
    if (channel.kind === 'events' && spec.meta !== undefined) {
      throw new RequestError('bad_request', 'meta applies to presence channels only');
    }
    if (channel.kind === 'presence') {
      checkStoredValue(spec.meta ?? {}, 'meta'); // bounded depth before anything walks it
      if (utf8.encode(JSON.stringify(spec.meta ?? {})).length > PROTOCOL_BOUNDS.maxPresenceMetaBytes) {
        throw new RequestError(
          'bad_request',
          `meta is over ${PROTOCOL_BOUNDS.maxPresenceMetaBytes} bytes of JSON`,
        );
      }
    }
  }
  try {
    return new Subscription(spec, channel, owner, readable);
  } catch (error) {
    if (error instanceof WhereError) {
      throw new RequestError('bad_request', `filter.where: ${error.message}`, { path: error.path });
    }
    throw error;
  }
}
