/**
 * The sentence an element's polite live region (its `announce` attribute) says after a batch:
 * counts, not record contents, so a burst of changes stays one short announcement.
 */
import type { LiveChangeDetail } from './live-element-event.js';

/** Turns a change into the text announced; replace it (the `announcer` property) to translate. */
export type ChangeAnnouncer = (change: LiveChangeDetail) => string;

/** The default, English: "2 added, 1 updated, 1 removed." (empty when nothing changed). */
export const announceChange: ChangeAnnouncer = (change) => {
  const parts: string[] = [];
  if (change.added.length) parts.push(`${change.added.length} added`);
  if (change.modified.length) parts.push(`${change.modified.length} updated`);
  if (change.removed.length) parts.push(`${change.removed.length} removed`);
  return parts.length ? `${parts.join(', ')}.` : '';
};
