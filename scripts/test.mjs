#!/usr/bin/env node
// Runs every suite of the project in turn — type check, lint, formatting, the Node tests, the
// bundle build, the browser tests, the static Storybook — streams their output, and ends with one
// line `N passed, N failed` summing them all (what CI reads).
// Usage: node scripts/test.mjs [--only static|node|browser] (browser: the build, the tests, Storybook)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

/** Test files under a folder, recursively, sorted. */
function testFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f))
    .sort();
}

/** Runs a command, echoing its output; resolves with its exit code and output. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      output += d;
      process.stderr.write(d);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** A suite of `node --test` files (TypeScript through tsx), counted from its summary. */
function nodeTests(name, kind, dirs) {
  return {
    name,
    kind,
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      '--test-concurrency=2',
      ...dirs.flatMap(testFiles),
    ],
    counts: (output) => ({
      passed: Number(/^[ℹ#] pass (\d+)/m.exec(output)?.[1] ?? 0),
      failed:
        Number(/^[ℹ#] fail (\d+)/m.exec(output)?.[1] ?? 0) +
        Number(/^[ℹ#] cancelled (\d+)/m.exec(output)?.[1] ?? 0),
    }),
  };
}

const suites = [
  { name: 'typecheck', kind: 'static', command: 'npx', args: ['tsc', '--noEmit'] },
  { name: 'eslint', kind: 'static', command: 'npx', args: ['eslint', '.'] },
  { name: 'prettier', kind: 'static', command: 'npx', args: ['prettier', '--check', '.'] },
  nodeTests('node tests', 'node', [
    'test/protocol',
    'test/dev-server',
    'test/elements',
    'test/mock',
    'test/docs',
  ]),
  // The package (`npm run build`): the script-tag bundles (vite.config.ts), which
  // test/browser/script-tag.test.ts loads, the ES modules with types, the manifest and editor data.
  { name: 'build', kind: 'browser', command: 'npm', args: ['run', '--silent', 'build'] },
  {
    // web-test-runner in Chromium (web-test-runner.config.js). Its own counts sit in a progress bar
    // among terminal escapes and leave out files that failed to load, so the config's count
    // reporter prints a line of its own.
    name: 'browser tests',
    kind: 'browser',
    command: 'npx',
    args: ['web-test-runner'],
    counts: (output) => {
      const line = /Browser tests: (\d+) passed, (\d+) failed/.exec(output);
      // No count line: wtr did not get as far as running tests (no Chromium, a bad config).
      return line ? { passed: Number(line[1]), failed: Number(line[2]) } : { passed: 0, failed: 1 };
    },
  },
  // What needs the build: its size against the budget, `npm pack` installed into a scratch
  // project, and the demo page in Chromium against the real dev server.
  nodeTests('package tests', 'browser', ['test/package', 'test/demo']),
  {
    // Every benchmark at a tiny size (bench/run.mjs --smoke): the code runs; the numbers are not asserted.
    name: 'benchmark smoke',
    kind: 'browser',
    command: process.execPath,
    args: ['bench/run.mjs', '--smoke'],
    counts: (output) => {
      const line = /Benchmarks: (\d+) passed, (\d+) failed/.exec(output);
      return line ? { passed: Number(line[1]), failed: Number(line[2]) } : { passed: 0, failed: 1 };
    },
  },
  {
    // The reliability suite at its short scale (scripts/reliability.mjs --short; issue 8): faults,
    // bad input, persistence, isolation, slow consumers, browser safety. `npm run test:reliability`
    // runs it at full scale and writes RELIABILITY.md.
    name: 'reliability (short)',
    kind: 'browser',
    command: process.execPath,
    args: ['scripts/reliability.mjs', '--short'],
    counts: (output) => {
      const line = /^(\d+) passed, (\d+) failed$/m.exec(output);
      return line ? { passed: Number(line[1]), failed: Number(line[2]) } : { passed: 0, failed: 1 };
    },
  },
  {
    // The static Storybook (scripts/storybook-check.mjs): built into a temporary folder, served on
    // 127.0.0.1, every story and docs page opened in Chromium; one count per story or page.
    name: 'storybook',
    kind: 'browser',
    command: process.execPath,
    args: ['scripts/storybook-check.mjs'],
    counts: (output) => {
      const line = /Storybook: (\d+) passed, (\d+) failed/.exec(output);
      return line ? { passed: Number(line[1]), failed: Number(line[2]) } : { passed: 0, failed: 1 };
    },
  },
];

let passed = 0;
let failed = 0;
const summary = [];
for (const suite of suites) {
  if (only && suite.kind !== only) continue;
  console.log(`\n=== ${suite.name} ===`);
  const started = Date.now();
  const { code, output } = await run(suite.command, suite.args);
  let counts = suite.counts
    ? suite.counts(output)
    : code === 0
      ? { passed: 1, failed: 0 }
      : { passed: 0, failed: 1 };
  if (code !== 0 && counts.failed === 0) counts = { ...counts, failed: 1 }; // a crash with no failing test still fails
  passed += counts.passed;
  failed += counts.failed;
  summary.push(
    `${suite.name}: ${counts.passed} passed, ${counts.failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}
console.log(`\n${summary.join('\n')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
