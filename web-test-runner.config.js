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

/**
 * The `sse` group runs the element tests again on a network that refuses WebSocket upgrades to
 * the API (as some proxies do): every socket to it fails, and the elements must fall back to
 * Server-Sent Events on their own (`transport` `auto`) and behave the same. Tests about
 * WebSocket frames themselves say so with `onWebSocketOnly` (test/browser/support/elements.ts).
 */
const blockedWebSocketHtml = (testFramework) => `<!doctype html>
<html>
  <head>
    <script>
      globalThis.catalystTestNetwork = 'websocket-blocked';
      const RealWebSocket = globalThis.WebSocket;
      globalThis.WebSocket = class BlockedWebSocket extends RealWebSocket {
        constructor(url, protocols) {
          if (String(url).includes('/ws/events/')) {
            throw new DOMException('WebSocket upgrades are refused on this network', 'SecurityError');
          }
          super(url, protocols);
        }
      };
    </script>
  </head>
  <body>
    <script type="module" src="${testFramework}"></script>
  </body>
</html>`;

export default {
  files: 'test/browser/**/*.test.ts',
  groups: [
    {
      name: 'sse',
      files: [
        'test/browser/live-record-list.test.ts',
        'test/browser/live-record-list-virtual.test.ts',
        'test/browser/live-record.test.ts',
        'test/browser/live-status.test.ts',
        'test/browser/safety.test.ts',
        'test/browser/resilience.test.ts',
        'test/browser/live-presence.test.ts',
        'test/browser/background-tab.test.ts',
      ],
      testRunnerHtml: blockedWebSocketHtml,
    },
  ],
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
