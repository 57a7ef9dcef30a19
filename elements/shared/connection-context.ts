/**
 * The `@lit/context` key under which `<live-connection>` provides its shared connection to the
 * elements inside it.
 */
import { ContextRoot, createContext } from '@lit/context';
import type { LiveConnection } from '../connection/index.js';

/**
 * The connection a `<live-connection>` provides (`undefined` while it lacks `url` or `api-key`).
 * Keyed by `Symbol.for`, so two copies of the kit on one page still find each other's providers.
 */
export const connectionContext = createContext<LiveConnection | undefined>(
  Symbol.for('catalyst-elements.connection'),
);

const ROOT = Symbol.for('catalyst-elements.context-root');

/**
 * Lets a provider that is defined or upgraded after its consumers still reach them: without a
 * ContextRoot, a list upgraded before its `<live-connection>` would never hear of it. Attached
 * once per document, on first use.
 */
export function attachContextRoot(): void {
  if (typeof document === 'undefined') return;
  const root = document.documentElement as HTMLElement & { [ROOT]?: ContextRoot };
  if (root[ROOT]) return;
  root[ROOT] = new ContextRoot();
  root[ROOT].attach(root);
}
