/**
 * The controller behind `<live-presence>`: one member of a presence room. It subscribes to
 * `presence:<room>` with the host's `meta`, takes the room's members from the `subscribed` answer
 * (this member included) and keeps them through every join and leave. The server answers every
 * (re)join with the whole list and never replays a room (PROTOCOL.md section 4), so a reconnect
 * or a new `room` or `meta` (one subscription, replaced atomically) just replaces the list.
 *
 * Members of one connection (two elements sharing it) have the same connectionId: each member
 * shown gets a key of its own, and a leave takes away a member with its connectionId and `meta`.
 */
import { parseChannel } from '../../protocol/channel.js';
import { PROTOCOL_BOUNDS } from '../../protocol/limits.js';
import type { LiveEvent, Member, PresenceEvent, SubscribedMessage } from '../../protocol/messages.js';
import type { SubscriptionRequest } from '../connection/index.js';
import {
  LivePresenceChangeEvent,
  type LivePresenceChangeDetail,
} from '../live-presence/live-presence-change-event.js';
import { AttributeError } from './parse-attributes.js';
import { ChannelSubscriptionController, type DataHost } from './subscription-controller.js';

/** What the other members see of one: a JSON object. */
export type MemberMeta = Member['meta'];

/** The host of a `LivePresenceController`. */
export type LivePresenceHost = DataHost & {
  room: string | undefined;
  meta: string | MemberMeta | undefined;
};

type PresencePlan = { request: SubscriptionRequest };

const META_EXAMPLE = `write it like meta='{"name":"Ada"}'`;

/** Holds a room's members and keeps them in step with the server. */
export class LivePresenceController extends ChannelSubscriptionController<
  PresencePlan,
  PresenceEvent,
  LivePresenceChangeDetail
> {
  /** Batches of joins and leaves applied since the member list arrived (the live region's cue). */
  changes = 0;
  #members: readonly Member[] = [];
  readonly #keys = new WeakMap<Member, string>();
  #lastKey = 0;

  declare protected readonly host: LivePresenceHost;

  /** Everyone in the room, this member included, in order of arrival. */
  get members(): readonly Member[] {
    return this.#members;
  }

  /** The key of a member shown: unique among the members, kept for as long as it stays. */
  keyOf(member: Member): string {
    return this.#keys.get(member) ?? '';
  }

  protected inputs(): readonly unknown[] {
    return [this.host.room, this.host.meta];
  }

  protected plan(): PresencePlan {
    const channel = parseRoom(this.host.room);
    const meta = parseMeta(this.host.meta);
    return { request: meta ? { channel, meta } : { channel } };
  }

  /** A new room or meta: the members shown stay (marked busy) until the new list replaces them. */
  protected begin(): void {}

  protected onSnapshot(message: SubscribedMessage): LivePresenceChangeDetail {
    const members = message.members ?? [];
    for (const member of members) this.#keys.set(member, this.#newKey());
    this.#members = members;
    this.highlights.clear();
    this.changes = 0;
    return { reason: 'snapshot', added: [], removed: [], members };
  }

  protected accepts(event: LiveEvent): event is PresenceEvent {
    return 'member' in event;
  }

  protected onBatch(events: PresenceEvent[]): LivePresenceChangeDetail | undefined {
    const members = [...this.#members];
    const added: Member[] = [];
    const removed: Member[] = [];
    for (const { change, member } of events) {
      if (change === 'join') {
        this.#keys.set(member, this.#newKey());
        members.push(member);
        added.push(member);
        continue;
      }
      const index = members.findIndex((shown) => identity(shown) === identity(member));
      if (index < 0) continue;
      const [gone] = members.splice(index, 1) as [Member];
      const joined = added.indexOf(gone);
      if (joined >= 0)
        added.splice(joined, 1); // came and went within one batch
      else removed.push(gone);
    }
    if (added.length + removed.length === 0) return undefined;
    this.#members = members;
    this.mark(
      added.map((member) => this.keyOf(member)),
      'added',
    );
    this.changes++;
    return { reason: 'events', added, removed, members };
  }

  protected changeEvent(detail: LivePresenceChangeDetail): LivePresenceChangeEvent {
    return new LivePresenceChangeEvent(detail);
  }

  #newKey(): string {
    return String(++this.#lastKey);
  }
}

/** A member's connection and meta: what a leave names. */
function identity(member: Member): string {
  return `${member.connectionId}\u0000${JSON.stringify(member.meta)}`;
}

/** `room`: required, one room name. Returns its presence channel. */
function parseRoom(room: string | undefined): string {
  if (!room) {
    throw new AttributeError('room is required: the name of the room to join, e.g. room="lobby"');
  }
  const channel = `presence:${room}`;
  const parsed = parseChannel(channel);
  if ('error' in parsed) throw new AttributeError(`room: ${parsed.error}`);
  return channel;
}

/**
 * `meta`: JSON text of an object, or, as a property, the object; at most `maxPresenceMetaBytes`
 * of JSON. Returns the JSON value the others will see (no functions, dates as text); empty means none.
 */
function parseMeta(meta: string | MemberMeta | undefined): MemberMeta | undefined {
  if (meta === undefined || meta === null || meta === '') return undefined;
  let text: string | undefined;
  try {
    text = typeof meta === 'string' ? meta : JSON.stringify(meta);
  } catch (error) {
    throw new AttributeError(`meta cannot be written as JSON (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch (error) {
    throw new AttributeError(`meta is not valid JSON (${(error as Error).message}); ${META_EXAMPLE}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AttributeError(`meta must be a JSON object of what the others see; ${META_EXAMPLE}`);
  }
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  const max = PROTOCOL_BOUNDS.maxPresenceMetaBytes;
  if (bytes > max) {
    throw new AttributeError(
      `meta is ${bytes} bytes of JSON, over the ${max} allowed; keep it to what the others need, like a name`,
    );
  }
  return value as MemberMeta;
}
