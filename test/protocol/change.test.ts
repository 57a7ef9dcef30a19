import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHANGES, classifyChange, type Change } from '../../protocol/change.js';

/** PROTOCOL.md section 4, `batch`: before matched `where`, after matches, change. */
const TABLE: [description: string, matchedBefore: boolean, matchedAfter: boolean, change: Change | null][] = [
  ['adds a record that enters the result set (or is created matching)', false, true, 'added'],
  ['modifies a record that stays in the result set', true, true, 'modified'],
  ['removes a record that leaves the result set (or is deleted)', true, false, 'removed'],
  ['does not deliver a write to a record that never matched', false, false, null],
];

describe('classifyChange', () => {
  for (const [description, matchedBefore, matchedAfter, change] of TABLE) {
    it(description, () => assert.equal(classifyChange(matchedBefore, matchedAfter), change));
  }

  it('classifies a create as added when it matches, with matchedBefore false', () => {
    assert.equal(classifyChange(false, true), 'added');
  });

  it('classifies a delete as removed when it matched, with matchedAfter false', () => {
    assert.equal(classifyChange(true, false), 'removed');
  });

  it('names the three changes', () => {
    assert.deepEqual([...CHANGES], ['added', 'modified', 'removed']);
  });
});
