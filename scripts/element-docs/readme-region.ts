/**
 * A generated region of a Markdown file: the text between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` (README.md's `element-reference`, protocol/README.md's `limits`). Only that
 * text is ever replaced; everything outside the markers, the markers included, stays byte for byte.
 */
import { DocsError } from './docs-error.js';

/** The markers of the region called `name`. */
export function regionMarkers(name: string): { start: string; end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

function onlyIndex(text: string, marker: string, fileName: string, name: string): number {
  const index = text.indexOf(marker);
  const { start, end } = regionMarkers(name);
  if (index === -1) {
    throw new DocsError(
      `${fileName} has no ${marker} marker: put ${start} and ${end}, each on a line of its own, where the ${name} region belongs`,
    );
  }
  if (text.indexOf(marker, index + marker.length) !== -1) {
    throw new DocsError(`${fileName} has ${marker} more than once: keep one region`);
  }
  return index;
}

/**
 * `text` with the content of the region `name` (default: the element reference) replaced by
 * `content`; a `DocsError` when the markers are wrong.
 */
export function replaceRegion(
  text: string,
  content: string,
  fileName = 'README.md',
  name = 'element-reference',
): string {
  const markers = regionMarkers(name);
  const start = onlyIndex(text, markers.start, fileName, name) + markers.start.length;
  const end = onlyIndex(text, markers.end, fileName, name);
  if (end < start) throw new DocsError(`${fileName} has ${markers.end} before ${markers.start}`);
  return `${text.slice(0, start)}\n\n${content}\n\n${text.slice(end)}`;
}
