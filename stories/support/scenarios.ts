/**
 * What the stories do to their mock once they are on screen (`parameters.mock.scenario`): the
 * mock's control API (traffic and faults), and writes through the HTTP API with the secret key,
 * the way a back office would. Each scenario waits for the page to be live first (`ready()`); when
 * the story leaves, its `signal` ends the loops and `control.reset()` the traffic and faults.
 */
import { delay, http } from 'msw';
import { PATHS } from '../../protocol/index.js';
import type { StoryMock } from './mock-setup.js';

/** A scenario: what `parameters.mock.scenario` takes. */
export type Scenario = (mock: StoryMock) => Promise<void>;

/** A call to the REST API (PROTOCOL.md section 2) with the mock's secret key; its JSON answer. */
export async function rest(
  mock: StoryMock,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  object: string,
  id?: string,
  body?: Record<string, unknown>,
): Promise<unknown> {
  const path = `${PATHS.recordsPrefix}${encodeURIComponent(object)}/records${id === undefined ? '' : `/${encodeURIComponent(id)}`}`;
  const response = await fetch(`${mock.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${mock.secretKey}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok)
    throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

/** msw handlers of a server that never answers ws-auth: the page stays connecting, the data loading. */
export function serverNeverAnswers(baseUrl: string) {
  return [http.get(`${baseUrl}${PATHS.wsAuth}`, () => delay('infinite'))];
}

/** Random record writes at `rate` per second (the dev server's `--simulate`). */
export function traffic(rate: number): Scenario {
  return async (mock) => {
    await mock.ready();
    mock.control.simulate(rate);
  };
}

/** `count` writes at once, `delayMs` after the list is live, then again every `everyMs`. */
export function burst(count: number, delayMs = 1000, everyMs = 8000): Scenario {
  return async (mock) => {
    await mock.ready();
    await mock.sleep(delayMs);
    for (;;) {
      mock.control.burst(count);
      await mock.sleep(everyMs);
    }
  };
}

/**
 * Every `everyMs`, moves one of `ids` to the next of `values` in `field` (records move in and out
 * of a filter on that field).
 */
export function cycleField(
  object: string,
  ids: readonly string[],
  field: string,
  values: readonly unknown[],
  everyMs = 1500,
): Scenario {
  return async (mock) => {
    await mock.ready();
    for (let turn = 0; ; turn++) {
      await mock.sleep(everyMs);
      const id = ids[turn % ids.length] as string;
      const next = values[Math.floor(turn / ids.length + 1) % values.length];
      await rest(mock, 'PATCH', object, id, { [field]: next });
    }
  };
}

/** Every `everyMs`, sets `field` of a random one of `ids` to a random whole number below `max`. */
export function churn(
  object: string,
  ids: readonly string[],
  field: string,
  max: number,
  everyMs = 700,
): Scenario {
  return async (mock) => {
    await mock.ready();
    for (;;) {
      await mock.sleep(everyMs);
      const id = ids[Math.floor(Math.random() * ids.length)] as string;
      await rest(mock, 'PATCH', object, id, { [field]: Math.floor(Math.random() * max) });
    }
  };
}

/** The connection drops, and the next tokens are refused (4002): the backoff grows, counting down. */
export const reconnecting: Scenario = async (mock) => {
  await mock.ready();
  mock.control.refuseTokens(1000);
  mock.control.drop();
};

/** The browser goes offline (back online when the story leaves: `control.reset()`). */
export const offline: Scenario = async (mock) => {
  await mock.ready();
  mock.control.offline();
};

/** The key loses access (4003): the connection stops and says so. */
export const denied: Scenario = async (mock) => {
  await mock.ready();
  mock.control.deny();
};

/** The session expires (4001) every `everyMs`: the connection renews its token at once each time. */
export function tokenExpired(everyMs = 6000): Scenario {
  return async (mock) => {
    for (;;) {
      await mock.ready();
      await mock.sleep(1000);
      mock.control.expireSession();
      await mock.sleep(everyMs);
    }
  };
}

/** The client has too many connections (4008): the connection backs off at the maximum (30 s). */
export const quotaExceeded: Scenario = async (mock) => {
  await mock.ready();
  mock.control.exceedQuota();
};

/** Several scenarios at once. */
export function all(...scenarios: Scenario[]): Scenario {
  return async (mock) => {
    await Promise.all(scenarios.map((scenario) => scenario(mock)));
  };
}
