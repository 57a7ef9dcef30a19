#!/usr/bin/env node
/**
 * The limits tables of protocol/README.md (between `<!-- limits:start -->` and
 * `<!-- limits:end -->`), generated from the protocol module so they cannot drift: each
 * configurable limit of `LimitsSchema` with its default (`LIMIT_DEFAULTS`) and its doc comment,
 * then the fixed bounds of `PROTOCOL_BOUNDS` and `SERVER_BOUNDS` with theirs. The comments are
 * read from the source with the TypeScript compiler.
 *
 * Usage: node --import tsx scripts/limits-table.ts [--check]   (--check writes nothing and exits
 * 1 when the tables are out of date)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { LIMIT_DEFAULTS, PROTOCOL_BOUNDS, SERVER_BOUNDS } from '../protocol/limits.js';
import { DocsError } from './element-docs/docs-error.js';
import { replaceRegion } from './element-docs/readme-region.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const README = join(ROOT, 'protocol', 'README.md');

/** The doc comment of every property of the object literal assigned to `name` in a source file. */
function propertyComments(source: string, fileName: string, name: string): Map<string, string> {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  const comments = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText() === name && node.initializer) {
      const literal = findObjectLiteral(node.initializer);
      for (const property of literal?.properties ?? []) {
        const docs = ts.getJSDocCommentsAndTags(property).filter(ts.isJSDoc);
        const text = docs.map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join(' ');
        comments.set(property.name?.getText() ?? '', text.replace(/\s+/g, ' ').trim());
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (comments.size === 0) throw new DocsError(`${fileName}: no object literal assigned to ${name}`);
  return comments;
}

function findObjectLiteral(node: ts.Node): ts.ObjectLiteralExpression | undefined {
  if (ts.isObjectLiteralExpression(node)) return node;
  let found: ts.ObjectLiteralExpression | undefined;
  ts.forEachChild(node, (child) => {
    found ??= findObjectLiteral(child);
  });
  return found;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');
const number = (n: number) => n.toLocaleString('en-US');

function table(
  title: string,
  values: Readonly<Record<string, number>>,
  comments: Map<string, string>,
  where: string,
): string {
  const rows = Object.entries(values).map(([name, value]) => {
    const comment = comments.get(name);
    if (!comment) throw new DocsError(`${where}: ${name} has no doc comment; write one`);
    return `| \`${name}\` | ${number(value)} | ${cell(comment)} |`;
  });
  return [`| ${title} | default | what it bounds |`, '|---|---|---|', ...rows].join('\n');
}

/** The Markdown of the limits region. */
export async function limitsMarkdown(): Promise<string> {
  const schema = await readFile(join(ROOT, 'protocol', 'limits-schema.ts'), 'utf8');
  const limits = await readFile(join(ROOT, 'protocol', 'limits.ts'), 'utf8');
  return [
    '<!-- Generated from protocol/limits-schema.ts and protocol/limits.ts by scripts/limits-table.ts: edit the doc comments there, then `npm run docs`. -->',
    '',
    "Configurable (a config file's `limits`, `createDevServer({limits})`; durations in ms, sizes in bytes):",
    '',
    table(
      'limit',
      LIMIT_DEFAULTS,
      propertyComments(schema, 'limits-schema.ts', 'LimitsSchema'),
      'LimitsSchema',
    ),
    '',
    'Fixed, part of the contract (`PROTOCOL_BOUNDS`) or of the server (`SERVER_BOUNDS`):',
    '',
    table(
      'bound',
      { ...PROTOCOL_BOUNDS, ...SERVER_BOUNDS },
      new Map([
        ...propertyComments(limits, 'limits.ts', 'PROTOCOL_BOUNDS'),
        ...propertyComments(limits, 'limits.ts', 'SERVER_BOUNDS'),
      ]),
      'PROTOCOL_BOUNDS / SERVER_BOUNDS',
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const readme = await readFile(README, 'utf8');
  const updated = replaceRegion(readme, await limitsMarkdown(), 'protocol/README.md', 'limits');
  if (updated === readme) {
    console.log('protocol/README.md: the limits tables are up to date');
    return;
  }
  if (check) {
    throw new DocsError(
      'protocol/README.md: the limits tables are out of date: run `npm run docs` and commit the result',
    );
  }
  await writeFile(README, updated);
  console.log('wrote the limits tables in protocol/README.md');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(
      `limits-table: ${error instanceof DocsError ? error.message : String((error as Error).stack)}`,
    );
    process.exitCode = 1;
  });
}
