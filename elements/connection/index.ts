/** The connection manager's public API (the package's `./connection` entry). */
export { backoff, retryDelay, type BackoffOptions } from './backoff.js';
export { connect } from './connect.js';
export {
  CONNECTION_STATES,
  type ConnectionState,
  type ConnectionStatus,
  type LiveError,
} from './connection-status.js';
export {
  DEFAULTS,
  LiveConnection,
  SHARES,
  TRANSPORTS,
  type ConnectOptions,
  type Share,
  type Transport,
  type WebSocketClass,
} from './live-connection.js';
export type {
  LiveSubscriptionHandle,
  SubscriptionHandlers,
  SubscriptionRequest,
} from './live-subscription.js';
