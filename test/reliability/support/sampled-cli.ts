/**
 * The dev server CLI as the load tests run it: on `config`, a random port, batches sent as soon
 * as the event loop turns (`--flush-ms 0`), its audit written to `audit` (a file, or `-` for its
 * standard output), and its resident memory sampled while the test runs. Both are stopped by
 * the test's `cleanups`.
 */
import { CliProcess } from '../../support/cli-process.js';
import { sampleMemory } from './process-memory.js';

/** A running CLI and the sampler of its memory. */
export type SampledCli = {
  cli: CliProcess & { url: string };
  url: string;
  memory: ReturnType<typeof sampleMemory>;
};

/** Starts the CLI and its memory sampler; pushes their stops onto `cleanups`. */
export async function startSampledCli(
  config: string,
  audit: string,
  cleanups: (() => unknown)[],
): Promise<SampledCli> {
  const cli = await CliProcess.start([
    '--config',
    config,
    '--port',
    '0',
    '--flush-ms',
    '0',
    '--audit',
    audit,
  ]);
  cleanups.push(() => cli.stop('SIGKILL'));
  const memory = sampleMemory(cli.child.pid as number);
  cleanups.push(() => memory.stop());
  return { cli, url: cli.url, memory };
}
