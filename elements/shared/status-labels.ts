/**
 * What `<live-status>` says in each connection state. English by default; set the element's
 * `labels` property to translate.
 */
import type { ConnectionState } from '../connection/index.js';

/** The words for each state; `reconnectingIn` gets the whole seconds left before the next try. */
export type StatusLabels = Record<ConnectionState, string> & { reconnectingIn: (seconds: number) => string };

/** The default labels. */
export const STATUS_LABELS: StatusLabels = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  reconnectingIn: (seconds) => `Reconnecting in ${seconds} s`,
  offline: 'Offline',
  denied: 'Access denied',
  closed: 'Closed',
};
