/**
 * The generated region of a Markdown file: the text between `<!-- element-reference:start -->`
 * and `<!-- element-reference:end -->`. Only that text is ever replaced; everything outside the
 * markers, the markers included, stays byte for byte.
 */
import { DocsError } from './docs-error.js';

/** The line that opens the region. */
export const REGION_START = '<!-- element-reference:start -->';
/** The line that closes the region. */
export const REGION_END = '<!-- element-reference:end -->';

function onlyIndex(text: string, marker: string, fileName: string): number {
  const index = text.indexOf(marker);
  if (index === -1) {
    throw new DocsError(
      `${fileName} has no ${marker} marker: put ${REGION_START} and ${REGION_END}, each on a line of its own, where the element reference belongs`,
    );
  }
  if (text.indexOf(marker, index + marker.length) !== -1) {
    throw new DocsError(`${fileName} has ${marker} more than once: keep one region`);
  }
  return index;
}

/** `text` with the region's content replaced by `content`; a `DocsError` when the markers are wrong. */
export function replaceRegion(text: string, content: string, fileName = 'README.md'): string {
  const start = onlyIndex(text, REGION_START, fileName) + REGION_START.length;
  const end = onlyIndex(text, REGION_END, fileName);
  if (end < start) throw new DocsError(`${fileName} has ${REGION_END} before ${REGION_START}`);
  return `${text.slice(0, start)}\n\n${content}\n\n${text.slice(end)}`;
}
