#!/usr/bin/env node
// `npm start`: the demo in one command. Builds the script-tag bundle (`vite build`, dist/) when it
// is missing or older than its sources, then runs the dev server CLI on its built-in demo data with
// simulated writes, serving demo/ (the page) and dist/ (the bundle) on the API's own origin.
//
//   node scripts/start.mjs [dev server flags…]    e.g. --port 9000, --simulate 5, --flush-ms 0
//
// Its own flags come first and the CLI keeps the last value of a flag, so flags given here win;
// `--static dir` adds a directory after demo/ and dist/. The port is the CLI's default, 8787.
// Standard output is the CLI's, with `  demo page: URL/` after its first line (`catalyst-dev-server
// listening on URL`); the build writes to standard error, so that line stays the first. Ctrl-C or
// SIGTERM stops the server gracefully, and this script with it; a second Ctrl-C stops it at once.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLES = ['dist/catalyst-elements.js', 'dist/catalyst-elements.iife.js'].map((file) =>
  join(ROOT, file),
);
/** What the bundle is built from: every file in these folders, and these files. */
const SOURCE_DIRS = ['elements', 'protocol'].map((dir) => join(ROOT, dir));
const SOURCE_FILES = ['vite.config.ts', 'tsconfig.json', 'package-lock.json'].map((file) => join(ROOT, file));
/** Writes per second, and how soon a write reaches the page (the protocol's default is 5 s). */
const DEMO_FLAGS = ['--simulate', '2', '--flush-ms', '500'];

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

const reason = buildReason();
if (reason) {
  console.error(`start: ${reason}; building it (vite build)…`);
  const code = await build();
  if (code !== 0) {
    console.error(`start: the build failed (exit ${code}); see above`);
    process.exit(code);
  }
}

/** A directory of the repository, as the CLI should print it: relative to where we run. */
const here = (dir) => relative(process.cwd(), join(ROOT, dir)) || '.';
const args = [
  '--import',
  import.meta.resolve('tsx'),
  join(ROOT, 'dev-server/node/cli.ts'),
  ...DEMO_FLAGS,
  '--static',
  here('demo'),
  '--static',
  here('dist'),
  ...process.argv.slice(2),
];
// Its own process group, so that a Ctrl-C in the terminal reaches this script only.
const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
let first = true;
createInterface({ input: server.stdout }).on('line', (line) => {
  console.log(line);
  if (!first) return;
  first = false;
  const listening = /^catalyst-dev-server listening on (\S+)$/.exec(line);
  if (listening) console.log(`  demo page: ${listening[1]}/`);
});
// One Ctrl-C can arrive here twice: from the terminal and from npm, which passes signals on to
// its script. A second signal makes the CLI exit at once, skipping its graceful close, so only a
// signal a second or more after the first (a second press) is passed on. A closed terminal
// (SIGHUP) stops the server as SIGTERM does.
let firstSignalAt;
function passOn(signal) {
  if (firstSignalAt !== undefined && Date.now() - firstSignalAt < 1000) return;
  firstSignalAt ??= Date.now();
  server.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, passOn);
// 'close', not 'exit': every line it printed has been passed on by then.
server.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
