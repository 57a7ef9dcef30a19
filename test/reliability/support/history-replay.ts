/**
 * The reference for what a subscription had to receive: after the run, a fresh connection
 * straight to the server subscribes with the same spec and `since`, and the server replays its
 * history (PROTOCOL.md section 5) — every event after `since` that such a subscription gets, with
 * the filter applied. The replay is written at once, ahead of the answer to the next frame, so a
 * `ping` sent after the subscribe marks its end. Each spec gets a connection of its own, so no
 * replay shares a send buffer with another.
 */
import type { SubscriptionSpec } from '../../../protocol/index.js';
import { RawClient, getToken } from '../../support/raw-client.js';

/** What the history holds for one spec. */
export type Replay = {
  /** The seqs a subscription of the spec receives after `since`, ascending. */
  seqs: number[];
  /** The environment's seq when the replay was taken: the newest seq there is. */
  last: number;
};

/** Replays `spec` from `since` on a fresh connection to `url` (not through any proxy). */
export async function replayHistory(
  url: string,
  key: string,
  spec: Omit<SubscriptionSpec, 'id' | 'since' | 'epoch' | 'snapshot'>,
  since: number,
): Promise<Replay> {
  const token = await getToken({ url }, key);
  const client = await RawClient.open(
    `${url.replace(/^http/, 'ws')}/ws/events/object-records/?token=${token}`,
  );
  try {
    const welcome = await client.next('welcome');
    const answer = await client.subscribe({ ...spec, id: 'replay', since, epoch: welcome.epoch });
    if (answer.resumed !== true) {
      throw new Error(`the history does not reach back to seq ${since} (${JSON.stringify(answer)})`);
    }
    client.send({ type: 'ping', t: 'end of replay' });
    await client.next('pong', (m) => m.t === 'end of replay', 30_000);
    if (client.invalid.length) throw new Error(`invalid frames in the replay: ${client.invalid.join('; ')}`);
    return { seqs: client.events('replay').map((e) => e.seq), last: welcome.seq };
  } finally {
    client.close();
  }
}
