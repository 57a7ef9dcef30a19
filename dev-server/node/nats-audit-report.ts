/**
 * What the NATS audit sink tells the operator (standard error by default), so that no record is
 * lost silently yet an outage costs a few lines, not one per record: when records stop going to
 * NATS and why (once per outage), when they go again and how many of the oldest were dropped
 * meanwhile, the first drop of a full queue, and each distinct error NATS reports once per outage.
 */

/** See the module comment. */
export class NatsAuditReport {
  private outageSince: number | undefined;
  private droppedUnreported = 0;
  private readonly errorsSeen = new Set<string>();

  constructor(
    /** The server as log lines show it (no password). */
    private readonly display: string,
    /** Records the queue holds, for the lines that say so. */
    private readonly maxPending: { records: number; bytes: number },
    private readonly log: (line: string) => void,
  ) {}

  /** Records cannot go to NATS: says why, unless an outage is already reported. */
  outage(reason: string): void {
    if (this.outageSince !== undefined) return;
    this.outageSince = Date.now();
    this.log(
      `dev server: audit records cannot go to NATS (${reason}); keeping up to ${this.maxPending.records} of them and trying again`,
    );
  }

  /** Records go to NATS again: says after how long, and how many were dropped meanwhile. */
  recovered(): void {
    if (this.outageSince === undefined) return;
    const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
    this.outageSince = undefined;
    this.log(`dev server: audit records go to NATS ${this.display} again after ${seconds} s${this.drops()}`);
    this.droppedUnreported = 0;
    this.errorsSeen.clear();
  }

  /** The queue dropped `n` of its oldest records; the first drop since the last report says so. */
  dropped(n: number): void {
    if (n === 0) return;
    if (this.droppedUnreported === 0) {
      this.log(
        `dev server: audit queue full (${this.maxPending.records} records or ${this.maxPending.bytes} bytes): dropping the oldest until NATS ${this.display} takes them`,
      );
    }
    this.droppedUnreported += n;
  }

  /** The queue is empty: says how many records were dropped, if any went unreported. */
  drained(): void {
    if (this.droppedUnreported === 0) return;
    this.log(`dev server: ${this.drops().slice(2)}`);
    this.droppedUnreported = 0;
  }

  /** The sink closed with `n` records not sent. */
  unsent(n: number): void {
    if (n === 0) return;
    this.log(
      `dev server: ${n} audit records were not sent to NATS ${this.display} before closing${this.drops()}`,
    );
  }

  /** A record was over the server's `max_payload` and was not sent. */
  tooLarge(bytes: number, maxPayload: number): void {
    this.log(
      `dev server: an audit record of ${bytes} bytes is over NATS's max_payload (${maxPayload}): not sent`,
    );
  }

  /** An error NATS reported (an authorization violation…): each distinct one once per outage. */
  error(message: string): void {
    if (this.errorsSeen.has(message)) return;
    this.errorsSeen.add(message);
    this.log(`dev server: NATS ${this.display}: ${message}`);
  }

  private drops(): string {
    return this.droppedUnreported > 0
      ? `; ${this.droppedUnreported} audit records were dropped (the oldest) meanwhile, the queue being full`
      : '';
  }
}
