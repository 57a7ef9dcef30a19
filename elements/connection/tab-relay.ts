/**
 * The leading tab's side of tab sharing (see tab-link.ts): it answers followers' frames as the
 * server would, carrying their subscriptions on its own connection. A follower's subscription
 * becomes one of the leader's, under the id `<tab>~<id>`, resuming from the follower's own
 * `since`/`epoch`; its `subscribed`, events and refusals go back to that follower alone.
 *
 * When the leader's link ends, each follower's link ends with the same code, so every tab backs
 * off, reconnects and resumes on its own terms, exactly as with a socket of its own. A follower
 * that stops answering the leader's pings (its tab closed or frozen) is dropped with its
 * subscriptions.
 */
import type {
  ClientMessage,
  ServerMessage,
  SubscriptionSpec,
  WelcomeMessage,
} from '../../protocol/messages.js';
import type { LiveError } from './connection-status.js';
import type { SubscriptionHandlers } from './live-subscription.js';
import { RELINK, type TabMessage } from './tab-link.js';

/** What the relay needs of the leader's connection manager. */
export interface RelayHost {
  /** The leader's `welcome` while its link is open. */
  welcome(): WelcomeMessage | undefined;
  /** Makes sure the leader's link is up or coming (again, after its key was refused). */
  open(): void;
  /** Subscribes (or re-subscribes) under `id`, resuming from `spec.since`/`spec.epoch`. */
  relay(id: string, spec: Omit<SubscriptionSpec, 'id'>, handlers: SubscriptionHandlers): void;
  /** Ends a relayed subscription. */
  drop(id: string): void;
  /** Publishes for a follower. */
  publish(channel: string, data: unknown): Promise<number>;
}

type Follower = { welcomed: boolean; subs: Set<string>; seenAt: number };

/** Relays followers' frames through the leader's connection. */
export class TabRelay {
  readonly #followers = new Map<string, Follower>();
  #beatAt = 0;

  constructor(
    private readonly channel: BroadcastChannel,
    private readonly host: RelayHost,
  ) {
    channel.addEventListener('message', this.#onMessage);
  }

  /** The leader was welcomed: so is every follower waiting for it. */
  welcome(): void {
    const welcome = this.host.welcome();
    if (!welcome) return;
    for (const [tab, follower] of this.#followers) {
      if (follower.welcomed) continue;
      follower.welcomed = true;
      follower.seenAt = Date.now();
      this.#send(tab, welcome);
    }
  }

  /**
   * The server's heartbeat reached the leader: pass it on (at most every `heartbeatMs / 2`), and
   * drop the followers silent for 2 × `heartbeatMs`, as the server drops a silent client. Driven by
   * the server's pings rather than a timer, which a background tab's browser throttles.
   */
  heartbeat(heartbeatMs: number): void {
    const now = Date.now();
    if (now - this.#beatAt < heartbeatMs / 2) return;
    this.#beatAt = now;
    for (const [tab, follower] of this.#followers) {
      if (now - follower.seenAt > 2 * heartbeatMs) this.#close(tab, 4011, 'the tab stopped answering');
      else if (follower.welcomed) this.#send(tab, { type: 'ping' });
    }
  }

  /** The leader's link ended: every follower's link ends the same way. */
  linkLost(code: number, reason: string): void {
    for (const tab of [...this.#followers.keys()]) this.#close(tab, code, reason);
  }

  /** This tab stops leading: each follower says hello again, to the tab that leads next. */
  close(): void {
    this.linkLost(RELINK, 'relink');
    this.channel.removeEventListener('message', this.#onMessage);
  }

  readonly #onMessage = ({ data }: MessageEvent<TabMessage>): void => {
    if (!('from' in data)) return;
    const tab = data.from;
    if ('hello' in data) {
      this.#forget(tab);
      this.#followers.set(tab, { welcomed: false, subs: new Set(), seenAt: Date.now() });
      this.host.open();
      this.welcome();
      return;
    }
    const follower = this.#followers.get(tab);
    if (!follower) return;
    follower.seenAt = Date.now();
    if ('bye' in data) return this.#forget(tab);
    const message = JSON.parse(data.frame) as ClientMessage;
    switch (message.type) {
      case 'subscribe': {
        const { type: _, id, ...spec } = message;
        follower.subs.add(id);
        this.host.relay(`${tab}~${id}`, spec, this.#handlers(tab, id));
        return;
      }
      case 'unsubscribe':
        if (follower.subs.delete(message.id)) this.host.drop(`${tab}~${message.id}`);
        return;
      case 'publish': {
        const { id, channel } = message;
        this.host.publish(channel, message.data).then(
          (seq) => this.#send(tab, { type: 'published', id, channel, seq }),
          (error: LiveError) =>
            this.#send(tab, {
              type: 'error',
              id,
              code: error.code ?? 1011,
              name: error.name,
              message: error.message,
            }),
        );
      }
    }
  };

  /** The handlers of a follower's subscription `id` on the leader: each answer goes back to it. */
  #handlers(tab: string, id: string): SubscriptionHandlers {
    return {
      onSubscribed: (message) => this.#send(tab, { ...message, id }),
      onEvents: (events) =>
        this.#send(tab, { type: 'batch', events: events.map((e) => ({ ...e, sub: id })) }),
      onError: ({ code = 4000, name, message, details }) =>
        this.#send(tab, {
          type: 'error',
          id,
          code,
          name,
          message,
          ...(details === undefined ? {} : { details }),
        }),
    };
  }

  #send(tab: string, message: ServerMessage): void {
    this.#post({ to: tab, frame: JSON.stringify(message) });
  }

  #post(message: TabMessage): void {
    this.channel.postMessage(message);
  }

  /** Ends a follower's link. */
  #close(tab: string, code: number, reason: string): void {
    this.#forget(tab);
    this.#post({ to: tab, close: [code, reason] });
  }

  /** Drops a follower and its subscriptions. */
  #forget(tab: string): void {
    for (const id of this.#followers.get(tab)?.subs ?? []) this.host.drop(`${tab}~${id}`);
    this.#followers.delete(tab);
  }
}
