/**
 * The `@lit/context` key under which `<live-connection>` provides its shared connection to the
 * elements inside it.
 */
import { createContext } from '@lit/context';
import type { LiveConnection } from '../connection/index.js';

/**
 * The connection a `<live-connection>` provides (`undefined` while it lacks `url` or `api-key`).
 * Keyed by `Symbol.for`, so two copies of the kit on one page still find each other's providers.
 */
export const connectionContext = createContext<LiveConnection | undefined>(
  Symbol.for('catalyst-elements.connection'),
);
