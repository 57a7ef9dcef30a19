/**
 * `maxConnectionsPerClient` across the cluster (issue 15, item 1; PROTOCOL.md section 11): several
 * `ClusterConnections` on one private redis-server stand for several server processes, and child
 * processes stand for processes that are killed (`SIGKILL`) or stall (`SIGSTOP`). Processes
 * racing for a client's slots never take more than the limit between them; a closed connection
 * frees its slot for any process; a killed process's connections stop counting within the node
 * TTL; `nodes()` counts the live processes; while Redis is down or hangs calls fail fast (a close is kept for later), and the
 * counts are right again once it is back, even after it lost its data.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ClusterConnections,
  type ClusterConnectionsOptions,
} from '../../../dev-server/cluster/cluster-connections.js';
import { ClusterUnavailableError } from '../../../dev-server/cluster/cluster-unavailable-error.js';
import { ClusterNodeProcess, type ClusterNodePlan } from '../../support/cluster-node-process.js';
import { RedisServer } from '../../support/redis-server.js';

/** Fast liveness for tests: a node silent for 500 ms is dead. */
const FAST = { heartbeatMs: 100, nodeTtlMs: 500 } as const;

let redis: RedisServer;
let prefixCount = 0;
let cleanups: (() => unknown)[] = [];

before(async () => {
  redis = await RedisServer.start();
});
after(() => redis?.stop());
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** `count` processes' counts on one fresh key prefix; `child` starts a child process on it too. */
async function processes(count: number, options: Partial<ClusterConnectionsOptions> = {}) {
  const keyPrefix = `t${process.pid}-${++prefixCount}:`;
  const nodes: ClusterConnections[] = [];
  for (let i = 0; i < count; i++) {
    const node = await ClusterConnections.connect({
      url: redis.url,
      keyPrefix,
      ...FAST,
      onError: () => {},
      ...options,
    });
    cleanups.push(() => node.close());
    nodes.push(node);
  }
  const child = async (plan: Omit<ClusterNodePlan, 'url' | 'keyPrefix'>) => {
    const started = await ClusterNodeProcess.start({ url: redis.url, keyPrefix, ...FAST, ...plan });
    cleanups.push(() => started.signal('SIGKILL'));
    return started;
  };
  return { nodes, child };
}

/** `n` attempts to open a connection of `client`, all at once. */
function attempts(node: ClusterConnections, client: string, max: number, n: number) {
  return Promise.all(Array.from({ length: n }, () => node.tryOpen(client, max)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("a client's connection limit", () => {
  it('lets three processes racing for slots take exactly the limit between them', async () => {
    const { nodes } = await processes(3);
    for (let round = 0; round < 3; round++) {
      const answers = (await Promise.all(nodes.map((node) => attempts(node, 'acme', 10, 10)))).flat();
      assert.equal(answers.filter((a) => a.ok).length, 10, `round ${round}`);
      for (const refused of answers.filter((a) => !a.ok)) assert.equal(refused.open, 10);
      // Every process gives back what it took.
      await Promise.all(
        nodes.map((node, i) => {
          const taken = answers.slice(i * 10, i * 10 + 10).filter((a) => a.ok).length;
          return Promise.all(Array.from({ length: taken }, () => node.closed('acme')));
        }),
      );
    }
  });

  it('gives a closed connection’s slot to another process', async () => {
    const { nodes } = await processes(3);
    const [a, b, c] = nodes as [ClusterConnections, ClusterConnections, ClusterConnections];
    assert.deepEqual(await attempts(a, 'acme', 3, 3), [
      { ok: true, open: 1 },
      { ok: true, open: 2 },
      { ok: true, open: 3 },
    ]);
    assert.deepEqual(await b.tryOpen('acme', 3), { ok: false, open: 3 });
    await a.closed('acme');
    assert.deepEqual(await b.tryOpen('acme', 3), { ok: true, open: 3 });
    assert.deepEqual(await c.tryOpen('acme', 3), { ok: false, open: 3 });
  });

  it('counts each client apart', async () => {
    const { nodes } = await processes(2);
    const [a, b] = nodes as [ClusterConnections, ClusterConnections];
    await attempts(a, 'acme', 2, 2);
    assert.equal((await b.tryOpen('acme', 2)).ok, false);
    assert.deepEqual(await b.tryOpen('globex', 2), { ok: true, open: 1 });
  });

  it('refuses a client name that no config can have', async () => {
    const { nodes } = await processes(1);
    await assert.rejects(nodes[0]!.tryOpen('acme}x', 2), TypeError);
    await assert.rejects(nodes[0]!.tryOpen('', 2), TypeError);
  });
});

describe('live nodes', () => {
  it('counts the live processes; one that closes stops counting at once, with its connections', async () => {
    const { nodes } = await processes(3);
    const [a, b] = nodes as [ClusterConnections, ClusterConnections];
    assert.equal(await a.nodes(), 3);
    assert.equal(new Set(nodes.map((node) => node.node)).size, 3);
    await attempts(a, 'acme', 4, 4);
    assert.equal((await b.tryOpen('acme', 4)).ok, false);

    await a.close();
    assert.equal(await b.nodes(), 2);
    assert.deepEqual(await attempts(b, 'acme', 4, 4), [
      { ok: true, open: 1 },
      { ok: true, open: 2 },
      { ok: true, open: 3 },
      { ok: true, open: 4 },
    ]);
  });

  it("stops counting a killed process's connections within the node TTL", async () => {
    const { nodes, child } = await processes(1);
    const [a] = nodes as [ClusterConnections];
    const killed = await child({ client: 'acme', max: 5, open: 4 });
    assert.equal(killed.open, 4);
    assert.equal(await a.nodes(), 2);
    assert.deepEqual(await a.tryOpen('acme', 5), { ok: true, open: 5 });

    await killed.signal('SIGKILL');
    const diedAt = performance.now();
    assert.deepEqual(await a.tryOpen('acme', 5), { ok: false, open: 5 }, 'still counted right after');
    await until('the slots of the killed process', async () =>
      (await a.tryOpen('acme', 5)).ok ? true : undefined,
    );
    const waited = performance.now() - diedAt;
    // Dead between its last heartbeat (up to 100 ms before) plus 500 ms, and this process's poll.
    assert.ok(waited > 350 && waited < 1200, `counted for ${waited} ms after the kill`);
    assert.equal(await a.nodes(), 1);
    assert.deepEqual(await attempts(a, 'acme', 5, 4), [
      { ok: true, open: 3 },
      { ok: true, open: 4 },
      { ok: true, open: 5 },
      { ok: false, open: 5 },
    ]);
  });

  it('counts a stalled process again as soon as it beats again', async () => {
    const { nodes, child } = await processes(1);
    const [a] = nodes as [ClusterConnections];
    const stalled = await child({ client: 'acme', max: 5, open: 3 });
    await stalled.signal('SIGSTOP');
    await sleep(700);
    // Given up for dead: its slots are taken (the limit is overshot once it is back; see the module).
    assert.equal(await a.nodes(), 1);
    assert.equal((await attempts(a, 'acme', 5, 5)).filter((answer) => answer.ok).length, 5);

    await stalled.signal('SIGCONT');
    await until('the stalled process back', async () => ((await a.nodes()) === 2 ? true : undefined));
    const open = await until('its slots counted', async () => {
      const answer = await a.tryOpen('acme', 100);
      await a.closed('acme');
      return answer.open === 9 ? answer.open : undefined;
    });
    assert.equal(open, 9, 'its 3, these 5 and the probe');
  });
});

describe('Redis unreachable', () => {
  it('rejects at once while Redis is down; after a restart the processes count their connections again', async () => {
    const { nodes } = await processes(2);
    const [a, b] = nodes as [ClusterConnections, ClusterConnections];
    await attempts(a, 'acme', 5, 3);
    await attempts(a, 'globex', 3, 2);

    await redis.kill();
    for (const call of [() => a.tryOpen('acme', 5), () => a.nodes()]) {
      const started = performance.now();
      await assert.rejects(call(), ClusterUnavailableError);
      assert.ok(performance.now() - started < 100, `rejected after ${performance.now() - started} ms`);
    }
    const started = performance.now();
    await a.closed('acme'); // given back in Redis once it is back
    assert.ok(performance.now() - started < 100, `closed after ${performance.now() - started} ms`);
    assert.equal(a.available, false);

    await redis.restart(); // empty: every count and heartbeat is gone
    await until('both back and announced', async () =>
      a.available && b.available && (await b.nodes()) === 2 ? true : undefined,
    );
    await sleep(3 * FAST.heartbeatMs);
    // a still holds 2 of each: acme's 3 less the one closed while Redis was down, and globex's 2.
    assert.deepEqual(await attempts(b, 'globex', 3, 2), [
      { ok: true, open: 3 },
      { ok: false, open: 3 },
    ]);
    assert.deepEqual(await attempts(b, 'acme', 5, 4), [
      { ok: true, open: 3 },
      { ok: true, open: 4 },
      { ok: true, open: 5 },
      { ok: false, open: 5 },
    ]);
  });

  it('rejects after commandTimeoutMs while Redis hangs, and gives back a slot the timed-out call took', async () => {
    const { nodes } = await processes(2, { commandTimeoutMs: 200 });
    const [a, b] = nodes as [ClusterConnections, ClusterConnections];
    await redis.pause(500);
    const started = performance.now();
    await assert.rejects(a.tryOpen('acme', 3), ClusterUnavailableError);
    const waited = performance.now() - started;
    assert.ok(waited >= 150 && waited < 600, `rejected after ${waited} ms`);

    // The call ran once Redis went on; a's next heartbeat gives the slot back.
    await sleep(500 + 3 * FAST.heartbeatMs);
    assert.deepEqual(await attempts(b, 'acme', 3, 4), [
      { ok: true, open: 1 },
      { ok: true, open: 2 },
      { ok: true, open: 3 },
      { ok: false, open: 3 },
    ]);
  });

  it('refuses to connect to a Redis that is not there', async () => {
    const started = performance.now();
    await assert.rejects(
      ClusterConnections.connect({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300, onError: () => {} }),
      ClusterUnavailableError,
    );
    assert.ok(performance.now() - started < 1000, `refused after ${performance.now() - started} ms`);
  });
});
