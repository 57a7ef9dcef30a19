/**
 * A commit as it travels through Redis: its JSON without `seq` (the log assigns the seq inside the
 * append script, research/scale-out.md section 5(A)), in history and in pub/sub messages alike.
 * The whole commit is kept, not the journal's delta (commit-delta.ts): another process has no
 * store to replay a delta against, and needs `oldRecord` to tell who leaves a filter.
 */
import { CommitSchema, type Commit, type CommitDraft } from '../engine/commit.js';

export type { CommitDraft } from '../engine/commit.js';

/** An entry of the log that is not a commit this version can read (damaged, or from a newer one). */
export class UnreadableEntryError extends Error {
  constructor(
    readonly seq: number,
    reason: string,
  ) {
    super(`the cluster log's entry ${seq} is not a commit: ${reason}`);
    this.name = 'UnreadableEntryError';
  }
}

/** The stored text of a draft: its JSON, without a `seq` it may carry. */
export function encodeDraft(draft: CommitDraft): string {
  if (!Object.hasOwn(draft, 'seq')) return JSON.stringify(draft);
  const { seq: _seq, ...rest } = draft as CommitDraft & { seq?: unknown };
  return JSON.stringify(rest);
}

/**
 * The commit with seq `seq` from its stored form (JSON text, or that text already parsed, as in a
 * pub/sub message). It is checked against `CommitSchema` and returned as parsed, not as zod's
 * copy: a copy would drop a field named `__proto__` (commit-delta.ts). Throws
 * `UnreadableEntryError`.
 */
export function decodeCommit(stored: unknown, seq: number): Commit {
  let value = stored;
  if (typeof stored === 'string') {
    try {
      value = JSON.parse(stored);
    } catch {
      throw new UnreadableEntryError(seq, 'not JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnreadableEntryError(seq, 'not an object');
  }
  const commit = value as Record<string, unknown>;
  commit.seq = seq;
  const checked = CommitSchema.safeParse(commit);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new UnreadableEntryError(seq, `${where}${issue?.message ?? 'invalid'}`);
  }
  return commit as Commit;
}
