// The script-tag bundle (built by `vite build` before this suite runs) against issue 5's budget,
// and the README's figure against the bundle.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BUNDLE_BUDGET_BYTES, BUNDLE_PATH, kB, measure, readmeFigure } from '../../scripts/bundle-size.js';

describe('the script-tag bundle', () => {
  it(`is at most ${kB(BUNDLE_BUDGET_BYTES)} minified and gzipped`, () => {
    const { gzipped } = measure();
    assert.ok(
      gzipped <= BUNDLE_BUDGET_BYTES,
      `${kB(gzipped)} is over the budget of ${kB(BUNDLE_BUDGET_BYTES)}`,
    );
  });

  it('is quoted exactly in the README', () => {
    assert.equal(readmeFigure(), kB(measure().gzipped), 'update it with: npm run size -- --write');
  });

  it('holds one copy of Lit and no zod (the browser checks frames with generated JSON Schema)', () => {
    const code = readFileSync(BUNDLE_PATH, 'utf8');
    assert.equal(code.match(/litHtmlVersions/g)?.length, 1, 'lit-html must be bundled exactly once');
    assert.equal(
      code.match(/reactiveElementVersions/g)?.length,
      1,
      'ReactiveElement must be bundled exactly once',
    );
    assert.doesNotMatch(code, /\$ZodType|_zod\b/, 'zod found in the browser bundle');
  });
});
