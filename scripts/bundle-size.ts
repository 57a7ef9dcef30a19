/**
 * The script-tag bundle's size, its budget, and the figure the README quotes.
 *
 * `node --import tsx scripts/bundle-size.ts` prints the size; `--check` fails when the README's
 * figure is not the current one, `--write` puts the current one there. The README holds it as
 * `<!-- bundle-size -->24.1 kB<!-- /bundle-size -->` (kB = 1000 bytes, gzip level 9).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The ES module build a page loads with `<script type="module" src=…>`. */
export const BUNDLE_PATH = fileURLToPath(new URL('../dist/catalyst-elements.js', import.meta.url));

/** Issue 5's budget for that bundle, minified and gzipped, in bytes. */
export const BUNDLE_BUDGET_BYTES = 25_000;

const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));
const MARK = /<!-- bundle-size -->([^<]*)<!-- \/bundle-size -->/;

/** Minified and gzipped bytes of a built file. */
export function measure(path = BUNDLE_PATH): { minified: number; gzipped: number } {
  const code = readFileSync(path);
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

/** Bytes as the README writes them: `24.1 kB`. */
export function kB(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

/** The figure the README quotes now, or `undefined` when it has no mark. */
export function readmeFigure(readme = readFileSync(README_PATH, 'utf8')): string | undefined {
  return MARK.exec(readme)?.[1];
}

function main(args: string[]): number {
  const { minified, gzipped } = measure();
  const figure = kB(gzipped);
  console.log(
    `dist/catalyst-elements.js: ${kB(minified)} minified, ${figure} gzipped (budget ${kB(BUNDLE_BUDGET_BYTES)})`,
  );
  const readme = readFileSync(README_PATH, 'utf8');
  const quoted = readmeFigure(readme);
  if (quoted === undefined) {
    console.error('README.md has no <!-- bundle-size -->…<!-- /bundle-size --> mark');
    return 1;
  }
  if (args.includes('--write')) {
    writeFileSync(README_PATH, readme.replace(MARK, `<!-- bundle-size -->${figure}<!-- /bundle-size -->`));
  } else if (args.includes('--check') && quoted !== figure) {
    console.error(`README.md quotes ${quoted} but the bundle is ${figure}: run npm run size -- --write`);
    return 1;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
