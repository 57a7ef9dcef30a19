// What the demo scripts share (`npm start`: start.mjs, `npm run demo:postgres`: demo-postgres.mjs):
// the script-tag bundle built when it is missing or older than its sources, the dev server CLI
// serving demo/ (the page) and dist/ (the bundle) on the API's own origin with the caller's lines
// printed after its first, and Ctrl-C passed on to it once.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLES = ['dist/catalyst-elements.js', 'dist/catalyst-elements.iife.js'].map((file) =>
  join(ROOT, file),
);
/** What the bundle is built from: every file in these folders, and these files. */
const SOURCE_DIRS = ['elements', 'protocol'].map((dir) => join(ROOT, dir));
const SOURCE_FILES = ['vite.config.ts', 'tsconfig.json', 'package-lock.json'].map((file) => join(ROOT, file));
/** The signals that stop a demo: Ctrl-C, `kill`, a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Newest modification time of the bundle's sources, in ms. */
function newestSource() {
  const files = [
    ...SOURCE_FILES.filter((file) => existsSync(file)),
    ...SOURCE_DIRS.flatMap((dir) =>
      readdirSync(dir, { recursive: true }).map((file) => join(dir, String(file))),
    ),
  ];
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

/** Why the bundle must be built, or `undefined` when it is up to date. */
function buildReason() {
  if (!BUNDLES.every((file) => existsSync(file))) return 'dist/ has no script-tag bundle';
  const built = Math.min(...BUNDLES.map((file) => statSync(file).mtimeMs));
  return built < newestSource() ? 'the sources changed since dist/ was built' : undefined;
}

/** Runs `vite build` in the repository, its output on standard error; resolves with its exit code. */
function build() {
  const vitePackage = fileURLToPath(import.meta.resolve('vite/package.json'));
  const vite = join(dirname(vitePackage), 'bin', 'vite.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vite, 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/**
 * Builds the bundle when it is stale, saying why on standard error as `<script>: …`; exits with
 * the build's status when it fails.
 */
export async function ensureBundle(script) {
  const reason = buildReason();
  if (!reason) return;
  console.error(`${script}: ${reason}; building it (vite build)…`);
  const code = await build();
  if (code !== 0) {
    console.error(`${script}: the build failed (exit ${code}); see above`);
    process.exit(code);
  }
}

/** A directory of the repository, as the CLI should print it: relative to where we run. */
const here = (dir) => relative(process.cwd(), join(ROOT, dir)) || '.';

/**
 * Spawns the dev server CLI with `flags`, then `--static demo --static dist`, then this script's
 * own arguments (the CLI keeps the last value of a flag, so those win). Its standard output is
 * passed on line by line; after its first line (`catalyst-dev-server listening on URL`) come the
 * lines `afterListening(url)` returns. It runs in its own process group, so that a Ctrl-C in the
 * terminal reaches this script only (`forwardSignals` passes it on).
 */
export function spawnDemoServer(flags, afterListening) {
  const args = [
    '--import',
    import.meta.resolve('tsx'),
    join(ROOT, 'dev-server/node/cli.ts'),
    ...flags,
    '--static',
    here('demo'),
    '--static',
    here('dist'),
    ...process.argv.slice(2),
  ];
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let first = true;
  createInterface({ input: server.stdout }).on('line', (line) => {
    console.log(line);
    if (!first) return;
    first = false;
    const listening = /^catalyst-dev-server listening on (\S+)$/.exec(line);
    if (listening) for (const extra of afterListening(listening[1])) console.log(extra);
  });
  return server;
}

/**
 * Passes Ctrl-C, SIGTERM and SIGHUP on to `server`. One Ctrl-C can arrive here twice: from the
 * terminal and from npm, which passes signals on to its script. A second signal makes the CLI
 * exit at once, skipping its graceful close, so only a signal a second or more after the first (a
 * second press) is passed on. A closed terminal (SIGHUP) stops the server as SIGTERM does.
 */
export function forwardSignals(server) {
  let firstSignalAt;
  const passOn = (signal) => {
    if (firstSignalAt !== undefined && Date.now() - firstSignalAt < 1000) return;
    firstSignalAt ??= Date.now();
    server.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, passOn);
}
