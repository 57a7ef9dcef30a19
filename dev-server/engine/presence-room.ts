/**
 * One presence room: its members, and the changes to it that wait for the room's next flush.
 *
 * A room does not commit each join and leave as it happens. It keeps them, and once per flush
 * interval (through the engine's `FlushScheduler`, so `flushIntervalMs: 0` means the next turn)
 * commits only what changed over the interval, one commit (one `seq`) per net change:
 *
 * - a member that joins and leaves within one interval was never announced: nothing is committed;
 * - a member that leaves, and then a member of the same identity (connectionId and meta JSON, all
 *   the clients can tell members by) joins, take over each other's place: nothing is committed.
 *   That is a subscription replaced by one with the same meta, or re-joining in a loop.
 *
 * A storm of joins and leaves so costs the room's members one batch of its net changes per
 * interval, and a storm of re-joins costs them, `seq` and history nothing.
 *
 * What a joining member is told: `subscribed.members` is the room as committed (a place whose
 * member left and whose leave is not committed yet is still in it), plus the new member itself,
 * unless it took over a place of its identity (then that place already stands for it). Every
 * later commit of the room is an event to it, its own join excepted; applied to that list, they
 * make exactly the room. So a member joining while others' changes wait hears them at the flush;
 * a member that leaves before its join was committed is heard of by no one; a connection that
 * closes leaves each of its rooms the same way; changes still waiting when the server shuts down
 * are never committed (every member leaves with it, and presence never resumes).
 *
 * Why a leave followed by a join of the same identity cancels, but a join followed by a leave of
 * another member of the same identity does not: in the first order the joiner takes the place of
 * the one that left, and its list (the committed room, that place included) is right as it is;
 * in the second, its list counts the member that leaves after it, so it needs that leave.
 */
import type { Member } from '../../protocol/index.js';
import type { Flushable, FlushScheduler } from './flush-scheduler.js';
import type { Subscription } from './subscription.js';
import type { SlicedJob, WorkQueue } from './work-queue.js';

/**
 * What one presence event of a commit's fan-out costs, in the engine's work units (work-queue.ts:
 * about a nanosecond of typical work each): some 5 µs with a 1 KiB meta, its share of the batch
 * frame and of the socket write included.
 */
const EVENT_UNITS = 5000;

/** What a room needs of its environment. */
export interface RoomHost {
  readonly scheduler: FlushScheduler;
  /** Where a flush with more fan-out than one slice goes on, between turns of the event loop. */
  readonly work: WorkQueue;
  /** `maxRoomMembers`. */
  readonly maxMembers: number;
  /**
   * Commits one change of the room: it takes the next seq and is fanned out to the members.
   * False when nothing was committed (the journal refused it).
   */
  commitPresence(room: string, change: 'join' | 'leave', member: Member, memberKey: number): boolean;
  /** The room has no member and nothing waiting: the environment may forget it. */
  forget(room: PresenceRoom): void;
}

/** A place in the room: a member the others were told of, or one they will be at the next flush. */
type Place = {
  readonly member: Member;
  /** The member's connectionId and meta JSON: what tells members apart on the client. */
  readonly identity: string;
  /** The subscription in this place; undefined once it left. */
  holder: Subscription | undefined;
  /** The key of the last holder: the commit's `memberKey` (a member hears nothing of itself). */
  key: number;
  /** Whether its join is committed. */
  committed: boolean;
  /** While it waits in `changes`: the room's count of queued changes when it was queued. */
  queued: number;
};

/** A presence room of one environment. */
export class PresenceRoom implements Flushable, SlicedJob {
  flushGeneration = 0;
  private scheduled = false;
  /** Places whose join is committed, in the order they joined: what `members` lists. */
  private readonly committed = new Set<Place>();
  /** Where each member is. */
  private readonly places = new Map<Subscription, Place>();
  /** Committed places whose member left, by identity: a joiner of that identity takes one over. */
  private readonly vacated = new Map<string, Place[]>();
  /** Changes waiting for the flush, in order: places to announce, and vacated places to retract. */
  private readonly changes = new Set<Place>();
  /** Changes queued so far. */
  private queued = 0;
  /**
   * The flush running, over one or more turns: it commits the changes queued up to `upTo` (those
   * queued since, a member that left and came back among them, wait for the next interval, so
   * that churn cannot keep a flush going), and is `committing` while one of its commits is fanned out.
   */
  private round: { upTo: number; committing: boolean } | undefined;

  constructor(
    readonly name: string,
    private readonly host: RoomHost,
  ) {}

  /** Why a join would pass `maxRoomMembers` (4008), or undefined; `replacing` leaves first when a member. */
  joinRefusal(replacing: Subscription | undefined): string | undefined {
    const staying = this.places.size - (replacing && this.places.has(replacing) ? 1 : 0);
    if (staying < this.host.maxMembers) return undefined;
    return `room "${this.name}" is full: at most ${this.host.maxMembers} members (maxRoomMembers)`;
  }

  /** Adds a member; returns what its `subscribed.members` lists (see the file's comment). */
  join(sub: Subscription): Member[] {
    const member = sub.member();
    const identity = `${member.connectionId}\u0000${JSON.stringify(member.meta)}`;
    const vacated = this.vacated.get(identity);
    const place = vacated?.pop();
    if (place) {
      if (vacated?.length === 0) this.vacated.delete(identity);
      place.holder = sub;
      place.key = sub.key;
      this.changes.delete(place); // its leave is off
      this.places.set(sub, place);
      return this.committedMembers();
    }
    const joining: Place = { member, identity, holder: sub, key: sub.key, committed: false, queued: 0 };
    this.places.set(sub, joining);
    this.queue(joining);
    const members = this.committedMembers();
    members.push(member);
    return members;
  }

  /** Removes a member, if it is one. */
  leave(sub: Subscription): void {
    const place = this.places.get(sub);
    if (!place) return;
    this.places.delete(sub);
    place.holder = undefined;
    if (!place.committed) {
      this.changes.delete(place); // never announced: nobody hears of it
      this.forgetIfIdle();
      return;
    }
    this.vacate(place);
    this.queue(place);
  }

  /** Lists a committed place whose member left, for a joiner of its identity to take over. */
  private vacate(place: Place): void {
    const vacated = this.vacated.get(place.identity);
    if (vacated) vacated.push(place);
    else this.vacated.set(place.identity, [place]);
  }

  /**
   * The flush interval passed: commits the changes waiting, as a job of the engine's work queue,
   * so that a full room filling up at once does not hold everyone else's requests for its whole
   * fan-out. Members that join between two of its slices are told of the room as committed so
   * far, which is all the answer ever lists: the slices need no other care.
   */
  flushDue(): void {
    this.scheduled = false;
    this.round = { upTo: this.queued, committing: false };
    this.host.work.start(this);
  }

  /** Commits the flush's changes, about `units` of fan-out (one change at least); true when done. */
  step(units: number): boolean {
    const round = this.round;
    if (!round) return true;
    const cost = Math.max(1, this.places.size) * EVENT_UNITS;
    let spent = 0;
    round.committing = true;
    try {
      for (const place of this.changes) {
        if (place.queued > round.upTo) continue; // for the next interval
        if (spent > 0 && spent + cost > units) return false;
        spent += cost;
        this.commit(place);
      }
    } finally {
      round.committing = false;
    }
    this.round = undefined;
    if (this.changes.size > 0) this.schedule();
    this.forgetIfIdle();
    return true;
  }

  private commit(place: Place): void {
    this.changes.delete(place);
    const leaving = place.committed;
    const change = leaving ? 'leave' : 'join';
    // The room's state first: a member leaving during this commit's fan-out finds it current.
    if (leaving) {
      this.committed.delete(place);
      this.unvacate(place);
    } else {
      place.committed = true;
      this.committed.add(place);
    }
    let committed = true;
    try {
      committed = this.host.commitPresence(this.name, change, place.member, place.key);
    } catch (error) {
      // A failing fan-out after the commit took its seq: this runs on a timer, and the server
      // and the room's other changes must carry on.
      console.error(`dev server: a presence ${change} in room "${this.name}" failed`, error);
    }
    if (committed) return;
    // Nothing was committed (the journal refused it): the room is as it was, and the change waits
    // for the next interval, so that views built from `members` and the events stay the room.
    if (leaving) {
      this.committed.add(place);
      this.vacate(place);
    } else {
      place.committed = false;
      this.committed.delete(place);
    }
    place.queued = ++this.queued;
    this.changes.add(place);
  }

  /** Puts a change in line for the flush (at the end, when it was in line already). */
  private queue(place: Place): void {
    this.changes.delete(place);
    // A change that a commit's own fan-out causes (a slow consumer closed) is part of its flush.
    place.queued = this.round?.committing ? this.round.upTo : ++this.queued;
    this.changes.add(place);
    this.schedule();
  }

  /** Sets the flush deadline; a running flush sets it for what is left when it ends. */
  private schedule(): void {
    if (this.scheduled || this.round) return;
    this.scheduled = true;
    this.host.scheduler.schedule(this);
  }

  private committedMembers(): Member[] {
    const members: Member[] = [];
    for (const place of this.committed) members.push(place.member);
    return members;
  }

  private unvacate(place: Place): void {
    const vacated = this.vacated.get(place.identity);
    if (!vacated) return;
    vacated.splice(vacated.indexOf(place), 1);
    if (vacated.length === 0) this.vacated.delete(place.identity);
  }

  private forgetIfIdle(): void {
    if (this.places.size === 0 && this.committed.size === 0 && this.changes.size === 0) {
      this.host.forget(this);
    }
  }
}
