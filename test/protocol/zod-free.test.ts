import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The modules the browser loads without zod (issue 5: the script-tag bundle ships none). */
const ZOD_FREE = [
  'where.ts',
  'sort.ts',
  'projection.ts',
  'limits.ts',
  'json.ts',
  'channel.ts',
  'codes.ts',
  'change.ts',
  'operations.ts',
  'paths.ts',
  'issues.ts',
  'json-schema-check.ts',
  'read-server-message.ts',
  'generated/json-schemas.ts',
];

/** What a module imports at run time: `import`/`export … from` that are not `import type`. */
function runtimeImports(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/^(?:import|export)\s+(type\s)?[^;]*?from\s+'([^']+)'/gm)) {
    if (!match[1]) specifiers.push(match[2] as string);
  }
  for (const match of source.matchAll(/^import\s+'([^']+)'/gm)) specifiers.push(match[1] as string);
  return specifiers;
}

/** Every module `file` loads at run time, itself included, as paths from the repository root. */
function closure(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const imports = runtimeImports(readFileSync(join(ROOT, file), 'utf8'));
  seen.set(file, imports);
  for (const specifier of imports) {
    if (specifier.startsWith('.'))
      closure(relative(ROOT, join(ROOT, dirname(file), specifier.replace(/\.js$/, '.ts'))), seen);
  }
  return seen;
}

describe('the zod-free protocol modules', () => {
  for (const module of ZOD_FREE) {
    it(`protocol/${module} loads no zod at run time`, () => {
      const offenders = [...closure(join('protocol', module))]
        .filter(([, imports]) => imports.some((s) => !s.startsWith('.')))
        .map(([file, imports]) => `${file} imports ${imports.filter((s) => !s.startsWith('.')).join(', ')}`);
      assert.deepEqual(offenders, []);
    });
  }

  it('sees a runtime import of zod, and not a type import', () => {
    assert.deepEqual(runtimeImports("import * as z from 'zod/mini';\nimport type { X } from 'zod';"), [
      'zod/mini',
    ]);
    assert.deepEqual(runtimeImports("import {\n  a,\n  type B,\n} from './b.js';"), ['./b.js']);
  });
});
