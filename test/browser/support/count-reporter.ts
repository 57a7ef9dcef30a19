/**
 * A web-test-runner reporter that ends the run with one line a script can read:
 * `Browser tests: N passed, N failed, N skipped (F test files)`. wtr's own counts sit inside a
 * progress bar among terminal escapes, and leave out a file that failed to load.
 *
 * A test file that fails without a failing test — it did not load, an error escaped the tests,
 * the browser timed out — counts as one failed test, so such a run can never read as green.
 */
import type { Reporter, TestSession, TestSuiteResult } from '@web/test-runner-core';

/** The prefix `scripts/test.mjs` looks for. */
export const COUNT_LINE_PREFIX = 'Browser tests:';

type Counts = { passed: number; failed: number; skipped: number };

function countSuite(suite: TestSuiteResult | undefined, counts: Counts): void {
  for (const test of suite?.tests ?? []) {
    if (test.skipped) counts.skipped++;
    else if (test.passed) counts.passed++;
    else counts.failed++;
  }
  for (const child of suite?.suites ?? []) countSuite(child, counts);
}

/** Counts of every test of the last run, failures of whole files included. */
export function countTests(sessions: readonly TestSession[]): Counts {
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const session of sessions) {
    const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
    countSuite(session.testResults, counts);
    if (!session.passed && counts.failed === 0) counts.failed = 1;
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  return total;
}

/** The reporter; add it after wtr's `defaultReporter()`. */
export function countReporter(): Reporter {
  let last: { counts: Counts; files: number } | undefined;
  return {
    onTestRunFinished({ sessions }) {
      last = { counts: countTests(sessions), files: new Set(sessions.map((s) => s.testFile)).size };
    },
    stop() {
      if (!last) return;
      const { counts, files } = last;
      console.log(
        `${COUNT_LINE_PREFIX} ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped ` +
          `(${files} test file${files === 1 ? '' : 's'})`,
      );
    },
  };
}
