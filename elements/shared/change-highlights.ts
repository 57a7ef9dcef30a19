/**
 * Which shown records changed a moment ago, so an element can mark them (`data-changed`, part
 * `changed`) for a short highlight. A mark lasts the `durationMs` it was made with; expired
 * marks are swept by one timer, and `onExpire` asks the element to render once without them.
 */

/** How a record changed: it entered the view, or its content changed. */
export type ChangeMark = 'added' | 'modified';

/** The marks of one element. */
export class ChangeHighlights {
  readonly #marks = new Map<string, { mark: ChangeMark; until: number }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending sweep runs. */
  #due = 0;

  readonly #onExpire: () => void;

  constructor(onExpire: () => void) {
    this.#onExpire = onExpire;
  }

  /** The mark of record `id`, if it changed within the `durationMs` it was marked for. */
  get(id: string): ChangeMark | undefined {
    return this.#marks.get(id)?.mark;
  }

  /** Marks the records of one change for `durationMs` (0: not at all). */
  mark(ids: Iterable<string>, mark: ChangeMark, durationMs: number): void {
    if (durationMs <= 0) return;
    const until = Date.now() + durationMs;
    for (const id of ids) this.#marks.set(id, { mark, until });
    // The sweep runs when the earliest mark ends (a shorter duration may come after a longer one).
    if (this.#timer === undefined || until < this.#due) {
      clearTimeout(this.#timer);
      this.#due = until;
      this.#timer = setTimeout(() => this.#sweep(), durationMs);
    }
  }

  /** Drops every mark (a new snapshot, or the element left the page). */
  clear(): void {
    this.#marks.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const [id, { until }] of this.#marks) {
      if (until <= now) this.#marks.delete(id);
      else next = Math.min(next, until);
    }
    if (next !== Infinity) {
      this.#due = next;
      this.#timer = setTimeout(() => this.#sweep(), next - now);
    }
    this.#onExpire();
  }
}
