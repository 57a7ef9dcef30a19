/**
 * The `@lit/context` key under which `<live-connection>` provides its shared connection to the
 * elements inside it, and the provider it does it with.
 */
import { ContextEvent, createContext, type ContextCallback } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LiveConnection } from '../connection/index.js';

/**
 * The connection a `<live-connection>` provides (`undefined` while it lacks `url` or `api-key`).
 * Keyed by `Symbol.for`, so two copies of the kit on one page still find each other's providers.
 */
export const connectionContext = createContext<LiveConnection | undefined>(
  Symbol.for('catalyst-elements.connection'),
);

type Subscriber = { consumer: Element; dispose: () => void };

/**
 * What `<live-connection>` uses to provide its connection: the provider side of the
 * `@lit/context` protocol (what `ContextProvider` does, for this one context, without its classes
 * in the bundle). Answers `context-request`s for `connectionContext` from inside the host, keeps
 * subscribers up to date, announces itself (`context-provider`) so consumers that asked before it
 * existed ask again, and hands its subscribers inside a nested provider that appears later over
 * to it.
 */
export class ConnectionProvider implements ReactiveController {
  #value: LiveConnection | undefined;
  readonly #subscribers = new Map<ContextCallback<LiveConnection | undefined>, Subscriber>();

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
    host.addEventListener('context-request', (event) => {
      const { context, callback, subscribe } = event;
      const consumer = event.contextTarget ?? (event.composedPath()[0] as Element);
      if (context !== connectionContext || consumer === host) return;
      event.stopPropagation();
      let subscriber = this.#subscribers.get(callback);
      if (subscribe && !subscriber) {
        subscriber = { consumer, dispose: () => this.#subscribers.delete(callback) };
        this.#subscribers.set(callback, subscriber);
      }
      callback(this.#value, subscriber?.dispose);
    });
    host.addEventListener('context-provider', (event) => {
      const child = event.contextTarget ?? (event.composedPath()[0] as Element);
      if (event.context !== connectionContext || child === host) return;
      event.stopPropagation();
      for (const [callback, { consumer }] of [...this.#subscribers]) {
        consumer.dispatchEvent(new ContextEvent(connectionContext, consumer, callback, true));
      }
    });
  }

  /** The connection provided now. */
  get value(): LiveConnection | undefined {
    return this.#value;
  }

  /** Provides `value` (the connection, or none) and tells every subscriber when it changed. */
  setValue(value: LiveConnection | undefined): void {
    if (value === this.#value) return;
    this.#value = value;
    for (const [callback, { dispose }] of this.#subscribers) callback(value, dispose);
  }

  hostConnected(): void {
    const announce = new Event('context-provider', { bubbles: true, composed: true });
    this.host.dispatchEvent(
      Object.assign(announce, { context: connectionContext, contextTarget: this.host }),
    );
  }
}
