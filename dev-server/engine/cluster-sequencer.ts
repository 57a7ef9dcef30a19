/**
 * Where an environment's changes take their `seq` when several server processes serve it
 * (PROTOCOL.md section 11): the cluster's log, not this process. The engine does no I/O; the
 * Node shell's cluster node implements this over Redis (dev-server/cluster/).
 */
import type { CommitDraft } from './commit.js';
import type { Environment } from './environment.js';

/** The cluster's sequencer of an environment's changes. */
export interface ClusterSequencer {
  /** Whether the log can be reached now: writes answer 503 `unavailable` while it cannot. */
  readonly available: boolean;
  /**
   * Appends changes to the environment's log, in order and with consecutive seqs; resolves with
   * their seqs once they are there (`null` for a change whose marker says it was appended
   * already: a PostgreSQL change read again). Every process, this one too, then receives them in
   * seq order (`Environment.receive`). Rejects with `ApiError` `unavailable` when the log cannot
   * be reached.
   */
  append(
    env: Environment,
    drafts: readonly CommitDraft[],
    markers?: readonly string[],
  ): Promise<(number | null)[]>;
}
