/**
 * Keeps `data-format="relative"` text ("3 minutes ago") true as time passes: one page-wide timer
 * re-formats the watched nodes every `RELATIVE_TIME_TICK_MS`, without re-rendering any element.
 * The timer runs only while some node is watched; nodes that left the document are dropped.
 */
import { formatValue } from './format-value.js';

/** How often relative times are refreshed. */
export const RELATIVE_TIME_TICK_MS = 30_000;

type Watched = { value: unknown; locale: string | undefined };

const watched = new Map<Element, Watched>();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  const now = Date.now();
  for (const [node, { value, locale }] of watched) {
    if (!node.isConnected) watched.delete(node);
    else node.textContent = formatValue(value, 'relative', locale, now);
  }
  if (watched.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** Refreshes `node`'s text from `value` until it leaves the document (or is watched anew). */
export function watchRelativeTime(node: Element, value: unknown, locale: string | undefined): void {
  watched.set(node, { value, locale });
  timer ??= setInterval(tick, RELATIVE_TIME_TICK_MS);
}
