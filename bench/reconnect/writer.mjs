// Writes to `orders` through the REST API at a steady rate, one request at a time: mostly
// updates, some creates and deletes, so every kind of `change` flows. Each update bumps a
// counter, so every write commits (an update that changes nothing would take no seq).
// While paused it sends nothing; a write the crash cut off is counted as failed (it may or may
// not have committed: the clients' seq accounting does not depend on it).
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';

/**
 * @param {{ url: string, key: string, rate: number, ids: string[] }} options `ids`: the records
 *   that exist when writing starts.
 */
export function createWriter({ url, key, rate, ids }) {
  const live = [...ids];
  let created = 0;
  let counter = 0;
  let paused = true;
  let stopped = false;
  let wake = () => {};
  const stats = { ok: 0, failed: 0 };

  const request = async (method, path, body) => {
    const response = await globalThis.fetch(`${url}/api/objects/orders/records${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: globalThis.AbortSignal.timeout(5000),
    });
    await response.arrayBuffer();
    return response.ok;
  };

  const writeOne = async () => {
    const roll = Math.random();
    counter++;
    if (roll < 0.15 || live.length < 10) {
      const id = `w${++created}`;
      live.push(id);
      return request('POST', '', { id, status: 'pending', total: counter % 500, n: counter });
    }
    const index = Math.floor(Math.random() * live.length);
    if (roll < 0.3) {
      const [id] = live.splice(index, 1);
      return request('DELETE', `/${id}`);
    }
    const status = ['pending', 'paid', 'shipped'][counter % 3];
    return request('PATCH', `/${live[index]}`, { status, n: counter });
  };

  const loop = (async () => {
    const interval = 1000 / rate;
    let next = performance.now();
    while (!stopped) {
      if (paused) {
        await new Promise((resolve) => (wake = resolve));
        next = performance.now();
        continue;
      }
      try {
        if (await writeOne()) stats.ok++;
        else stats.failed++;
      } catch {
        stats.failed++;
      }
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      else next = performance.now(); // fell behind: do not burst to catch up
    }
  })();

  return {
    stats,
    /** Starts or resumes writing. */
    resume() {
      paused = false;
      wake();
    },
    /** Sends no new write (one in flight still finishes). */
    pause() {
      paused = true;
    },
    /** Stops for good; resolves when the last write has been answered. */
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
}
