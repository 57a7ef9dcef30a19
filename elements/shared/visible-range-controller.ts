/**
 * Which rows of a long list to render: those in view and a viewport's height above and below, with
 * two spacers keeping the place of all the others, so the list keeps its full height and the page
 * its scrollbar. The list lives in the page's flow and any scrolling ancestor may scroll it: a
 * capture-phase `scroll` listener on the window hears the page and every scroller in the light DOM
 * before the frame is painted; an IntersectionObserver on the spacers hears the rest (a scroller in
 * some shadow root, a resize, content above the list that grows) when a spacer nears the view.
 *
 * Rows not rendered count as the average height of all the rows measured so far (after every
 * render); how many rows fill the view goes by the average of the rows rendered last. When a render
 * changes what lies above the view (rows added or removed there, a guess replaced by a
 * measurement), the first row in view that the change left alone keeps its place on screen: the
 * browser's scroll anchoring moves the scroller where it can, and the controller scrolls whatever
 * is left itself (Safari has no scroll anchoring). As with scroll anchoring, nothing is held while
 * the list's top is in view: rows added there push the others down.
 */
import type { ReactiveController, ReactiveElement } from 'lit';

/** The slice of a list to render: `rows`, the first at index `start`, and the px the rows before and after them take. */
export type VisibleRange<T> = { rows: T[]; start: number; before: number; after: number };

/** A row's height until one is measured. */
const FIRST_GUESS = 40;

/** Keeps the range of rows a long list renders in step with the viewport; see the module comment. */
export class VisibleRangeController implements ReactiveController {
  /** Px and count of every row measured (each time it was), and the average height of the last render's. */
  #sum = 0;
  #count = 0;
  #local = FIRST_GUESS;
  /** The rows the last render showed; `undefined` when it showed them all. */
  #shown: readonly unknown[] | undefined;
  /** The row (index in `#shown`) that keeps its place through this render, and its top before it. */
  #anchor: [number, number] | undefined;
  readonly #look = (): void => {
    if (this.#shown) this.host.requestUpdate();
  };
  /** Renders again when a spacer comes within half a viewport's height of the view. */
  readonly #observer = new IntersectionObserver(this.#look, { rootMargin: '50%' });
  /** The spacers the observer watches. */
  #spacers: Element[] = [];

  /** `list`: the rendered element that holds, in order, a spacer, the rows and a spacer. */
  constructor(
    private readonly host: ReactiveElement,
    private readonly list: () => Element | null,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    addEventListener('scroll', this.#look, true);
  }

  hostDisconnected(): void {
    removeEventListener('scroll', this.#look, true);
    this.#observer.disconnect();
    this.#spacers = [];
  }

  /**
   * The rows of `rows` to render now, or `undefined` to render them all (when `on` is false).
   * Call it in every `render()` that renders the list, and render a spacer of `before` px (hidden
   * at 0), the rows, and a spacer of `after` px: the same two spacer elements throughout.
   */
  range<T>(rows: readonly T[], on: boolean): VisibleRange<T> | undefined {
    const list = this.list();
    const shown = this.#shown;
    this.#shown = this.#anchor = undefined;
    if (!on) return;
    const n = rows.length;
    const view = innerHeight;
    const average = this.#sum / this.#count || FIRST_GUESS;
    // A row whose place on screen is known: row 0 at the list's top or, when that is above the
    // view, the first row in view that is still there (a record keeps its object while unchanged).
    const top = this.host.getBoundingClientRect().top;
    let anchor: [number, number] | undefined;
    for (let k = 0; top < 0 && list && shown && k < shown.length && !anchor; k++) {
      const box = (list.children[k + 1] as Element).getBoundingClientRect();
      const i = box.bottom > 0 && box.top < view ? rows.indexOf(shown[k] as T) : -1;
      if (i >= 0) anchor = [i, box.top];
    }
    const [known, at] = anchor ?? [0, top];
    const height = anchor ? this.#local : average;
    // From a viewport's height above the view to one below it.
    const start = Math.min(n, Math.max(0, known - Math.ceil((at + view) / height)));
    const first = at - (known - start) * height;
    const end = Math.min(n, start + Math.max(0, Math.ceil((2 * view - first) / this.#local)));
    if (anchor) this.#anchor = [known - start, at];
    this.#shown = rows.slice(start, end);
    return { rows: this.#shown as T[], start, before: start * average, after: (n - end) * average };
  }

  hostUpdated(): void {
    const list = this.list();
    const n = this.#shown?.length;
    if (!list || n === undefined) return;
    const items = list.children;
    const spacers = [items[0], items[n + 1]] as Element[];
    if (spacers.some((spacer, i) => spacer !== this.#spacers[i])) {
      // New spacers (a new list, or the list crossed the threshold): let the old ones go.
      for (const spacer of this.#spacers) this.#observer.unobserve(spacer);
      for (const spacer of (this.#spacers = spacers)) this.#observer.observe(spacer);
    }
    // From the first row's top to the last one's: n - 1 rows and their gaps. 0: fewer than two
    // rows, or not laid out (hidden): nothing learnt. After the first rows ever measured, whose
    // height was a guess, render again: the spacers were misplaced.
    const span =
      (items[n] as Element).getBoundingClientRect().top - (items[1] as Element).getBoundingClientRect().top;
    if (span > 0) {
      if (!this.#count) this.host.requestUpdate();
      this.#sum += span;
      this.#count += n - 1;
      this.#local = span / (n - 1);
    }
    if (this.#anchor) {
      const [k, was] = this.#anchor;
      scrollNearest(list, (items[k + 1] as Element).getBoundingClientRect().top - was);
    }
  }
}

/**
 * Scrolls the nearest ancestor of `element` in the flat tree that can scroll by `delta` px (at
 * last the page), unless `delta` is under a pixel.
 */
function scrollNearest(element: Element, delta: number): void {
  for (
    let node: Element | undefined = element;
    node && Math.abs(delta) >= 1;
    node = node.assignedSlot ?? node.parentElement ?? (node.getRootNode() as ShadowRoot).host
  ) {
    const before = node.scrollTop;
    node.scrollTop += delta;
    if (node.scrollTop !== before) return;
  }
}
