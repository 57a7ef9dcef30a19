/**
 * Latency as a well-behaved client sees it: small events published over REST (topic-publisher.ts),
 * each carrying the moment it was sent (`performance.now()` of this process), and listeners subscribed
 * to the topic note, for every tick, how long it took to arrive. The same process sends and
 * receives, so one monotonic clock measures both ends.
 */
import * as z from 'zod/mini';
import { RawClient, getToken } from '../../support/raw-client.js';

/** One tick's trip: when it arrived (`Date.now()`) and how long it took, in ms. */
export type TickSample = { at: number; ms: number };

const TickSchema = z.object({ t: z.number() });

/** A client that times every tick it receives. */
export class TickListener {
  readonly samples: TickSample[] = [];

  private constructor(readonly client: RawClient) {
    client.ws.on('message', (data: Buffer) => {
      const now = performance.now();
      const message = JSON.parse(data.toString()) as { type?: string; events?: { data?: unknown }[] };
      if (message.type !== 'batch') return;
      for (const event of message.events ?? []) {
        const tick = TickSchema.safeParse(event.data);
        if (tick.success) this.samples.push({ at: Date.now(), ms: now - tick.data.t });
      }
    });
  }

  /** Connects with `key` and subscribes to `events:<topic>` as subscription `ticks`. */
  static async open(url: string, key: string, topic: string): Promise<TickListener> {
    const token = await getToken({ url }, key);
    const client = await RawClient.open(
      `${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
    );
    await client.next('welcome');
    const listener = new TickListener(client);
    await client.subscribe({ id: 'ticks', channel: `events:${topic}` });
    return listener;
  }

  /** The seqs of the ticks received, in order. */
  seqs(): number[] {
    return this.client.events('ticks').map((e) => e.seq);
  }
}

/** A tick's body: the moment it is sent. */
export function tick(): { t: number } {
  return { t: performance.now() };
}
