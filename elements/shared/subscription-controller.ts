/**
 * The life of one element's subscription, shared by `LiveQueryController`, `LiveRecordController`
 * (records channels, through `SubscriptionController`) and `LivePresenceController` (a presence
 * channel): find the connection, subscribe in `hostConnected()`, follow attribute and connection
 * changes before each render (`hostUpdate()`), release in `hostDisconnected()`.
 *
 * A change of attributes replaces the subscription atomically with `update()` (same id, the
 * server swaps filter and snapshot in one step); a change of connection unsubscribes from the
 * old one and subscribes on the new. Invalid attributes, a missing connection, a refused
 * subscription and a denied key all end in the `error` state with a message, and `live-error`.
 */
import type { ReactiveController } from 'lit';
import type { LiveEvent, RecordEvent, SubscribedMessage } from '../../protocol/index.js';
import type {
  ConnectionStatus,
  LiveConnection,
  LiveSubscriptionHandle,
  SubscriptionRequest,
} from '../connection/index.js';
import { ChangeHighlights, type ChangeMark } from './change-highlights.js';
import { ConnectionResolver, NO_CONNECTION_MESSAGE, type ConnectionHost } from './connection-resolver.js';
import {
  LiveChangeEvent,
  LiveErrorEvent,
  LiveStatusEvent,
  emit,
  type LiveChangeDetail,
  type LiveElementEvent,
  type LiveErrorDetail,
} from './live-element-event.js';
import { AttributeError, whereRefusal } from './parse-attributes.js';

/**
 * Where an element's data stands: `loading` (waiting for the first snapshot, or the snapshot of
 * new attributes), `ready` (showing live data) or `error` (cannot show data: see `error`). The
 * elements compare with these words directly, so no table of them ships.
 */
export type LoadState = 'loading' | 'ready' | 'error';

/** The host of a data controller: where to connect, and how long a change stays marked. */
export type DataHost = ConnectionHost & {
  /** How long a changed item stays marked, in ms (0: never marked). */
  highlight: number;
};

/** What a subclass derives from its host's attributes: at least the subscription request. */
export type SubscriptionPlan = { request: SubscriptionRequest };

/**
 * Base of the data controllers, for any channel: `P` is what the subclass needs to hold the
 * subscription's state, `E` the events it applies, `D` what its `live-change` events say.
 */
export abstract class ChannelSubscriptionController<
  P extends SubscriptionPlan,
  E extends LiveEvent,
  D,
> implements ReactiveController {
  /** Where the data stands. */
  state: LoadState = 'loading';
  /** Why `state` is `error`. */
  error: LiveErrorDetail | undefined;
  /** Items that changed a moment ago (by key), for the highlight; cleared when the host leaves. */
  readonly highlights: ChangeHighlights;

  readonly #resolver: ConnectionResolver;
  #connection: LiveConnection | undefined;
  #handle: LiveSubscriptionHandle | undefined;
  #stopStatus: (() => void) | undefined;
  #lastInputs: readonly unknown[] | undefined;
  #lastTarget: LiveConnection | string | undefined;
  #requestJson: string | undefined;

  constructor(protected readonly host: DataHost) {
    // The resolver must be added first: it asks for the provider's connection in its own
    // hostConnected(), just before ours runs.
    this.#resolver = new ConnectionResolver(host);
    this.highlights = new ChangeHighlights(() => host.requestUpdate());
    host.addController(this);
  }

  /** The host values the subscription depends on; a change of any (by identity) re-plans it. */
  protected abstract inputs(): readonly unknown[];
  /** Derives the plan from the host's values; throws `AttributeError` on an invalid one. No side effects. */
  protected abstract plan(): P;
  /** Clears the state for a new plan (new subscription or new attributes). */
  protected abstract begin(plan: P): void;
  /** A snapshot (or a presence room's member list) replaced the state; returns the change to report. */
  protected abstract onSnapshot(message: SubscribedMessage): D;
  /** Whether an event of a batch is one this controller applies. */
  protected abstract accepts(event: LiveEvent): event is E;
  /** A batch's events that `accepts` arrived; returns the change to report, or nothing. */
  protected abstract onBatch(events: E[]): D | undefined;
  /** The `live-change` event that reports `detail`. */
  protected abstract changeEvent(detail: D): LiveElementEvent<D>;

  hostConnected(): void {
    this.#sync(false);
  }

  hostUpdate(): void {
    this.#sync(true);
  }

  hostDisconnected(): void {
    this.#release();
    this.highlights.clear();
    this.#lastInputs = undefined;
    this.#lastTarget = undefined;
  }

  /** Asks for a fresh snapshot of the same subscription. */
  protected resync(): void {
    this.#handle?.resync();
  }

  /** Marks the items of one change for the host's `highlight` ms. */
  protected mark(keys: Iterable<string>, mark: ChangeMark): void {
    this.highlights.mark(keys, mark, this.host.highlight);
  }

  /** Fires `live-change` once the host has rendered the change. */
  protected reportChange(detail: D): void {
    this.host.requestUpdate();
    void this.host.updateComplete.then(() => emit(this.host, this.changeEvent(detail)));
  }

  /**
   * Brings the subscription in line with the host. Before the first render (`final` false) only
   * a complete, valid configuration subscribes; anything else waits for that render, since a
   * script may still be setting properties and a `<live-connection>` upgraded later may still
   * answer. From then on, problems are shown.
   */
  #sync(final: boolean): void {
    const inputs = this.inputs();
    const resolved = this.#resolver.resolve();
    const target = resolved && ('connection' in resolved ? resolved.connection : resolved.error.message);
    if (this.#lastInputs && sameValues(inputs, this.#lastInputs) && target === this.#lastTarget) return;

    let plan: P | AttributeError;
    try {
      plan = this.plan();
    } catch (error) {
      if (!(error instanceof AttributeError)) throw error;
      plan = error;
    }
    if (!final && (plan instanceof AttributeError || resolved === undefined || 'error' in resolved)) return;
    this.#lastInputs = inputs;
    this.#lastTarget = target;
    if (plan instanceof AttributeError) {
      this.#fail({ source: 'attribute', name: 'bad_attribute', message: plan.message });
      return;
    }
    if (resolved === undefined) {
      this.#fail({ source: 'connection', name: 'no_connection', message: NO_CONNECTION_MESSAGE });
      return;
    }
    if ('error' in resolved) {
      this.#fail({ source: 'connection', ...resolved.error });
      return;
    }

    const json = JSON.stringify(plan.request);
    if (this.#handle && this.#connection === resolved.connection) {
      if (json === this.#requestJson) return;
      this.#requestJson = json;
      this.#start(plan);
      this.#handle.update(plan.request);
      return;
    }
    this.#release();
    const connection = resolved.connection;
    this.#connection = connection;
    this.#requestJson = json;
    this.#stopStatus = connection.onStatus((status) => this.#onStatus(status));
    this.#start(plan);
    try {
      this.#handle = connection.subscribe(plan.request, {
        onSubscribed: (message) => this.#onSubscribed(message),
        onEvents: (events) => this.#onEvents(events),
        onError: (error) => {
          const refusal = whereRefusal(error.details);
          this.#fail(
            refusal
              ? { source: 'attribute', name: 'bad_attribute', message: refusal.message }
              : { source: 'subscription', ...error },
          );
        },
      });
    } catch (error) {
      // A connection closed for good (`close()`) refuses new subscriptions.
      this.#fail({ source: 'connection', name: 'closed', message: (error as Error).message });
    }
  }

  #start(plan: P): void {
    this.state = 'loading';
    this.error = undefined;
    this.begin(plan);
    this.host.requestUpdate();
  }

  #onSubscribed(message: SubscribedMessage): void {
    if (message.resumed) {
      // Resumed after a reconnect: the state is still right, and the missed events follow.
      return;
    }
    const detail = this.onSnapshot(message);
    this.state = 'ready';
    this.error = undefined;
    this.reportChange(detail);
  }

  #onEvents(events: LiveEvent[]): void {
    // A subscription only receives events of its channel's kind; the guard keeps the type honest.
    const accepted = events.filter((event) => this.accepts(event));
    if (accepted.length === 0 || this.state !== 'ready') return;
    const detail = this.onBatch(accepted);
    if (detail) this.reportChange(detail);
  }

  #onStatus(status: ConnectionStatus): void {
    emit(this.host, new LiveStatusEvent(status));
    if (status.state === 'denied') {
      // Keep the subscription: the manager stops retrying on its own, the connection stays
      // `denied` (it would go idle if its last subscription left) and, should it open again,
      // the subscription is re-sent and its snapshot clears the error.
      const error = status.lastError ?? { name: 'denied', message: 'the server refused the key' };
      this.#fail({ source: 'connection', ...error, message: `access denied: ${error.message}` }, false);
      return;
    }
    this.host.requestUpdate();
  }

  /**
   * Shows `error` and fires `live-error`; unless `release` is false, the subscription is
   * released until something changes.
   */
  #fail(error: LiveErrorDetail, release = true): void {
    if (release) this.#release();
    this.state = 'error';
    this.error = error;
    this.host.requestUpdate();
    emit(this.host, new LiveErrorEvent(error));
  }

  #release(): void {
    this.#handle?.unsubscribe();
    this.#handle = undefined;
    this.#stopStatus?.();
    this.#stopStatus = undefined;
    this.#connection = undefined;
    this.#requestJson = undefined;
  }
}

/** Base of the records controllers (`LiveQueryController`, `LiveRecordController`). */
export abstract class SubscriptionController<
  P extends SubscriptionPlan,
> extends ChannelSubscriptionController<P, RecordEvent, LiveChangeDetail> {
  protected accepts(event: LiveEvent): event is RecordEvent {
    return 'record' in event;
  }

  protected changeEvent(detail: LiveChangeDetail): LiveChangeEvent {
    return new LiveChangeEvent(detail);
  }
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
