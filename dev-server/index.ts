/**
 * The dev server's public API, the package's `./dev-server` entry (Node only): start a server in
 * code, validate a config, plug audit hooks in. The CLI (`catalyst-dev-server`) is the same server.
 */
export { createDevServer, type DevServer, type DevServerOptions } from './node/server.js';
export { DataFileError } from './node/data-file.js';
export { NatsAuditUrlError } from './node/nats-audit-url.js';
export {
  ConfigError,
  DevServerConfigSchema,
  resolveConfig,
  type ConfigProblem,
  type DevServerConfig,
  type KeyConfig,
} from './engine/config.js';
export { DEMO_KEYS, demoConfig } from './engine/demo-data.js';
export type { AuditHook } from './engine/audit-trail.js';
