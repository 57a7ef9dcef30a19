/**
 * Publishes custom events to a topic over REST, one request at a time with a pause between them,
 * until stopped; notes each one's seq, size and time, so a test can tell what went out when.
 */
import { PublishResponseSchema } from '../../../protocol/index.js';
import { rest, sleep } from '../../support/raw-client.js';

/** One acknowledged publish: its seq, when it was acknowledged (`Date.now()`), and its JSON size. */
export type Published = { seq: number; at: number; bytes: number };

/** A publishing loop. */
export class TopicPublisher {
  readonly published: Published[] = [];
  private running = true;
  private failure: Error | undefined;
  private readonly loop: Promise<void>;

  /** Starts publishing `body()` to `topic` every `intervalMs` (after each answer). */
  constructor(url: string, key: string, topic: string, intervalMs: number, body: () => unknown) {
    this.loop = (async () => {
      while (this.running) {
        const data = body();
        const res = await rest({ url }, 'POST', `/api/events/${topic}`, { key, body: data });
        if (res.status !== 202)
          throw new Error(`a publish to ${topic} was answered ${res.status}: ${JSON.stringify(res.body)}`);
        const { seq } = PublishResponseSchema.parse(res.body);
        this.published.push({ seq, at: Date.now(), bytes: JSON.stringify(data).length });
        await sleep(intervalMs);
      }
    })().catch((error: Error) => {
      this.failure = error; // kept for stop(): a rejection nobody awaits yet would end the process
    });
  }

  /** Bytes published from `from` to `to` (`Date.now()` times). */
  bytesBetween(from: number, to: number): number {
    return this.published.filter((p) => p.at >= from && p.at <= to).reduce((n, p) => n + p.bytes, 0);
  }

  /** Stops after the publish in flight; rejects if a publish failed (which stopped the loop). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.failure) throw this.failure;
  }
}
