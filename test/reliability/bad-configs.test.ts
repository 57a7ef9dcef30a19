/**
 * Issue 8, item 3 for config files: generated malformed configs through the real CLI (a child
 * process). Each broken one is refused before listening, with exit status 2 and a message naming
 * the dotted path (or that the file is not JSON), never a stack trace; each hostile but valid one
 * starts and serves every key exactly its own records. `RELIABILITY_SEED=<seed>` repeats a run.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CliProcess, tempDir } from '../support/cli-process.js';
import { rest } from '../support/raw-client.js';
import { testConfig } from '../support/test-server.js';
import { ConfigGenerator, type ConfigCase } from './support/bad-configs.js';
import { recordFigures, secondsSince } from './support/figures.js';
import { SCALE, scaled } from './support/scale.js';
import { RUN_SEED, randomFor } from './support/seeded-random.js';

const SEED = `seed ${RUN_SEED} (RELIABILITY_SEED=${RUN_SEED} repeats the run)`;
/** CLI processes at a time. */
const PARALLEL = 3;

/** Ids of `object` that `key` lists over REST. */
async function listed(url: string, key: string, object: string): Promise<string[]> {
  const res = await rest({ url }, 'GET', `/api/objects/${encodeURIComponent(object)}/records`, { key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { records: { id: string }[] }).records.map((r) => r.id);
}

describe('bad config files through the CLI', () => {
  let dir: ReturnType<typeof tempDir>;
  before(() => (dir = tempDir('catalyst-reliability-config-')));
  after(() => dir.remove());

  /** Runs the CLI on one config; returns why it did not behave as documented, or undefined. */
  async function tryConfig(c: ConfigCase, file: string): Promise<{ failure?: string; crashed: boolean }> {
    writeFileSync(file, c.text);
    const args = ['--config', file, '--port', '0'];
    if ('refused' in c.expect) {
      const run = CliProcess.spawn(args);
      // Fails at once, rather than after a timeout, when the server starts anyway.
      const outcome = await Promise.race([
        run.exited,
        run.listening().then(
          () => 'listening' as const,
          () => run.exited,
        ),
      ]);
      if (outcome === 'listening') {
        await run.stop('SIGKILL');
        return { failure: `${c.what}: started and listened instead of refusing`, crashed: false };
      }
      const exit = outcome;
      const stack = /^\s+at .+\(.+:\d+:\d+\)$/m.test(run.stderr);
      const ok =
        exit.code === 2 &&
        !run.stdout.includes('listening') &&
        run.stderr.startsWith('catalyst-dev-server:') &&
        run.stderr.includes(c.expect.refused) &&
        !stack;
      return ok
        ? { crashed: false }
        : {
            failure: `${c.what}: exit ${JSON.stringify(exit)}, stderr ${JSON.stringify(run.stderr.slice(0, 300))}`,
            crashed: stack,
          };
    }
    const { serves, otherKey } = c.expect;
    let cli: (CliProcess & { url: string }) | undefined;
    try {
      cli = await CliProcess.start(args);
      const own = await listed(cli.url, serves.key, serves.object);
      const others = await listed(cli.url, otherKey, serves.object);
      const wanted = [...serves.ids].sort();
      if (JSON.stringify([...own].sort()) !== JSON.stringify(wanted) || others.length) {
        return {
          failure: `${c.what}: its key lists ${JSON.stringify(own)}, another key ${JSON.stringify(others)}`,
          crashed: false,
        };
      }
      const exit = await cli.stop('SIGTERM');
      return exit.code === 0
        ? { crashed: false }
        : { failure: `${c.what}: SIGTERM exit ${JSON.stringify(exit)}`, crashed: true };
    } catch (error) {
      return { failure: `${c.what}: ${(error as Error).message.slice(0, 300)}`, crashed: true };
    } finally {
      await cli?.stop('SIGKILL');
    }
  }

  it('refuses each broken config naming its path, and serves each hostile valid one correctly', async () => {
    const started = Date.now();
    const generator = new ConfigGenerator(randomFor('configs'));
    const cases = Array.from({ length: scaled({ short: 9, full: 60 }) }, () => generator.next());
    const failures: string[] = [];
    let crashes = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let i = next++; i < cases.length; i = next++) {
          const result = await tryConfig(cases[i] as ConfigCase, dir.file(`config-${i}.json`));
          if (result.failure) failures.push(result.failure);
          if (result.crashed) crashes++;
        }
      }),
    );
    const valid = cases.filter((c) => 'serves' in c.expect).length;
    recordFigures({
      area: 'bad input',
      test: 'config files through the CLI',
      scale: SCALE,
      load: `${cases.length} CLI starts, ${PARALLEL} at a time (${valid} hostile but valid)`,
      faults: 0,
      badInputs: cases.length,
      lost: 0,
      duplicated: 0,
      leaked: failures.filter((f) => f.includes('another key')).length,
      crashes,
      seconds: secondsSince(started),
      seed: RUN_SEED,
      notes: `${failures.length} not handled as documented`,
    });
    assert.deepEqual(
      failures.slice(0, 10),
      [],
      `${failures.length} configs not handled as documented; ${SEED}`,
    );
  });

  it('refuses a seed record with a __proto__ key, naming its path, as REST refuses such a body', async () => {
    const text = JSON.stringify(testConfig()).replace(
      '{"id":"o1",',
      '{"id":"o1","__proto__":{"status":"paid"},',
    );
    const result = await tryConfig(
      {
        what: 'a seed record with a __proto__ key',
        text,
        expect: { refused: 'records.acme.production.orders.0' },
      },
      dir.file('proto-seed.json'),
    );
    assert.equal(result.failure, undefined);
  });
});
