// web-test-runner: the browser tests (test/browser/**/*.test.ts) in Debian's Chromium, against
// the real dev server that the catalyst-dev-server plugin starts for each test file
// (test/browser/support/dev-server.ts has the page-side API). `npm run test:browser`, or
// `npx web-test-runner [--files test/browser/x.test.ts] [--watch]` while working on a test.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter, summaryReporter } from '@web/test-runner';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { tsImport } from 'tsx/esm/api';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './scripts/chromium.mjs';

// The plugin and the reporter are TypeScript and start the TypeScript dev server: load them
// through tsx, scoped to these imports, so wtr itself runs on plain Node.
const { devServerPlugin } = await tsImport('./test/browser/support/dev-server-plugin.ts', import.meta.url);
const { countReporter } = await tsImport('./test/browser/support/count-reporter.ts', import.meta.url);

export default {
  files: 'test/browser/**/*.test.ts',
  nodeResolve: { exportConditions: ['browser', 'production'] }, // 'browser' is required for msw
  // Two cores: two test files at a time, each with its own dev server.
  concurrency: 2,
  testFramework: { config: { timeout: 10_000 } },
  plugins: [
    // No `target`: with one, esbuild re-prints every .js too, and the script-tag tests must run the built bytes.
    esbuildPlugin({ ts: true, tsconfig: './tsconfig.json' }),
    devServerPlugin(),
  ],
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_FLAGS,
      },
    }),
  ],
  // The default reporter's summary is a progress bar; list each test by name, and end with a
  // `Browser tests: N passed, N failed, N skipped` line for scripts/test.mjs.
  reporters: [
    defaultReporter(),
    summaryReporter({ reportTestLogs: false, reportTestErrors: false }),
    countReporter(),
  ],
};
