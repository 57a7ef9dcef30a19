/**
 * Which tab of an origin holds the connection to one API: the one holding the Web Lock named
 * after it. The others queue for the lock, so when the leading tab closes (or its connection
 * is closed for good, or the browser freezes it) the browser hands the lock to the next tab at
 * once, and it takes over.
 */

/** This tab's place among the tabs sharing one connection. */
export class TabLeadership {
  /** This tab's id on the channel. */
  readonly id = Math.random().toString(36).slice(2, 10);
  /** Where the tabs talk (see tab-link.ts). */
  readonly channel: BroadcastChannel;
  /** This tab holds the lock. */
  leading = false;
  /** Settles once this tab knows whether it leads now. */
  readonly decided: Promise<void>;
  /** The request in the queue for the lock, while there is one. */
  #waiting: AbortController | undefined;
  #release: (() => void) | undefined;
  readonly #queue: () => void;
  readonly #onFreeze: () => void;

  /**
   * `onLead` runs when this tab takes the lead, at once or when an earlier leader goes;
   * `onStepDown` when it gives the lead up because the browser freezes the page.
   */
  constructor(name: string, onLead: () => void, onStepDown: () => void) {
    this.channel = new BroadcastChannel(name);
    const locks = navigator.locks;
    let decided = () => {};
    this.decided = new Promise((resolve) => (decided = resolve));
    const lead = () => {
      this.#waiting = undefined;
      this.leading = true;
      decided();
      onLead();
      return new Promise<void>((release) => (this.#release = release)); // held until released
    };
    this.#queue = () => {
      if (this.leading || this.#waiting) return;
      const waiting = (this.#waiting = new AbortController());
      locks.request(name, { signal: waiting.signal }, lead).catch(() => undefined); // aborted
    };
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (lock) return lead();
        decided();
        this.#queue();
      })
      .catch(() => {
        // Refused (a sandboxed frame's opaque origin, a document no longer active): this tab goes
        // on alone, on a connection of its own.
        this.leading = true;
        decided();
      });
    // A frozen page runs nothing (Page Lifecycle): while frozen it neither leads nor waits to, so
    // another tab holds the connection meanwhile; it queues again when it resumes.
    this.#onFreeze = () => {
      this.#waiting?.abort();
      this.#waiting = undefined;
      if (!this.leading) return;
      this.leading = false;
      this.#release?.();
      onStepDown();
    };
    document.addEventListener('freeze', this.#onFreeze);
    document.addEventListener('resume', this.#queue);
  }

  /** Leaves the election and lets the next tab lead. */
  close(): void {
    this.#waiting?.abort();
    this.#release?.();
    document.removeEventListener('freeze', this.#onFreeze);
    document.removeEventListener('resume', this.#queue);
    this.channel.close();
  }
}

/**
 * The APIs this page answers itself (the in-browser mock, `catalyst-elements/mock`): each tab has
 * its own, so their connections are never shared. Kept on `globalThis` under a registered symbol,
 * so the mock and the elements agree even when they come from two copies of the kit.
 */
const PAGE_LOCAL = Symbol.for('catalyst-elements.page-local-apis');

type WithPageLocal = { [PAGE_LOCAL]?: Set<string> };

/** Marks `url` (an API base URL) as answered inside this page: its connection stays this tab's. */
export function markPageLocal(url: string): void {
  const global = globalThis as WithPageLocal;
  (global[PAGE_LOCAL] ??= new Set()).add(url.replace(/\/+$/, ''));
}

/**
 * A `TabLeadership` for the connection to `url` (named `name`), or `undefined` where it is not
 * shared: the browser cannot (no Web Locks, or not a page), or the API is answered inside this page.
 */
export function joinTabs(
  name: string,
  url: string,
  onLead: () => void,
  onStepDown: () => void,
): TabLeadership | undefined {
  const canShare =
    typeof window !== 'undefined' &&
    typeof BroadcastChannel === 'function' &&
    navigator.locks !== undefined &&
    !(globalThis as WithPageLocal)[PAGE_LOCAL]?.has(url);
  return canShare ? new TabLeadership(name, onLead, onStepDown) : undefined;
}
