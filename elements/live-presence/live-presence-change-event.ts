/**
 * The `live-change` event of `<live-presence>`: who joined and who left. It has the name, the
 * bubbling and the composing of the other elements' `live-change`, with members in its `detail`
 * where theirs has records.
 */
import type { Member } from '../../protocol/index.js';
import { LiveElementEvent } from '../shared/live-element-event.js';

/** What one member list or batch of joins and leaves did to a room's members. */
export type LivePresenceChangeDetail = {
  /** `snapshot`: the member list was replaced (joined, re-joined, reconnected); `events`: a batch. */
  reason: 'snapshot' | 'events';
  /** Members who joined (empty for a snapshot: see `members`). */
  added: readonly Member[];
  /** Members who left, as they were. */
  removed: readonly Member[];
  /** Everyone in the room after the change, this element included, in order of arrival. */
  members: readonly Member[];
};

/** `live-change` of `<live-presence>`: members joined or left (fired after the element rendered it). */
export class LivePresenceChangeEvent extends LiveElementEvent<LivePresenceChangeDetail> {
  static readonly eventName = 'live-change';
  constructor(detail: LivePresenceChangeDetail) {
    super(LivePresenceChangeEvent.eventName, detail);
  }
}
