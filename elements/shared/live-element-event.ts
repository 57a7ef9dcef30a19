/**
 * The DOM events the elements fire. Every one bubbles and is composed (it crosses shadow roots),
 * so a page can listen once on `document`; `event.target` is the element that fired it.
 */
import type { LiveRecord } from '../../protocol/index.js';
import type { ConnectionStatus, LiveError } from '../connection/index.js';

/** Base of the kit's events: fixes `bubbles` and `composed` and carries a typed `detail`. */
export abstract class LiveElementEvent<T> extends Event {
  constructor(
    type: string,
    /** What happened. */
    readonly detail: T,
  ) {
    super(type, { bubbles: true, composed: true });
  }
}

/** What one snapshot or batch did to the records an element shows. */
export type LiveChangeDetail = {
  /** `snapshot`: the records were replaced (first load, resync, new attributes); `events`: a batch. */
  reason: 'snapshot' | 'events';
  /** Records that entered the view (empty for a snapshot: see `records`). */
  added: readonly LiveRecord[];
  /** Records in the view whose content changed, in their new version. */
  modified: readonly LiveRecord[];
  /** Records that left the view (deleted, out of the filter, or pushed out of the window), in their last version. */
  removed: readonly LiveRecord[];
  /** Every record shown after the change, in display order. */
  records: readonly LiveRecord[];
};

/** `live-change`: a snapshot or a batch of changes was applied (fired after the element rendered it). */
export class LiveChangeEvent extends LiveElementEvent<LiveChangeDetail> {
  static readonly eventName = 'live-change';
  constructor(detail: LiveChangeDetail) {
    super(LiveChangeEvent.eventName, detail);
  }
}

/** `live-status`: the state of the element's connection changed. */
export class LiveStatusEvent extends LiveElementEvent<ConnectionStatus> {
  static readonly eventName = 'live-status';
  constructor(detail: ConnectionStatus) {
    super(LiveStatusEvent.eventName, detail);
  }
}

/** Where a problem came from. */
export type LiveErrorSource = 'attribute' | 'connection' | 'subscription';

/** A problem an element met, with the message it shows. */
export type LiveErrorDetail = LiveError & {
  /** `attribute`: an attribute value is invalid; `connection`: no connection or access denied; `subscription`: the server refused it. */
  source: LiveErrorSource;
};

/** `live-error`: the element cannot show live data, and says why (the same message is in its error part). */
export class LiveErrorEvent extends LiveElementEvent<LiveErrorDetail> {
  static readonly eventName = 'live-error';
  constructor(detail: LiveErrorDetail) {
    super(LiveErrorEvent.eventName, detail);
  }
}

/** Dispatches one of the kit's events from `target`; the one way elements fire them. */
export function emit(target: EventTarget, event: LiveElementEvent<unknown>): void {
  target.dispatchEvent(event);
}

// The events bubble and are composed, so `document` and `window` hear them too.
declare global {
  interface HTMLElementEventMap {
    'live-change': LiveChangeEvent;
    'live-status': LiveStatusEvent;
    'live-error': LiveErrorEvent;
  }
  interface DocumentEventMap {
    'live-change': LiveChangeEvent;
    'live-status': LiveStatusEvent;
    'live-error': LiveErrorEvent;
  }
  interface WindowEventMap {
    'live-change': LiveChangeEvent;
    'live-status': LiveStatusEvent;
    'live-error': LiveErrorEvent;
  }
}
