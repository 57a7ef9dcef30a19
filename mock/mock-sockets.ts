/**
 * The mock's open connections as its transports hold them (msw's WebSocket clients, SSE
 * streams), so a fault can cut them all the way a lost network would: without a close frame.
 */

/** Cuts one connection; called at most once. */
type Cut = () => void;

/** Open connections of the mock's transports. */
export class MockSockets {
  private readonly open = new Set<Cut>();

  /** Registers a connection; returns the function that forgets it (call it when it ends). */
  track(cut: Cut): () => void {
    this.open.add(cut);
    return () => {
      this.open.delete(cut);
    };
  }

  /** Cuts every open connection; returns how many. */
  cutAll(): number {
    const cuts = [...this.open];
    this.open.clear();
    for (const cut of cuts) cut();
    return cuts.length;
  }

  /** How many connections are open. */
  get size(): number {
    return this.open.size;
  }
}
