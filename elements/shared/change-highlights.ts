/**
 * Which shown records changed a moment ago, so an element can mark them (`data-changed`, part
 * `changed`) for a short highlight. A mark lasts `durationMs`; expired marks are swept by one
 * timer, and `onExpire` asks the element to render once without them.
 */

/** How a record changed: it entered the view, or its content changed. */
export type ChangeMark = 'added' | 'modified';

/** The marks of one element. */
export class ChangeHighlights {
  readonly #marks = new Map<string, { mark: ChangeMark; until: number }>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly onExpire: () => void,
    /** How long a mark lasts; 0 disables marking. */
    public durationMs = 1500,
  ) {}

  /** The mark of record `id`, if it changed within `durationMs`. */
  get(id: string): ChangeMark | undefined {
    return this.#marks.get(id)?.mark;
  }

  /** Marks the records of one change. */
  mark(ids: Iterable<string>, mark: ChangeMark): void {
    if (this.durationMs <= 0) return;
    const until = Date.now() + this.durationMs;
    for (const id of ids) this.#marks.set(id, { mark, until });
    this.#timer ??= setTimeout(() => this.#sweep(), this.durationMs);
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
    if (next !== Infinity) this.#timer = setTimeout(() => this.#sweep(), next - now);
    this.onExpire();
  }
}
