/**
 * One (client, environment) pair: its records, its `seq` and history, its subscriptions indexed
 * by channel, and its presence rooms. Everything a connection sees comes from exactly one of
 * these, which is how isolation between clients and environments holds.
 */
import { PROTOCOL_BOUNDS, changedFields, type LiveRecord, type Member } from '../../protocol/index.js';
import { ApiError } from './api-error.js';
import type { Clock } from './clock.js';
import { isoTime } from './clock.js';
import type { ClusterSequencer } from './cluster-sequencer.js';
import type { Commit, CommitDraft, RecordCommit, RowCommit } from './commit.js';
import { FilterWorkError } from './filter-work.js';
import type { FlushScheduler } from './flush-scheduler.js';
import { History } from './history.js';
import { newRecordId } from './ids.js';
import { applyMergePatch } from './merge-patch.js';
import type { EnvironmentState } from './persisted-state.js';
import { PresenceRoom, type RoomHost } from './presence-room.js';
import { recordJsonLength } from './record-query.js';
import type { SharedEvent } from './shared-event.js';
import type { TableStore } from './table-store.js';
import { EventParts, type Subscription } from './subscription.js';
import type { WorkQueue } from './work-queue.js';

/** Called with every commit, after it took its seq and before fan-out (the journal's hook). */
export type CommitListener = (environment: Environment, commit: Commit) => void;

/** What presence rooms need of the engine: the timer and the work queue they commit on, their size limit. */
export type PresenceOptions = { scheduler: FlushScheduler; work: WorkQueue; maxRoomMembers: number };

type CommitInput = Commit extends infer C ? (C extends Commit ? Omit<C, 'seq' | 'timestamp'> : never) : never;

/** A row change to commit: a `RowCommit` before it takes its `seq` (its time is the transaction's). */
export type RowChangeInput = Omit<RowCommit, 'seq'>;

/** A PostgreSQL table this environment exposes as `postgres:<table>` (PROTOCOL.md section 10). */
export type ExposedTable = { schema: string; table: string; object?: string | undefined };

/** The store, sequence, history, subscription index and presence rooms of one environment. */
export class Environment {
  readonly history: History;
  private readonly records = new Map<string, Map<string, LiveRecord>>();
  /** Subscriptions by channel, then by `Subscription.shapeKey`. */
  private readonly index = new Map<string, Map<string, Set<Subscription>>>();
  private readonly rooms = new Map<string, PresenceRoom>();
  /** The PostgreSQL tables exposed to this environment, by table name. */
  private readonly tables = new Map<string, ExposedTable>();
  /** The objects kept in those tables, by object name. */
  private readonly objectTables = new Map<string, ExposedTable>();
  /** Reads and writes the exposed tables (the PostgreSQL source); none until it has started. */
  tableStore: TableStore | undefined;
  /**
   * In a cluster, where this environment's changes take their seq; they come back through
   * `receive`. Undefined: this process numbers them itself (`commit`).
   */
  sequencer: ClusterSequencer | undefined;
  /** Callers of `append` waiting for their change to come back from the cluster's log. */
  private arrivals: { seq: number; resolve: (commit: Commit) => void; reject: (error: Error) => void }[] = [];
  private readonly roomHost: RoomHost;
  seq = 0;
  private outbox: Commit[] = [];
  private fanning = false;

  constructor(
    readonly client: string,
    readonly name: string,
    objects: readonly string[],
    historySize: number,
    historyBytes: number,
    public epoch: string,
    private readonly clock: Clock,
    private readonly onCommit: CommitListener,
    presence: PresenceOptions,
  ) {
    this.history = new History(historySize, historyBytes);
    for (const object of objects) this.records.set(object, new Map());
    this.roomHost = {
      scheduler: presence.scheduler,
      work: presence.work,
      maxMembers: presence.maxRoomMembers,
      commitPresence: (room, change, member, memberKey) => {
        if (this.sequencer) {
          this.append({ kind: 'presence', room, change, member, memberKey }).catch((error: unknown) => {
            console.error(`dev server: a presence ${change} in room "${room}" was not committed`, error);
          });
          return true;
        }
        const seq = this.seq;
        try {
          this.commit({ kind: 'presence', room, change, member, memberKey });
        } catch (error) {
          if (this.seq !== seq) throw error; // committed; its fan-out failed
          console.error(`dev server: a presence ${change} in room "${room}" was not committed`, error);
          return false;
        }
        return true;
      },
      forget: (room) => {
        if (this.rooms.get(room.name) === room) this.rooms.delete(room.name);
      },
    };
  }

  /** Exposes a PostgreSQL table to this environment as `postgres:<table>`. */
  exposeTable(table: ExposedTable): void {
    this.tables.set(table.table, table);
    if (table.object !== undefined) this.objectTables.set(table.object, table);
  }

  /** The table an object is kept in, if it is kept in one (not in memory). */
  tableOf(object: string): ExposedTable | undefined {
    return this.objectTables.get(object);
  }

  /** The table store, or 503 `unavailable` while the PostgreSQL source has not started. */
  store(): TableStore {
    if (!this.tableStore) throw new ApiError('unavailable', 'the PostgreSQL source has not started yet');
    return this.tableStore;
  }

  /** Whether `postgres:<table>` is a channel of this environment. */
  hasTable(table: string): boolean {
    return this.tables.has(table);
  }

  /** The names of the tables this environment exposes. */
  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** Whether the object is configured. */
  hasObject(object: string): boolean {
    return this.records.has(object);
  }

  /** The records of a configured object (throws `not_found` otherwise). */
  table(object: string): Map<string, LiveRecord> {
    const table = this.records.get(object);
    if (!table) throw new ApiError('not_found', `unknown object "${object}"`);
    return table;
  }

  // ---- subscriptions -------------------------------------------------------------------------

  /** Adds a subscription to the channel index, beside those of its shape. */
  attach(sub: Subscription): void {
    const channel = sub.spec.channel;
    let shapes = this.index.get(channel);
    if (!shapes) this.index.set(channel, (shapes = new Map()));
    let subs = shapes.get(sub.shapeKey);
    if (!subs) shapes.set(sub.shapeKey, (subs = new Set()));
    subs.add(sub);
  }

  /** Removes a subscription from the index. */
  detach(sub: Subscription): void {
    const shapes = this.index.get(sub.spec.channel);
    const subs = shapes?.get(sub.shapeKey);
    if (!shapes || !subs?.delete(sub)) return;
    if (subs.size === 0) shapes.delete(sub.shapeKey);
    if (shapes.size === 0) this.index.delete(sub.spec.channel);
  }

  /** Why a join would pass `maxRoomMembers` (4008), or undefined; `replacing` leaves first. */
  joinRefusal(room: string, replacing: Subscription | undefined): string | undefined {
    return this.rooms.get(room)?.joinRefusal(replacing);
  }

  /**
   * Joins a presence room. The join is committed at the room's next flush, with the other changes
   * of its interval (presence-room.ts); returns the members the `subscribed` answer lists.
   */
  join(room: string, sub: Subscription): Member[] {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new PresenceRoom(room, this.roomHost)));
    return members.join(sub);
  }

  /** Leaves a presence room, if the subscription is in it; committed at the room's next flush. */
  leave(room: string, sub: Subscription): void {
    this.rooms.get(room)?.leave(sub);
  }

  // ---- commits -------------------------------------------------------------------------------

  /**
   * Takes the next seq for a change, records it in history and fans it out. `timestamp` is now,
   * unless given (a PostgreSQL change carries its transaction's commit time).
   */
  commit(input: CommitInput, timestamp = isoTime(this.clock.now())): Commit {
    if (this.sequencer) throw new Error('in a cluster, changes are appended to its log: use append');
    const commit = { ...input, seq: this.seq + 1, timestamp } as Commit;
    // Journal first: if that fails, nothing has changed and no seq was taken.
    this.onCommit(this, commit);
    this.seq = commit.seq;
    this.history.push(commit);
    if (commit.kind === 'record') applyRecordCommit(this.records.get(commit.object), commit);
    // A fan-out can commit again (a closed slow consumer leaves its presence rooms, a hook
    // writes): queue such commits behind the current one so every subscriber sees seq order.
    this.outbox.push(commit);
    if (!this.fanning) this.drain();
    return commit;
  }

  /**
   * Commits a change wherever this environment's seqs come from: here (at once), or the
   * cluster's log — then it resolves once the change has come back and been fanned out here, so
   * an answer that names its seq follows its event.
   */
  async append(input: CommitInput): Promise<Commit> {
    const sequencer = this.sequencer;
    if (!sequencer) return this.commit(input);
    const draft = { ...input, timestamp: isoTime(this.clock.now()) } as CommitDraft;
    const [seq] = await sequencer.append(this, [draft]);
    if (seq === null || seq === undefined)
      throw new Error('the cluster log skipped a change without a marker');
    const arrived = this.history.at(seq);
    if (seq <= this.seq && arrived) return arrived;
    return new Promise((resolve, reject) => this.arrivals.push({ seq, resolve, reject }));
  }

  /**
   * Commits changes the cluster's log numbered (this process's and the others'), in seq order:
   * each joins history and is fanned out as a local commit is. One already here is skipped; a
   * gap is a bug of the follower (it fills gaps from history before it delivers).
   */
  receive(commits: readonly Commit[]): void {
    for (const commit of commits) {
      if (commit.seq <= this.seq) continue;
      if (commit.seq !== this.seq + 1) {
        throw new Error(
          `cluster log: seq ${commit.seq} does not follow ${this.seq} in ${this.client}/${this.name}`,
        );
      }
      this.onCommit(this, commit);
      this.seq = commit.seq;
      this.history.push(commit);
      if (commit.kind === 'record') applyRecordCommit(this.records.get(commit.object), commit);
      this.outbox.push(commit);
    }
    if (!this.fanning) this.drain();
    if (this.arrivals.length === 0) return;
    const ready = this.arrivals.filter((a) => a.seq <= this.seq);
    this.arrivals = this.arrivals.filter((a) => a.seq > this.seq);
    for (const arrival of ready) {
      const commit = this.history.at(arrival.seq);
      if (commit) arrival.resolve(commit);
      else arrival.reject(new ApiError('unavailable', 'the change left history before it could be answered'));
    }
  }

  /**
   * The cluster's log lost its data or moved past what it could deliver (PROTOCOL.md section
   * 11): this environment goes on from `seq` in `epoch`, with no history; appends still waiting
   * fail as `unavailable` (the caller cannot know whether they were kept).
   */
  resetTo(epoch: string, seq: number): void {
    this.epoch = epoch;
    this.seq = seq;
    this.history.clear();
    const waiting = this.arrivals;
    this.arrivals = [];
    for (const arrival of waiting) {
      arrival.reject(new ApiError('unavailable', "the cluster's history was reset; the change may be lost"));
    }
  }

  /** Fans out the queued commits, oldest first, including those their fan-outs commit. */
  private drain(): void {
    this.fanning = true;
    try {
      for (let next = this.outbox.shift(); next; next = this.outbox.shift()) this.fanOut(next);
    } finally {
      this.fanning = false;
    }
  }

  private fanOut(commit: Commit): void {
    const parts = new EventParts(commit);
    if (commit.kind === 'record') {
      this.deliver(this.index.get(`records:${commit.object}`), parts);
      this.deliver(this.index.get('records:*'), parts);
    } else if (commit.kind === 'row') {
      this.deliver(this.index.get(`postgres:${commit.table}`), parts);
      this.deliver(this.index.get('postgres:*'), parts);
      if (commit.object !== undefined) {
        if (commit.operation === 'TRUNCATE') this.resyncRecordSubscriptions(commit);
        else {
          this.deliver(this.index.get(`records:${commit.object}`), parts);
          this.deliver(this.index.get('records:*'), parts);
        }
      }
    } else if (commit.kind === 'event') {
      this.deliver(this.index.get(`events:${commit.topic}`), parts);
      this.deliver(this.index.get('events:*'), parts);
    } else {
      this.deliver(this.index.get(`presence:${commit.room}`), parts);
    }
  }

  /**
   * Offers a commit to each shape once, and its event to every subscription of that shape. The
   * first subscription of a shape pays for its where (filter-work.ts); one whose connection is
   * over a work limit is ended, and the next of the shape decides instead.
   */
  private deliver(shapes: Map<string, Set<Subscription>> | undefined, parts: EventParts): void {
    if (!shapes) return;
    for (const subs of shapes.values()) {
      let event: SharedEvent | null | undefined;
      for (const sub of subs) {
        if (event === undefined) {
          try {
            event = sub.eventFor(parts);
          } catch (error) {
            if (!(error instanceof FilterWorkError)) throw error;
            sub.owner.endSubscription(sub, error.message);
            continue;
          }
        }
        if (event === null) break;
        sub.owner.enqueue(event);
      }
    }
  }

  /**
   * A TRUNCATE of an object's table removed every record, which no record event can say without
   * the ids: each of the object's `records:` subscriptions is answered again, as a fresh subscribe
   * would be — a new `subscribed` with the snapshot it asks for (decision; `postgres:`
   * subscribers get section 10's `reset` event). A live list shows the empty table at once.
   */
  private resyncRecordSubscriptions(commit: RowCommit): void {
    const object = commit.object as string;
    for (const channel of [`records:${object}`, 'records:*']) {
      for (const subs of [...(this.index.get(channel)?.values() ?? [])]) {
        for (const sub of [...subs]) if (sub.isResetBy(commit)) sub.owner.resync(sub);
      }
    }
  }

  // ---- records -------------------------------------------------------------------------------

  /** Creates a record; `409` when the id exists. Stamps `createdAt` (unless given) and `updatedAt`. */
  create(object: string, input: Record<string, unknown>, correlationId?: string): LiveRecord {
    const table = this.table(object);
    const id = input.id === undefined ? newRecordId() : input.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
      throw new ApiError('bad_request', 'id must be a string of 1 to 256 characters');
    }
    if (id === '.' || id === '..') {
      // Clients resolve dot segments before a request leaves: …/records/.. would never reach it.
      throw new ApiError(
        'bad_request',
        `id "${id}" is a URL dot segment, so no URL could reach the record; choose another id`,
      );
    }
    if (table.has(id)) throw new ApiError('conflict', `${object} record "${id}" already exists`);
    const now = isoTime(this.clock.now());
    const record: LiveRecord = { ...input, id, createdAt: input.createdAt ?? now, updatedAt: now };
    this.commit({ kind: 'record', object, operation: 'create', record, correlationId });
    return record;
  }

  /** Applies a JSON Merge Patch; commits nothing (and returns the record) when no field changes. */
  patch(object: string, id: string, patch: Record<string, unknown>, correlationId?: string): LiveRecord {
    const table = this.table(object);
    const old = table.get(id);
    if (!old) throw new ApiError('not_found', `${object} record "${id}" does not exist`);
    if (Object.hasOwn(patch, 'id') && patch.id !== id) {
      throw new ApiError('bad_request', 'id cannot be changed by a patch');
    }
    const merged = applyMergePatch(old, patch) as LiveRecord;
    if (recordJsonLength(merged) > PROTOCOL_BOUNDS.maxHttpBodyBytes) {
      throw new ApiError(
        'payload_too_large',
        `the patched record would be over ${PROTOCOL_BOUNDS.maxHttpBodyBytes} bytes of JSON`,
      );
    }
    const changed = changedFields(old, merged);
    if (changed.length === 0) return old;
    const record: LiveRecord = { ...merged, id, updatedAt: isoTime(this.clock.now()) };
    if (!changed.includes('updatedAt')) changed.push('updatedAt');
    this.commit({
      kind: 'record',
      object,
      operation: 'update',
      record,
      oldRecord: old,
      changedFields: changed.sort(),
      correlationId,
    });
    return record;
  }

  /** Deletes a record; `404` when it does not exist. */
  remove(object: string, id: string, correlationId?: string): void {
    const table = this.table(object);
    const old = table.get(id);
    if (!old) throw new ApiError('not_found', `${object} record "${id}" does not exist`);
    this.commit({ kind: 'record', object, operation: 'delete', record: old, correlationId });
  }

  /**
   * Commits the changes of one PostgreSQL transaction to this environment's exposed tables, in
   * one turn: they take consecutive `seq`s, nothing else comes between them, and a connection's
   * next batch holds them all (when they fit in `maxBatchEvents`).
   */
  commitRows(changes: readonly RowChangeInput[]): void {
    if (this.fanning) {
      for (const { timestamp, ...change } of changes) this.commit(change, timestamp);
      return;
    }
    // Every change takes its seq before any is fanned out: a commit a fan-out makes (a hook that
    // writes) then follows the whole transaction instead of splitting it.
    this.fanning = true;
    try {
      for (const { timestamp, ...change } of changes) this.commit(change, timestamp);
    } catch (error) {
      this.fanning = false;
      throw error;
    }
    this.drain();
  }

  /**
   * Commits one PostgreSQL transaction's changes: here, in one turn (`commitRows`), or appended
   * to the cluster's log in one step, each with its marker (`markers[i]`, which sorts in the order
   * the source reads changes) so that a change read again — another process took over the slot —
   * takes no second seq. Resolves once they are committed or appended.
   */
  async appendRows(changes: readonly RowChangeInput[], markers: readonly string[]): Promise<void> {
    if (!this.sequencer) {
      this.commitRows(changes);
      return;
    }
    await this.sequencer.append(this, changes as readonly CommitDraft[], markers);
  }

  /** Publishes a custom event to a topic; returns its seq. */
  publish(topic: string, data: unknown): number {
    return this.commit({ kind: 'event', topic, data }).seq;
  }

  // ---- persistence ---------------------------------------------------------------------------

  /** Starts a new history under `epoch`, dropping the old one; `seq` goes on from where it is. */
  restartHistory(epoch: string): void {
    this.epoch = epoch;
    this.history.clear();
  }

  /** Everything `--data` keeps of this environment. */
  exportState(): EnvironmentState {
    const records: Record<string, LiveRecord[]> = {};
    for (const [object, table] of this.records) records[object] = [...table.values()];
    return {
      client: this.client,
      environment: this.name,
      epoch: this.epoch,
      seq: this.seq,
      records,
      history: this.history.toArray(),
    };
  }

  /** Loads persisted state (on start); objects no longer configured are dropped. */
  importState(state: EnvironmentState): void {
    this.epoch = state.epoch;
    this.seq = state.seq;
    for (const [object, list] of Object.entries(state.records)) {
      const table = this.records.get(object);
      if (table) for (const record of list) table.set(record.id, record);
    }
    for (const commit of state.history) this.history.push(commit);
  }

  /** Seeds records without committing events (config `records`). */
  seed(object: string, records: readonly Record<string, unknown>[]): void {
    const table = this.table(object);
    const now = isoTime(this.clock.now());
    for (const input of records) {
      const id = typeof input.id === 'string' ? input.id : newRecordId();
      table.set(id, { ...input, id, createdAt: input.createdAt ?? now, updatedAt: input.updatedAt ?? now });
    }
  }
}

function applyRecordCommit(table: Map<string, LiveRecord> | undefined, commit: RecordCommit): void {
  if (!table) return;
  if (commit.operation === 'delete') table.delete(commit.record.id);
  else table.set(commit.record.id, commit.record);
}
