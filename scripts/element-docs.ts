#!/usr/bin/env node
/**
 * The element docs, generated from custom-elements.json (`npm run manifest` writes it from the
 * elements' JSDoc), so no table is written twice:
 *
 * - `dist/vscode.html-custom-data.json`: VS Code's HTML custom data;
 * - `dist/web-types.json`: JetBrains web-types (package name and version from package.json);
 * - README.md's element reference, between `<!-- element-reference:start -->` and
 *   `<!-- element-reference:end -->` (nothing outside the markers is touched).
 *
 * It refuses a manifest in which an attribute, property, event, slot, part or CSS custom
 * property has no description. With `--check` it writes nothing and exits 1 when README.md's
 * reference is not what it would write (CI).
 *
 * Usage: node --import tsx scripts/element-docs.ts [--check] [--manifest custom-elements.json]
 *   [--readme README.md] [--out-dir dist] [--package package.json]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { DocsError } from './element-docs/docs-error.js';
import { missingDescriptions, readElements } from './element-docs/manifest.js';
import { replaceRegion } from './element-docs/readme-region.js';
import { referenceMarkdown } from './element-docs/reference-markdown.js';
import { vscodeCustomData } from './element-docs/vscode-custom-data.js';
import { webTypes } from './element-docs/web-types.js';

/** The files the generator writes into `--out-dir`. */
const OUTPUT_FILES = { vscode: 'vscode.html-custom-data.json', webTypes: 'web-types.json' } as const;

const PackageSchema = z.looseObject({ name: z.string(), version: z.string() });

async function readText(path: string, hint: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DocsError(`${path} not found: ${hint}`);
    throw error;
  }
}

/** The first line on which two texts differ (1-based), for the `--check` message. */
function firstDifferentLine(a: string, b: string): number {
  const left = a.split('\n');
  const right = b.split('\n');
  const index = left.findIndex((line, i) => line !== right[i]);
  return (index === -1 ? left.length : index) + 1;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      manifest: { type: 'string', default: 'custom-elements.json' },
      readme: { type: 'string', default: 'README.md' },
      'out-dir': { type: 'string', default: 'dist' },
      package: { type: 'string', default: 'package.json' },
    },
  });

  const elements = readElements(
    await readText(values.manifest, 'run `npm run manifest` first'),
    values.manifest,
  );
  const missing = missingDescriptions(elements);
  if (missing.length > 0) {
    throw new DocsError(
      `every part of an element's API needs a description (a JSDoc comment on the property, or the text after \`-\` in the class's @fires, @slot, @csspart, @cssprop):\n  ${missing.join('\n  ')}`,
    );
  }

  const readme = await readText(
    values.readme,
    'pass --readme with the file that holds the element reference',
  );
  const updated = replaceRegion(readme, referenceMarkdown(elements), values.readme);

  if (values.check) {
    if (updated !== readme) {
      throw new DocsError(
        `${values.readme}: the element reference is out of date (first difference on line ${firstDifferentLine(readme, updated)}): run \`npm run docs\` and commit the result`,
      );
    }
    console.log(`${values.readme}: the element reference is up to date`);
    return;
  }

  const pkg = PackageSchema.safeParse(
    JSON.parse(await readText(values.package, 'run from the repository root')),
  );
  if (!pkg.success) throw new DocsError(`${values.package} has no string "name" and "version"`);
  const outputs = {
    [OUTPUT_FILES.vscode]: vscodeCustomData(elements),
    [OUTPUT_FILES.webTypes]: webTypes(elements, pkg.data),
  };
  await mkdir(values['out-dir'], { recursive: true });
  for (const [file, content] of Object.entries(outputs)) {
    const path = join(values['out-dir'], file);
    await writeFile(path, `${JSON.stringify(content, null, 2)}\n`);
    console.log(`wrote ${path}`);
  }
  if (updated !== readme) {
    await writeFile(values.readme, updated);
    console.log(`wrote the element reference in ${values.readme}`);
  } else {
    console.log(`${values.readme}: the element reference was already up to date`);
  }
}

main().catch((error: unknown) => {
  const known = error instanceof DocsError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(
    `element-docs: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`,
  );
  process.exitCode = 1;
});
