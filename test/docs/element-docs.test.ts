/**
 * The element docs (scripts/element-docs.ts) from a fresh custom elements manifest: the editors'
 * custom data, the README's reference and its `--check`. The analyzer and the generator run as
 * their npm scripts do, but write into a temporary directory; README.md is only ever read.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { missingDescriptions, readElements } from '../../scripts/element-docs/manifest.js';
import { REPO_ROOT } from '../support/cli-process.js';

const README = join(REPO_ROOT, 'README.md');
const TAGS = ['live-connection', 'live-presence', 'live-record', 'live-record-list', 'live-status'];

type Run = { code: number; stdout: string; stderr: string };

/** Runs `node args…` in the repository root to its exit. */
async function node(args: readonly string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...args], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let dir: string;
let manifest: string;
let readmeBefore: string;

/** Runs the generator on the fresh manifest, writing into the temporary directory. */
function docs(...args: string[]): Promise<Run> {
  return node([
    '--import',
    'tsx',
    'scripts/element-docs.ts',
    '--manifest',
    manifest,
    '--out-dir',
    join(dir, 'dist'),
    ...args,
  ]);
}

/** A file in the temporary directory, written with `text`. */
async function tempFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The text between the reference's markers. */
function region(readme: string): string {
  return readme.slice(
    readme.indexOf('<!-- element-reference:start -->'),
    readme.indexOf('<!-- element-reference:end -->'),
  );
}

async function json(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

before(async () => {
  readmeBefore = await readFile(README, 'utf8');
  dir = await mkdtemp(join(tmpdir(), 'element-docs-'));
  // The analyzer joins --outdir to its working directory, so the temporary directory goes in relative.
  const analyzer = join(REPO_ROOT, 'node_modules', '.bin', 'cem');
  const analyzed = await node([analyzer, 'analyze', '--litelement', '--outdir', relative(REPO_ROOT, dir)]);
  assert.equal(analyzed.code, 0, analyzed.stderr);
  manifest = join(dir, 'custom-elements.json');
  const generated = await docs('--readme', await tempFile('README.md', readmeBefore));
  assert.equal(generated.code, 0, generated.stderr);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  assert.equal(await readFile(README, 'utf8'), readmeBefore, 'the tests changed README.md');
});

describe('the manifest', () => {
  it('describes every attribute, property, event, slot, part and custom property of the four elements', async () => {
    const elements = readElements(await readFile(manifest, 'utf8'));
    assert.deepEqual(
      elements.map((element) => element.tagName),
      TAGS,
    );
    assert.deepEqual(missingDescriptions(elements), []);
    const byTag = new Map(elements.map((element) => [element.tagName, element]));
    for (const tag of ['live-record-list', 'live-record']) {
      const element = byTag.get(tag);
      const names = (items: readonly { name: string }[] | undefined) => items?.map((item) => item.name);
      assert.deepEqual(names(element?.events), ['live-change', 'live-status', 'live-error'], tag);
      for (const slot of ['loading', 'empty', 'error'])
        assert.ok(names(element?.slots)?.includes(slot), `${tag} slot ${slot}`);
      for (const part of ['base', 'loading', 'empty', 'error', 'error-message', 'announcer']) {
        assert.ok(names(element?.cssParts)?.includes(part), `${tag} part ${part}`);
      }
      assert.ok(
        names(element?.cssProperties)?.includes('--live-highlight-color'),
        `${tag} --live-highlight-color`,
      );
    }
  });
});

describe('VS Code custom data', () => {
  type Attribute = {
    name: string;
    description: { value: string };
    values?: { name: string }[];
    valueSet?: string;
  };
  type Data = {
    version: number;
    tags: { name: string; description: { value: string }; attributes: Attribute[] }[];
  };

  it('has every element with its attributes, each described, and the values of enumerated ones', async () => {
    const data = (await json(join(dir, 'dist', 'vscode.html-custom-data.json'))) as Data;
    assert.equal(data.version, 1.1);
    assert.deepEqual(
      data.tags.map((tag) => tag.name),
      TAGS,
    );
    const attributes = (tag: string) => data.tags.find((t) => t.name === tag)?.attributes ?? [];
    const attribute = (tag: string, name: string) => attributes(tag).find((a) => a.name === name);
    for (const name of [
      'object',
      'where',
      'sort',
      'fields',
      'limit',
      'operations',
      'url',
      'api-key',
      'announce',
    ]) {
      assert.ok(attribute('live-record-list', name), `live-record-list ${name}`);
    }
    assert.deepEqual(
      attributes('live-connection').map((a) => a.name),
      ['url', 'api-key', 'transport', 'share'],
    );
    assert.deepEqual(attribute('live-connection', 'share')?.values, [{ name: 'tabs' }, { name: 'none' }]);
    assert.deepEqual(attribute('live-connection', 'transport')?.values, [
      { name: 'auto' },
      { name: 'websocket' },
      { name: 'sse' },
    ]);
    assert.deepEqual(attribute('live-record-list', 'operations')?.values, [
      { name: 'create' },
      { name: 'update' },
      { name: 'delete' },
    ]);
    assert.equal(attribute('live-record', 'announce')?.valueSet, 'v', 'a boolean attribute takes no value');
    assert.equal(attribute('live-record', 'record-id')?.values, undefined);
    assert.match(
      attribute('live-record-list', 'limit')?.description.value ?? '',
      /^Most records shown, 1 to 1000/,
    );
    for (const tag of data.tags) {
      assert.match(tag.description.value, /\S/, tag.name);
      for (const a of tag.attributes) assert.match(a.description.value, /\S/, `${tag.name} ${a.name}`);
    }
  });
});

describe('web-types', () => {
  type Item = { name: string; description?: string };
  type Element = Item & {
    attributes: (Item & { value: { type: string }; values?: Item[] })[];
    slots: Item[];
    js: { properties: Item[]; events: Item[] };
    css: { parts: Item[]; properties: Item[] };
  };
  type WebTypes = {
    $schema: string;
    name: string;
    version: string;
    contributions: { html: { elements: Element[] } };
  };

  it('names the package and has every element with its attributes, events, slots, parts and custom properties', async () => {
    const pkg = (await json(join(REPO_ROOT, 'package.json'))) as { name: string; version: string };
    const data = (await json(join(dir, 'dist', 'web-types.json'))) as WebTypes;
    assert.equal(data.$schema, 'https://json.schemastore.org/web-types');
    assert.equal(data.name, pkg.name);
    assert.equal(data.version, pkg.version);
    const elements = data.contributions.html.elements;
    assert.deepEqual(
      elements.map((element) => element.name),
      TAGS,
    );
    const list = elements.find((element) => element.name === 'live-record-list');
    const names = (items: readonly Item[] | undefined) => items?.map((item) => item.name) ?? [];
    for (const name of ['where', 'sort', 'limit']) assert.ok(names(list?.attributes).includes(name), name);
    assert.deepEqual(names(list?.js.events), ['live-change', 'live-status', 'live-error']);
    assert.deepEqual(names(list?.slots), ['loading', 'empty', 'error']);
    assert.ok(names(list?.js.properties).includes('renderItem'));
    assert.ok(names(list?.css.parts).includes('item'));
    assert.ok(names(list?.css.properties).includes('--live-gap'));
    const transport = elements[0]?.attributes.find((a) => a.name === 'transport');
    assert.deepEqual(transport?.value.type, 'enum');
    assert.deepEqual(names(transport?.values), ['auto', 'websocket', 'sse']);
    for (const element of elements) {
      const all = [
        element,
        ...element.attributes,
        ...element.slots,
        ...element.js.properties,
        ...element.js.events,
        ...element.css.parts,
        ...element.css.properties,
      ];
      for (const item of all) assert.match(item.description ?? '', /\S/, `${element.name} ${item.name}`);
    }
  });
});

describe('the README reference', () => {
  it('is up to date in README.md', async () => {
    const checked = await docs('--check', '--readme', README);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /up to date/);
  });

  it('has a table row for each attribute, with type, default and description', async () => {
    const readme = await readFile(README, 'utf8');
    assert.match(readme, /^### `<live-record-list>`$/m);
    assert.match(readme, /^\| `highlight` \| `highlight` \| `number` \| `1500` \| How long a changed item/m);
    assert.match(
      readme,
      /^\| `operations` \| `operations` \| `\('create' \\\| 'update' \\\| 'delete'\)\[\]` \|/m,
    );
  });

  it('fails --check, naming the fix, when the reference is stale, and changes nothing', async () => {
    const stale = readmeBefore.replace(/^\| `limit` .*\n/m, '');
    assert.notEqual(stale, readmeBefore);
    const path = await tempFile('stale.md', stale);
    const checked = await docs('--check', '--readme', path);
    assert.equal(checked.code, 1);
    assert.match(checked.stderr, /stale\.md: the element reference is out of date .*npm run docs/);
    assert.equal(await readFile(path, 'utf8'), stale);
  });

  it('rewrites only the text between the markers', async () => {
    const before = '# Title\n\nBefore.\n<!-- element-reference:start -->';
    const after = '<!-- element-reference:end -->\nAfter.\n';
    const path = await tempFile('partial.md', `${before}\nold | table\n${after}`);
    const generated = await docs('--readme', path);
    assert.equal(generated.code, 0, generated.stderr);
    const written = await readFile(path, 'utf8');
    assert.ok(written.startsWith(`${before}\n`), written);
    assert.ok(written.endsWith(`\n${after}`), written);
    assert.equal(region(written), region(readmeBefore));
  });

  it('refuses a README without the markers', async () => {
    const path = await tempFile('unmarked.md', '# Title\n');
    const generated = await docs('--readme', path);
    assert.equal(generated.code, 1);
    assert.match(generated.stderr, /unmarked\.md has no <!-- element-reference:start --> marker/);
    assert.equal(await readFile(path, 'utf8'), '# Title\n');
  });
});

describe('an incomplete manifest', () => {
  it('is refused with the element and attribute that lack a description, and nothing is written', async () => {
    type Manifest = {
      modules: {
        declarations?: { tagName?: string; attributes?: { name: string; description?: string }[] }[];
      }[];
    };
    const incomplete = (await json(manifest)) as Manifest;
    const list = incomplete.modules
      .flatMap((m) => m.declarations ?? [])
      .find((d) => d.tagName === 'live-record-list');
    const where = list?.attributes?.find((a) => a.name === 'where');
    assert.ok(where);
    delete where.description;
    const readme = await tempFile('untouched.md', readmeBefore);
    const out = join(dir, 'incomplete-dist');
    const generated = await node([
      '--import',
      'tsx',
      'scripts/element-docs.ts',
      '--manifest',
      await tempFile('incomplete.json', JSON.stringify(incomplete)),
      '--readme',
      readme,
      '--out-dir',
      out,
    ]);
    assert.equal(generated.code, 1);
    assert.match(generated.stderr, /needs a description/);
    assert.match(generated.stderr, /live-record-list: attribute where has no description/);
    await assert.rejects(readFile(join(out, 'web-types.json')), { code: 'ENOENT' });
    assert.equal(await readFile(readme, 'utf8'), readmeBefore);
  });
});
