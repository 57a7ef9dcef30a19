#!/usr/bin/env node
// The static Storybook, checked the way a designer would use it: builds it (`npm run
// build-storybook`) into a temporary folder, serves that folder on 127.0.0.1 like any static
// host, and opens every story and docs page of its index.json in headless Chromium (Debian's,
// TOOLCHAIN.md). A story passes when the text it names in `parameters.shows` appears on the page
// (inside shadow roots too) and the console has no error but the ones it names in
// `parameters.consoleErrors`; a docs page passes when each of its stories does and its tables
// came from custom-elements.json. Ends with `Storybook: N passed, N failed`.
//
// Usage: node scripts/storybook-check.mjs [--static-dir <built site>] [--only <id substring>]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './chromium.mjs';

const argument = (name) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const only = argument('--only');
const CONCURRENCY = 3;
const STORY_TIMEOUT_MS = 15_000;
/** After the expected text shows, errors still arriving this soon count too. */
const SETTLE_MS = 300;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

/** Runs a command, keeping its output (printed only when it fails); resolves with its exit code. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Or Storybook reaches for the network (TOOLCHAIN.md).
      env: { ...process.env, STORYBOOK_DISABLE_TELEMETRY: '1' },
    });
    let output = '';
    child.stdout.on('data', (data) => (output += data));
    child.stderr.on('data', (data) => (output += data));
    child.on('close', (code) => {
      if (code !== 0) process.stdout.write(output);
      resolve(code ?? 1);
    });
  });
}

/** A plain static file server for `dir` on 127.0.0.1 (any port); resolves with its base URL. */
function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    // Browsers ask for it on their own; Storybook ships favicon.svg instead.
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    let file = join(dir, path);
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}` }),
    );
  });
}

/**
 * In the page: whether the text each root under `selector` names in `data-shows` is on the page,
 * shadow roots included (what a person would read).
 */
function showsAll(selector) {
  /* global document, Node */
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent);
    if (node.nodeName === 'STYLE' || node.nodeName === 'SCRIPT' || node.nodeName === 'TEMPLATE') return;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document.body);
  const text = parts.join(' ').replace(/\s+/g, ' ');
  return [...document.querySelectorAll(selector)].every((root) =>
    text.includes(root.getAttribute('data-shows')),
  );
}

/** Opens one index entry; resolves with the problems found (none: it passed). */
async function check(context, base, entry) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`HTTP ${response.status()} ${response.url()}`);
  });
  const problems = [];
  try {
    await page.goto(
      `${base}/iframe.html?id=${entry.id}&viewMode=${entry.type === 'docs' ? 'docs' : 'story'}`,
    );
    const roots = entry.type === 'docs' ? '.docs-story [data-shows]' : '#storybook-root[data-shows]';
    await page.waitForSelector(roots, { state: 'attached', timeout: STORY_TIMEOUT_MS });
    if (entry.type === 'docs') {
      // The stories' own texts, and a table made from the manifest (its categories).
      await page.waitForFunction(() => globalThis.document.body.innerText.includes('attributes'), null, {
        timeout: STORY_TIMEOUT_MS,
      });
    }
    await page.waitForFunction(showsAll, roots, { timeout: STORY_TIMEOUT_MS }).catch(async () => {
      const missing = await page.$$eval(roots, (elements) =>
        elements.map((e) => e.getAttribute('data-shows')),
      );
      problems.push(`never showed ${JSON.stringify(missing)}`);
    });
    await page.waitForTimeout(SETTLE_MS);
    const allowed = await page.$$eval('[data-console-errors]', (elements) =>
      elements.flatMap((e) => JSON.parse(e.getAttribute('data-console-errors') ?? '[]')),
    );
    for (const error of errors) {
      if (!allowed.some((text) => error.includes(text))) problems.push(`console error: ${error}`);
    }
  } catch (error) {
    problems.push(error.message.split('\n')[0]);
  } finally {
    await page.close();
  }
  return problems;
}

const started = Date.now();
let dir = argument('--static-dir');
let temporary;
if (!dir) {
  temporary = dir = mkdtempSync(join(tmpdir(), 'storybook-static-'));
  console.log(`Building the static Storybook into ${dir}`);
  const code = await run('npm', ['run', '--silent', 'build-storybook', '--', '--output-dir', dir]);
  if (code !== 0) {
    console.log('Storybook: 0 passed, 1 failed (the build failed)');
    process.exit(1);
  }
}
const built = Date.now();

const { server, url } = await serve(dir);
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: CHROMIUM_FLAGS,
});
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
const entries = Object.values(index.entries).filter((entry) => !only || entry.id.includes(only));
// One browser context, so msw's worker registers once and every page after the first starts at once.
const context = await browser.newContext();
let passed = 0;
let failed = 0;
const queue = [...entries];
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    for (let entry = queue.shift(); entry; entry = queue.shift()) {
      const t0 = Date.now();
      const problems = await check(context, url, entry);
      if (process.env.SB_TIMING) console.log(`    ${Date.now() - t0} ms`);
      if (problems.length === 0) {
        passed++;
        console.log(`  ✔ ${entry.type} ${entry.id}`);
      } else {
        failed++;
        console.log(`  ✘ ${entry.type} ${entry.id}\n      ${problems.join('\n      ')}`);
      }
    }
  }),
);
await browser.close();
server.close();
if (temporary) rmSync(temporary, { recursive: true, force: true });

const seconds = (ms) => (ms / 1000).toFixed(1);
console.log(
  `\n${entries.length} entries (${entries.filter((e) => e.type === 'story').length} stories, ` +
    `${entries.filter((e) => e.type === 'docs').length} docs pages): build ${seconds(built - started)} s, ` +
    `check ${seconds(Date.now() - built)} s`,
);
console.log(`Storybook: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
