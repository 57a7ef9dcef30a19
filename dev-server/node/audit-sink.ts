/**
 * Where `--audit` sends the audit records (PROTOCOL.md sections 8 and 11): a value starting with
 * `nats://` goes to NATS (`nats-audit.ts`); anything else is a file the records are appended to
 * as JSON lines, `-` being standard output.
 */
import { createWriteStream } from 'node:fs';
import type { AuditRecord } from '../../protocol/index.js';
import { NatsAuditSink, type NatsAuditOptions } from './nats-audit.js';
import { isNatsAuditTarget, parseNatsAuditUrl, type NatsAuditTarget } from './nats-audit-url.js';

/** An `--audit` value, read. */
export type AuditTarget =
  { kind: 'nats'; nats: NatsAuditTarget } | { kind: 'file'; path: string } | { kind: 'stdout' };

/** Takes every audit record; `close()` sends or writes what waits, then lets go. */
export type AuditSink = {
  write(record: AuditRecord): void;
  close(): Promise<void>;
};

/** Reads an `--audit` value. Throws `NatsAuditUrlError` for a `nats://` value that is no server address. */
export function parseAuditTarget(value: string): AuditTarget {
  if (isNatsAuditTarget(value)) return { kind: 'nats', nats: parseNatsAuditUrl(value) };
  return value === '-' ? { kind: 'stdout' } : { kind: 'file', path: value };
}

/** Opens the sink of a target; never waits for NATS. */
export function openAuditSink(target: AuditTarget, natsOptions: NatsAuditOptions = {}): AuditSink {
  if (target.kind === 'nats') return NatsAuditSink.open(target.nats, natsOptions);
  if (target.kind === 'stdout') {
    return {
      write: (record) => process.stdout.write(`${JSON.stringify(record)}\n`),
      close: async () => undefined,
    };
  }
  const file = createWriteStream(target.path, { flags: 'a' });
  return {
    write: (record) => file.write(`${JSON.stringify(record)}\n`),
    close: () => new Promise((resolve) => file.end(resolve)),
  };
}
