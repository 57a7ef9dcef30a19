/**
 * The controller behind `<live-status>` (and `<live-connection>`'s events): follows the state of
 * the element's connection without subscribing to anything, counts down `retryInMs` once a
 * second while a retry is pending, and fires `live-status` on every change (`live-error` too
 * when `reportErrors` is set and a new problem arrives).
 */
import type { ReactiveController } from 'lit';
import type { ConnectionStatus, LiveConnection, LiveError } from '../connection/index.js';
import { ConnectionResolver, type ConnectionHost, type ResolvedConnection } from './connection-resolver.js';
import { LiveErrorEvent, LiveStatusEvent, emit } from './live-element-event.js';

/** Options of a `ConnectionStatusController`. */
export type ConnectionStatusOptions = {
  /** Fire `live-error` when the connection reports a new `lastError` (for `<live-connection>`). */
  reportErrors?: boolean;
  /**
   * The connection to follow, instead of the one the element's attributes, provider or meta name
   * (`<live-connection>` follows the one it provides, with its transport and sharing).
   */
  connection?: () => LiveConnection | undefined;
};

/** Follows one element's connection state. */
export class ConnectionStatusController implements ReactiveController {
  /** The connection's state, or `undefined` when no connection is configured. */
  status: ConnectionStatus | undefined;
  /** Why no connection could be found, when the element's configuration is wrong. */
  problem: LiveError | undefined;

  readonly #resolve: () => ResolvedConnection;
  #connection: LiveConnection | undefined;
  #stop: (() => void) | undefined;
  #countdown: ReturnType<typeof setInterval> | undefined;

  readonly #host: ConnectionHost;
  readonly #options: ConnectionStatusOptions;
  constructor(host: ConnectionHost, options: ConnectionStatusOptions = {}) {
    this.#options = options;
    this.#host = host;
    const { connection } = options;
    if (connection) {
      this.#resolve = () => {
        const own = connection();
        return own && { connection: own };
      };
    } else {
      const resolver = new ConnectionResolver(host);
      this.#resolve = () => resolver.resolve();
    }
    host.addController(this);
  }

  /** Whole seconds until the next attempt while one is scheduled; otherwise `undefined`. */
  get retryInSeconds(): number | undefined {
    const status = this.status;
    if (status?.retryInMs === undefined || (status.state !== 'reconnecting' && status.state !== 'offline')) {
      return undefined;
    }
    return Math.max(0, Math.ceil((status.at + status.retryInMs - Date.now()) / 1000));
  }

  hostConnected(): void {
    this.#sync();
  }

  hostUpdate(): void {
    this.#sync();
  }

  hostDisconnected(): void {
    this.#release();
  }

  #sync(): void {
    const resolved = this.#resolve();
    const connection = resolved && 'connection' in resolved ? resolved.connection : undefined;
    this.problem = resolved && 'error' in resolved ? resolved.error : undefined;
    if (connection === this.#connection) return;
    this.#release();
    this.#connection = connection;
    this.status = connection?.status;
    this.#stop = connection?.onStatus((status) => this.#onStatus(status));
    this.#tick();
  }

  #onStatus(status: ConnectionStatus): void {
    const previous = this.status;
    this.status = status;
    this.#tick();
    this.#host.requestUpdate();
    emit(this.#host, new LiveStatusEvent(status));
    if (this.#options.reportErrors && status.lastError && status.lastError !== previous?.lastError) {
      emit(this.#host, new LiveErrorEvent({ source: 'connection', ...status.lastError }));
    }
  }

  /** Re-renders every second while a countdown shows, and stops when none does. */
  #tick(): void {
    const counting = this.retryInSeconds !== undefined;
    if (counting && this.#countdown === undefined) {
      this.#countdown = setInterval(() => {
        if (this.retryInSeconds === undefined) this.#stopCountdown();
        this.#host.requestUpdate();
      }, 1000);
    } else if (!counting) {
      this.#stopCountdown();
    }
  }

  #stopCountdown(): void {
    if (this.#countdown !== undefined) clearInterval(this.#countdown);
    this.#countdown = undefined;
  }

  #release(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#connection = undefined;
    this.status = undefined;
    this.#stopCountdown();
  }
}
