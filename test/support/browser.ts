/**
 * Debian's Chromium through playwright-core, launched as every browser tool here launches it
 * (scripts/chromium.mjs: never a downloaded browser), and the script-tag build the pages load
 * (dist/, from `npx vite build`; nothing here builds it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CliProcess, REPO_ROOT } from './cli-process.js';

/** scripts/chromium.mjs is plain JavaScript: its exports, typed here. */
type ChromiumSettings = { CHROMIUM_PATH: string; CHROMIUM_FLAGS: string[] };

/** The directory the CLI serves the script-tag builds from (`--static dist`). */
export const DIST = join(REPO_ROOT, 'dist');

/** Headless Chromium; fails at once, saying how to fix it, when the build is missing. */
export async function launchChromium(): Promise<Browser> {
  for (const file of ['catalyst-elements.js', 'catalyst-elements.iife.js']) {
    assert.ok(existsSync(join(DIST, file)), `dist/${file} is missing: build it first (npx vite build)`);
  }
  const { CHROMIUM_PATH, CHROMIUM_FLAGS } = (await import(
    new URL('../../scripts/chromium.mjs', import.meta.url).href
  )) as ChromiumSettings;
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
}

/**
 * A new context whose pages can run functions passed to `page.evaluate` from this TypeScript:
 * tsx compiles with esbuild's `keepNames`, which wraps each named inner function in a `__name`
 * helper that exists in Node only; the context gets a `__name` that leaves its function as it is.
 */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.addInitScript('globalThis.__name = (target) => target;');
  return context;
}

/**
 * Collects a page's uncaught errors into `problems`, and its console errors too unless
 * `console` is false (a page whose server is killed on purpose logs every failed connection).
 */
export function watchProblems(page: Page, problems: string[], label: string, console = true): void {
  page.on('pageerror', (error) => problems.push(`${label}: uncaught ${error.message}`));
  if (!console) return;
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${label}: console error: ${message.text()}`);
  });
}

/** Waits until `check` holds for what `read` gives, polling; fails with `message` and the last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  message: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${message}; last seen: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The real dev server CLI serving the demo page and the script-tag build, as `npm start` does
 * (`--static demo --static dist`), on a random port, flushing every 20 ms.
 */
export function serveDemo(): Promise<CliProcess & { url: string }> {
  return CliProcess.start(['--port', '0', '--flush-ms', '20', '--static', 'demo', '--static', 'dist']);
}

/** One item of the demo page's `<live-record-list>` as a visitor reads it. */
export type DemoListRow = { id: string; title: string; total: string };

/** The items the demo page's list shows, in order, with the text a visitor reads. */
export function demoListItems(page: Page): Promise<DemoListRow[]> {
  return page.evaluate(() => {
    const items = document.querySelector('live-record-list')?.shadowRoot?.querySelectorAll('[part~="item"]');
    return [...(items ?? [])].map((item) => ({
      id: (item as HTMLElement).dataset.id ?? '',
      title: item.querySelector('[data-field="title"]')?.textContent ?? '',
      total: item.querySelector('[data-field="total"]')?.textContent ?? '',
    }));
  });
}
