/**
 * A client that lives across server crashes the way PROTOCOL.md section 5 tells clients to: it
 * keeps the largest `seq` it has seen and its `epoch`, and after every reconnect subscribes again
 * with both. It keeps every event of every connection, so a test can check that, across all the
 * crashes, each committed `seq` arrived exactly once.
 */
import type { LiveEvent } from '../../../protocol/index.js';
import { RawClient, getToken } from '../../support/raw-client.js';
import { KEYS } from '../../support/test-server.js';

/** The subscriptions the reader holds: every order write and every custom event. */
const SUBSCRIPTIONS = [
  { id: 'r', channel: 'records:orders' },
  { id: 'e', channel: 'events:*' },
] as const;

/** How one reconnect was answered. */
export type ResumeAnswer = { resumed: boolean | undefined; since: number };

/** Reconnects after each restart and resumes from the largest seq seen. */
export class ResumingReader {
  private client: RawClient | undefined;
  private readonly past: LiveEvent[] = [];
  private readonly pastInvalid: string[] = [];
  /** How every reconnect was answered, in order. */
  readonly answers: ResumeAnswer[] = [];
  epoch: string | undefined;

  /** Connects to a (re)started server and subscribes, resuming when it has seen anything. */
  async connect(url: string): Promise<void> {
    this.keep();
    const token = await getToken({ url }, KEYS.acmeSecret);
    const client = await RawClient.open(
      `${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
    );
    const welcome = await client.next('welcome');
    if (this.epoch !== undefined && welcome.epoch !== this.epoch) {
      throw new Error(`the epoch changed from ${this.epoch} to ${welcome.epoch}: the history was lost`);
    }
    const since = this.epoch === undefined ? welcome.seq : this.lastSeq;
    this.epoch = welcome.epoch;
    this.client = client;
    for (const spec of SUBSCRIPTIONS) {
      const answer = await client.subscribe({ ...spec, since, epoch: welcome.epoch });
      this.answers.push({ resumed: answer.resumed, since });
    }
  }

  /** The largest seq seen so far. */
  get lastSeq(): number {
    return Math.max(0, ...this.events().map((e) => e.seq));
  }

  /** Every event received, over every connection, in arrival order. */
  events(): LiveEvent[] {
    return [...this.past, ...(this.client?.events() ?? [])];
  }

  /** Frames that failed the protocol's schemas, over every connection. */
  get invalid(): string[] {
    return [...this.pastInvalid, ...(this.client?.invalid ?? [])];
  }

  /** Moves the current connection's events into the past (its server is gone or going). */
  private keep(): void {
    if (!this.client) return;
    this.past.push(...this.client.events());
    this.pastInvalid.push(...this.client.invalid);
    this.client.close();
    this.client = undefined;
  }

  /** Closes the current connection. */
  close(): void {
    this.keep();
  }
}
