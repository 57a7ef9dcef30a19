#!/usr/bin/env node
/**
 * `catalyst-dev-server [--config file.json] [--port 8787] [--host 127.0.0.1] [--flush-ms n]
 * [--max-batch n] [--heartbeat-ms n] [--data file.json] [--simulate rate]
 * [--audit file|-|nats://host:port] [--static dir]…`
 *
 * The first line printed is `catalyst-dev-server listening on http://HOST:PORT`. A bad flag or
 * config exits with status 2, naming the flag or the config's JSON path and the reason; so does a
 * `--data` file that cannot be loaded, naming the file, the line and what to do.
 *
 * `--static dir` (repeatable) also serves the files of `dir` at every path outside the API, for
 * a page on the API's own origin (`static-files.ts`): the first directory holding a file wins,
 * `/` serves `index.html`. A missing directory, or a file given as one, is a usage error.
 *
 * `--audit nats://[user:pass@]host[:port]` publishes each audit record on NATS
 * (`nats-audit.ts`) instead of writing it to a file: a URL that names no server is a usage
 * error; NATS being down is not (the server starts, says so on stderr, and keeps the records
 * until NATS is back).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Limits } from '../../protocol/index.js';
import { ConfigError } from '../engine/config.js';
import { DEMO_KEYS } from '../engine/demo-data.js';
import { ClusterUnavailableError } from '../cluster/cluster-unavailable-error.js';
import { PostgresSetupError } from '../sources/postgres/setup.js';
import { parseAuditTarget } from './audit-sink.js';
import { DataFileError } from './data-file.js';
import { NatsAuditUrlError } from './nats-audit-url.js';
import { createDevServer, type DevServerOptions } from './server.js';
import { StaticDirError } from './static-files.js';

const USAGE = `usage: catalyst-dev-server [--config file.json] [--port 8787] [--host 127.0.0.1] [--cluster redis://host:port]
  [--flush-ms n] [--max-batch n] [--heartbeat-ms n] [--data file.json] [--simulate rate] [--audit file|-|nats://host:port]
  [--static dir]…   serve dir's files beside the API (repeatable; the first dir holding a file wins)`;

/** Thrown for a bad command line; the message names the flag. */
class UsageError extends Error {}

/** Turns argv into server options. Throws `UsageError` or `ConfigError`. */
function parseCli(argv: string[]): DevServerOptions & { help?: boolean; configPath?: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'flush-ms': { type: 'string' },
        'max-batch': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        data: { type: 'string' },
        simulate: { type: 'string' },
        audit: { type: 'string' },
        cluster: { type: 'string' },
        static: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const limits: Partial<Limits> = {};
  const flushMs = integer(values, 'flush-ms', 0);
  if (flushMs !== undefined) limits.flushIntervalMs = flushMs;
  const maxBatch = integer(values, 'max-batch', 1);
  if (maxBatch !== undefined) limits.maxBatchEvents = maxBatch;
  const heartbeatMs = integer(values, 'heartbeat-ms', 1);
  if (heartbeatMs !== undefined) limits.heartbeatMs = heartbeatMs;
  const port = integer(values, 'port', 0);
  if (port !== undefined && port > 65535) throw new UsageError('--port must be from 0 to 65535');
  let simulate: number | undefined;
  if (values.simulate !== undefined) {
    simulate = Number(values.simulate);
    if (!Number.isFinite(simulate) || simulate <= 0 || simulate > 10_000) {
      throw new UsageError(
        `--simulate must be a number of writes per second from 0 to 10000, not "${values.simulate}"`,
      );
    }
  }
  if (values.audit !== undefined) {
    try {
      parseAuditTarget(values.audit);
    } catch (error) {
      if (error instanceof NatsAuditUrlError) throw new UsageError(`--audit ${error.message}`);
      throw error;
    }
  }
  let config: unknown;
  if (values.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(values.config, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read config ${values.config}: ${(error as Error).message}`);
    }
    try {
      config = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`config ${values.config} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return {
    config,
    configPath: values.config,
    limits,
    port: port ?? 8787,
    host: values.host ?? '127.0.0.1',
    data: values.data,
    simulate,
    audit: values.audit,
    cluster: values.cluster,
    staticDirs: values.static,
    help: values.help,
  };
}

function integer(values: Record<string, unknown>, flag: string, min: number): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${flag} must be an integer ≥ ${min}, not "${String(raw)}"`);
  return n;
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`catalyst-dev-server: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  let server;
  try {
    server = await createDevServer(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(
        `catalyst-dev-server: bad config ${options.configPath ?? '(built-in)'}:\n${error.message.replace(/^/gm, '  ')}`,
      );
      process.exit(2);
    }
    if (error instanceof StaticDirError) {
      console.error(`catalyst-dev-server: --static ${error.dir}: ${error.reason}\n${USAGE}`);
      process.exit(2);
    }
    if (error instanceof DataFileError) {
      console.error(`catalyst-dev-server: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof NatsAuditUrlError) {
      console.error(`catalyst-dev-server: --audit ${error.message}\n${USAGE}`);
      process.exit(2);
    }
    if (error instanceof ClusterUnavailableError) {
      console.error(`catalyst-dev-server: cluster: ${error.message}: is its Redis running?`);
      process.exit(2);
    }
    if (error instanceof PostgresSetupError) {
      console.error(`catalyst-dev-server: PostgreSQL: ${error.message}`);
      process.exit(2);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const where = `${options.host ?? '127.0.0.1'}:${options.port ?? 8787}`;
      const why =
        code === 'EADDRINUSE'
          ? 'is in use'
          : code === 'EACCES'
            ? 'is not allowed'
            : 'is not an address of this machine';
      console.error(
        `catalyst-dev-server: cannot listen on ${where}: it ${why}; choose another with --port/--host (--port 0 picks a free port)`,
      );
      process.exit(2);
    }
    throw error;
  }
  console.log(`catalyst-dev-server listening on ${server.url}`);
  if (options.config === undefined) {
    console.log(`  demo data; keys: ${DEMO_KEYS.secret} (secret), ${DEMO_KEYS.publishable} (publishable)`);
  }
  if (options.simulate) console.log(`  simulating ${options.simulate} writes/s`);
  const audit = options.audit ? parseAuditTarget(options.audit) : undefined;
  if (audit?.kind === 'nats')
    console.log(`  audit records to ${audit.nats.display} on console.realtime.<type>`);
  if (options.staticDirs)
    console.log(`  static files from ${options.staticDirs.join(', ')} at ${server.url}/`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.error(`catalyst-dev-server: ${signal}, closing`); // stderr: stdout may be the audit stream
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
