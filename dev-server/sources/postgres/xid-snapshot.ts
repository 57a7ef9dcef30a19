/**
 * A PostgreSQL MVCC snapshot (`pg_current_snapshot()`), used to line a table read up with the
 * replication stream (PROTOCOL.md §10, "Snapshots agree with seq"; research/postgres-cdc.md §3b):
 * a streamed transaction belongs after a snapshot exactly when it is not visible in it. The rule is
 * PostgreSQL's own visibility rule, so it is exact where commit LSNs are not (a commit record can be
 * written, and even streamed, before its transaction leaves the proc array).
 */

const XID_TEXT = /^(\d+):(\d+):((?:\d+(?:,\d+)*)?)$/;
const TWO_32 = 1n << 32n;
const TWO_31 = 1n << 31n;

/** The transactions in progress when a snapshot was taken, as `pg_current_snapshot()` gives them. */
export class XidSnapshot {
  /** The oldest transaction still in progress; every older xid8 is settled (committed: visible). */
  readonly xmin: bigint;
  /** One past the newest transaction that had finished; this and every later xid8 is not visible. */
  readonly xmax: bigint;
  /** The transactions between `xmin` and `xmax` still in progress (not visible). */
  readonly xip: ReadonlySet<bigint>;

  private constructor(xmin: bigint, xmax: bigint, xip: ReadonlySet<bigint>) {
    this.xmin = xmin;
    this.xmax = xmax;
    this.xip = xip;
  }

  /** Reads `pg_current_snapshot()::text`: `xmin:xmax:xip1,xip2,…` (64-bit xids, epoch included). */
  static parse(text: string): XidSnapshot {
    const match = XID_TEXT.exec(text.trim());
    if (!match) throw new Error(`not a pg_snapshot: ${JSON.stringify(text)} (expected xmin:xmax:xip,…)`);
    const xmin = BigInt(match[1] as string);
    const xmax = BigInt(match[2] as string);
    const xip = new Set((match[3] as string).split(',').filter(Boolean).map(BigInt));
    if (xmax < xmin) throw new Error(`not a pg_snapshot: ${text} (xmax below xmin)`);
    return new XidSnapshot(xmin, xmax, xip);
  }

  /**
   * Whether the transaction with this 32-bit xid (pgoutput's `begin.xid`, unsigned) had committed
   * when the snapshot was taken, i.e. its changes are in what the snapshot reads. The xid is
   * widened to an xid8 next to `xmin` (`xmin + int32(xid − low32(xmin))`), which is right for any
   * transaction less than 2^31 xids away — PostgreSQL's wraparound limit guarantees that much.
   */
  isVisible(xid32: number): boolean {
    const xid8 = this.widen(xid32);
    if (xid8 < this.xmin) return true;
    return xid8 < this.xmax && !this.xip.has(xid8);
  }

  /** The xid8 of a 32-bit xid near this snapshot. */
  widen(xid32: number): bigint {
    if (!Number.isInteger(xid32) || xid32 < 0 || xid32 >= 2 ** 32) {
      throw new RangeError(`not an unsigned 32-bit xid: ${xid32}`);
    }
    let delta = (BigInt(xid32) - (this.xmin % TWO_32) + TWO_32) % TWO_32;
    if (delta >= TWO_31) delta -= TWO_32;
    return this.xmin + delta;
  }

  /** The snapshot's text, as PostgreSQL writes it. */
  toString(): string {
    return `${this.xmin}:${this.xmax}:${[...this.xip].join(',')}`;
  }
}
