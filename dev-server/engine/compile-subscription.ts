/**
 * Checks a subscribe request against its channel, key and environment, and compiles it. Every
 * refusal names the problem: 4010 for a bad channel, an unknown object or a table this
 * environment does not expose, 4003 for an object or table the key may not read, 4000 for options
 * that do not fit the channel or a bad filter.
 */
import {
  PROTOCOL_BOUNDS,
  WhereError,
  normalizeOperation,
  parseChannel,
  type SubscriptionSpec,
} from '../../protocol/index.js';
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
  const filter = spec.filter;
  if (filter?.where !== undefined && filter.predicates !== undefined) {
    throw new RequestError(
      'bad_request',
      'filter.predicates is another name for filter.where: give one of them',
    );
  }
  if (channel.kind !== 'postgres') {
    if (filter?.entity !== undefined) {
      throw new RequestError('bad_request', 'filter.entity applies to postgres channels only');
    }
    if (filter?.operations?.some((name) => normalizeOperation(name) === undefined)) {
      throw new RequestError('bad_request', 'TRUNCATE applies to postgres channels only');
    }
  }
  if (channel.kind === 'postgres') {
    readable = checkTableChannel(spec, channel.name, channel.wildcard, key, env);
  } else if (channel.kind === 'records') {
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
        throw new RequestError('bad_request', `${field} applies to records and postgres channels only`);
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

/**
 * Checks a `postgres:<table>` or `postgres:*` subscribe (PROTOCOL.md section 10) and returns the
 * tables a `postgres:*` of a limited key may read. A table this environment does not expose —
 * another environment's too — is 4010, one the key may not read 4003.
 */
function checkTableChannel(
  spec: SubscriptionSpec,
  name: string,
  wildcard: boolean,
  key: KeyRecord,
  env: Environment,
): ReadonlySet<string> | undefined {
  if (spec.meta !== undefined)
    throw new RequestError('bad_request', 'meta applies to presence channels only');
  const entity = spec.filter?.entity;
  const table = wildcard ? entity : name;
  if (!wildcard && entity !== undefined && entity !== name) {
    throw new RequestError(
      'bad_request',
      `filter.entity "${entity}" is not the channel's table "${name}"; subscribe to postgres:* to narrow by entity`,
    );
  }
  if (table !== undefined) {
    if (!env.hasTable(table)) {
      throw new RequestError(
        'channel_unavailable',
        `unknown table "${table}": this environment does not expose it`,
      );
    }
    if (key.readableTables && !key.readableTables.has(table)) {
      throw new RequestError('scope_denied', `this key may not read table "${table}"`);
    }
  } else if (spec.snapshot) {
    throw new RequestError('bad_request', 'a snapshot needs one table: subscribe to postgres:<table>');
  }
  return wildcard ? key.readableTables : undefined;
}
