/**
 * A snapshot query — the records of one object that match a where, sorted and limited — as a
 * job evaluated in slices (`WorkQueue`): the records are taken as they are when the query is made
 * (records are never mutated, so holding the references is a consistent view), and matched a
 * slice at a time. Subscribe snapshots and REST lists both run on it.
 */
import { PROTOCOL_BOUNDS, compileSort, type LiveRecord, type MeteredWhere } from '../../protocol/index.js';
import { JobMeter } from './filter-work.js';
import { RECORD_VISIT_UNITS } from './work-queue.js';

/** What a snapshot query asks for. */
export type RecordQuery = {
  where: MeteredWhere;
  recordId?: string | undefined;
  sort?: readonly string[] | undefined;
  limit?: number | undefined;
  /** Stop (with `truncated`) before the records' JSON passes this many characters. */
  maxChars?: number | undefined;
};

/** A query's answer: at most `limit` stored records (unprojected); `truncated` when more matched. */
export type QueryResult = { records: readonly LiveRecord[]; truncated: boolean };

/** JSON length of each stored record, measured once: records are never mutated. */
const jsonLength = new WeakMap<object, number>();

/** The length of a stored record's JSON text, measured once per record. */
export function recordJsonLength(record: LiveRecord): number {
  return jsonLengthOf(record);
}

function jsonLengthOf(record: object): number {
  let size = jsonLength.get(record);
  if (size === undefined) jsonLength.set(record, (size = JSON.stringify(record).length));
  return size;
}

/** One query over the records of one object, as they were when it was made. */
export class RecordQueryJob {
  private readonly records: readonly LiveRecord[];
  private readonly matched: LiveRecord[] = [];
  private cursor = 0;

  constructor(
    table: ReadonlyMap<string, LiveRecord>,
    private readonly query: RecordQuery,
    /** Prices the where (`maxFilterWork` per record) and counts the work done, for slicing. */
    readonly meter: JobMeter,
  ) {
    if (query.recordId === undefined) this.records = [...table.values()];
    else {
      const one = table.get(query.recordId);
      this.records = one ? [one] : [];
    }
  }

  /**
   * Matches records until about `units` more work is done; true once every record was visited.
   * Throws `FilterWorkError` when the where needs more than `maxFilterWork` on a record.
   */
  step(units: number): boolean {
    const { meter, records, query } = this;
    const stop = meter.work + units;
    while (this.cursor < records.length && meter.work < stop) {
      const record = records[this.cursor++] as LiveRecord;
      meter.work += RECORD_VISIT_UNITS;
      if (meter.match(query.where, record, record.id)) this.matched.push(record);
    }
    return this.cursor >= records.length;
  }

  /** The answer, once `step` returned true: sorted and limited. */
  result(): QueryResult {
    return queryWindow(this.matched, this.query);
  }
}

/**
 * Matched records (or rows) as a query answers them: sorted, then cut to `limit` (never more than
 * `maxSnapshotRecords`) and to `maxChars` of JSON (always at least one); `truncated` when cut.
 * Sorts `matched` in place.
 */
export function queryWindow<T extends Record<string, unknown>>(
  matched: T[],
  query: Pick<RecordQuery, 'sort' | 'limit' | 'maxChars'>,
): { records: T[]; truncated: boolean } {
  matched.sort(compileSort(query.sort));
  const limit = Math.min(
    query.limit ?? PROTOCOL_BOUNDS.maxSnapshotRecords,
    PROTOCOL_BOUNDS.maxSnapshotRecords,
  );
  let count = Math.min(limit, matched.length);
  if (query.maxChars !== undefined) {
    let chars = 0;
    for (let i = 0; i < count; i++) {
      chars += jsonLengthOf(matched[i] as T);
      if (chars > query.maxChars) {
        count = Math.max(1, i); // always at least one record
        break;
      }
    }
  }
  const truncated = matched.length > count;
  return { records: truncated ? matched.slice(0, count) : matched, truncated };
}
