/**
 * The in-browser mock (the package's `./mock` entry): msw handlers that run the dev server's
 * engine in the page, and a control API for stories and tests. See `create-mock.ts`.
 */
export { createMock, type Mock, type MockOptions } from './create-mock.js';
export { MOCK_URL } from './mock-base-url.js';
export { MockControl, type MockTarget, type TrafficOptions } from './mock-control.js';
export type { FaultState } from './mock-faults.js';
export { ConfigError, type DevServerConfig } from '../dev-server/engine/config.js';
export { DEMO_KEYS, demoConfig } from '../dev-server/engine/demo-data.js';
