/**
 * A well-behaved client on the same server and environment as the bad input: one WebSocket and
 * one SSE stream subscribed to a topic of their own, while a ticker publishes numbered events to
 * it over REST. At the end both streams must hold every published event, once, in `seq` order,
 * with its data untouched, and nothing else: no error, no close, no invalid frame.
 */
import { isDeepStrictEqual } from 'node:util';
import { PublishResponseSchema } from '../../../protocol/index.js';
import { RawClient, rest, sleep } from '../../support/raw-client.js';
import { connectSse, type SseStream } from '../../support/sse-client.js';
import { KEYS, type TestServer } from '../../support/test-server.js';
import { delivery, type Delivery } from './delivery.js';
import { ODD_STRINGS } from './hostile-json.js';

/** What the bystander's two streams saw. */
export type BystanderReport = Delivery & { published: number; problems: string[] };

const SUB = 'bystander';

/** Publishes to its own topic and checks that both of its streams get exactly that. */
export class Bystander {
  private readonly published = new Map<number, unknown>();
  private readonly problems: string[] = [];
  private stopped = false;
  private readonly ticking: Promise<void>;

  private constructor(
    private readonly server: TestServer,
    private readonly topic: string,
    private readonly ws: RawClient,
    private readonly sse: SseStream,
    intervalMs: number,
  ) {
    this.ticking = this.tick(intervalMs);
  }

  /** Connects both streams and starts publishing every `intervalMs`. */
  static async start(server: TestServer, topic = 'bystander', intervalMs = 20): Promise<Bystander> {
    const channel = `events:${topic}`;
    const ws = await RawClient.connect(server, KEYS.acmeSecret);
    await ws.subscribe({ id: SUB, channel });
    const sse = await connectSse(server, KEYS.acmePublic, { subscriptions: [{ id: SUB, channel }] });
    await sse.next('subscribed');
    return new Bystander(server, topic, ws, sse, intervalMs);
  }

  private async tick(intervalMs: number): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      const data = { n, text: ODD_STRINGS[n % ODD_STRINGS.length] };
      const res = await rest(this.server, 'POST', `/api/events/${this.topic}`, {
        key: KEYS.acmeSecret,
        body: data,
      });
      if (res.status === 202) this.published.set(PublishResponseSchema.parse(res.body).seq, data);
      else this.problems.push(`publish ${n} answered ${res.status}: ${JSON.stringify(res.body)}`);
      await sleep(intervalMs);
    }
  }

  /** Stops publishing, waits for both streams to catch up, closes them and reports. */
  async finish(timeoutMs = 10_000): Promise<BystanderReport> {
    this.stopped = true;
    await this.ticking;
    const last = Math.max(0, ...this.published.keys());
    const deadline = Date.now() + timeoutMs;
    const has = (events: { seq: number }[]) => events.some((e) => e.seq >= last);
    while (!(has(this.ws.events(SUB)) && has(this.sse.events(SUB))) && Date.now() < deadline) {
      if (this.ws.closed || this.sse.ended) break;
      await sleep(10);
    }
    const streams = [
      { name: 'WebSocket', events: this.ws.events(SUB), invalid: this.ws.invalid },
      { name: 'SSE', events: this.sse.events(SUB), invalid: this.sse.invalid },
    ];
    if (this.ws.closed) this.problems.push(`the WebSocket was closed: ${JSON.stringify(this.ws.closed)}`);
    if (this.sse.ended) this.problems.push('the SSE stream ended');
    const errors = this.ws.messages.filter((m) => m.type === 'error');
    if (errors.length)
      this.problems.push(`the WebSocket got errors: ${JSON.stringify(errors).slice(0, 300)}`);
    const total: Delivery = { lost: 0, duplicated: 0, unexpected: 0, outOfOrder: 0 };
    for (const stream of streams) {
      const d = delivery(
        this.published.keys(),
        stream.events.map((e) => e.seq),
      );
      for (const key of Object.keys(total) as (keyof Delivery)[]) total[key] += d[key];
      if (d.lost || d.duplicated || d.unexpected || d.outOfOrder)
        this.problems.push(`${stream.name}: ${JSON.stringify(d)}`);
      for (const event of stream.events) {
        const sent = this.published.get(event.seq);
        const got = 'data' in event ? event.data : undefined;
        if (sent !== undefined && !isDeepStrictEqual(got, sent))
          this.problems.push(
            `${stream.name}: seq ${event.seq} carried ${JSON.stringify(got)}, not ${JSON.stringify(sent)}`,
          );
      }
      this.problems.push(...stream.invalid.map((i) => `${stream.name} invalid frame: ${i}`));
    }
    this.ws.close();
    this.sse.close();
    return { ...total, published: this.published.size, problems: this.problems };
  }
}
