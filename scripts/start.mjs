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
// (scripts/demo-server.mjs holds what `npm run demo:postgres` shares with it.)
import { ensureBundle, forwardSignals, spawnDemoServer } from './demo-server.mjs';

/** Writes per second, and how soon a write reaches the page (the protocol's default is 5 s). */
const DEMO_FLAGS = ['--simulate', '2', '--flush-ms', '500'];

await ensureBundle('start');
const server = spawnDemoServer(DEMO_FLAGS, (url) => [`  demo page: ${url}/`]);
forwardSignals(server);
// 'close', not 'exit': every line it printed has been passed on by then.
server.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
