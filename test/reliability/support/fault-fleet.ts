/**
 * Connection managers in this Node process, as pages would run them: `connect()` from
 * elements/connection with `ws`'s WebSocket, one key each (connect() shares one connection per
 * url + key, so distinct keys make distinct connections), each holding the subscriptions of
 * fault-subscriptions.ts with a `TraceRecorder` behind every one.
 */
import { WebSocket } from 'ws';
import { connect, type LiveConnection } from '../../../elements/connection/index.js';
import {
  FAULT_SUBSCRIPTION_NAMES,
  faultSubscriptions,
  type FaultSubscriptionName,
} from './fault-subscriptions.js';
import { TraceRecorder } from './subscription-trace.js';

/** One client of the fleet. */
export type FleetClient = {
  key: string;
  connection: LiveConnection;
  recorders: Record<FaultSubscriptionName, TraceRecorder>;
};

/** A backoff short enough that ten crashes do not leave a client minutes behind. */
const BACKOFF = { minMs: 20, maxMs: 300, factor: 2 } as const;

/** Opens one client per key against `url`, each subscribed to the fault subscriptions of `topic`. */
export function openFleet(url: string, keys: readonly string[], topic: string): FleetClient[] {
  const requests = faultSubscriptions(topic);
  return keys.map((key) => {
    const connection = connect({ url, apiKey: key, WebSocket, transport: 'websocket', backoff: BACKOFF });
    const recorders = Object.fromEntries(
      FAULT_SUBSCRIPTION_NAMES.map((name) => [name, new TraceRecorder()]),
    ) as Record<FaultSubscriptionName, TraceRecorder>;
    for (const name of FAULT_SUBSCRIPTION_NAMES)
      connection.subscribe(requests[name], recorders[name].handlers);
    return { key, connection, recorders };
  });
}
