/**
 * protocol/README.md's limits tables are generated (scripts/limits-table.ts) from the protocol
 * module's limits, defaults and doc comments: they must be what the generator writes now.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LIMIT_DEFAULTS } from '../../protocol/index.js';
import { replaceRegion } from '../../scripts/element-docs/readme-region.js';
import { limitsMarkdown } from '../../scripts/limits-table.js';
import { REPO_ROOT } from '../support/cli-process.js';

describe('the limits tables of protocol/README.md', () => {
  it('are up to date (run `npm run docs` after changing a limit)', async () => {
    const readme = await readFile(join(REPO_ROOT, 'protocol', 'README.md'), 'utf8');
    const markdown = await limitsMarkdown();
    assert.equal(replaceRegion(readme, markdown, 'protocol/README.md', 'limits'), readme);
  });

  it('list every limit with its default', async () => {
    const markdown = await limitsMarkdown();
    for (const [name, value] of Object.entries(LIMIT_DEFAULTS)) {
      assert.match(markdown, new RegExp(`\\| \`${name}\` \\| ${value.toLocaleString('en-US')} \\| \\S`));
    }
  });
});
