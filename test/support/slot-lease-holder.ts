/**
 * A process that competes for a slot's lease and, while it holds it, reads the slot: what one
 * server process of a cluster does, for tests that SIGKILL or SIGSTOP it
 * (test/dev-server/postgres/slot-lease.test.ts). Run as
 * `node --import tsx test/support/slot-lease-holder.ts '<json>'` with the JSON of
 * `SlotLeaseHolderArgs`. It prints one line per event on stdout: `acquired`, `streaming`,
 * `applied <n>` (the `n` column of each inserted row), `lost <reason>`.
 */
import { SlotLease } from '../../dev-server/sources/postgres/slot-lease.js';
import { PostgresStream } from '../../dev-server/sources/postgres/stream.js';

/** What the holder is told on its command line. */
export type SlotLeaseHolderArgs = {
  url: string;
  slot: string;
  publication: string;
  retryMs?: number;
  holderTimeoutMs?: number;
};

const args = JSON.parse(process.argv[2] ?? '{}') as SlotLeaseHolderArgs;
let stream: PostgresStream | undefined;

SlotLease.start({
  url: args.url,
  slot: args.slot,
  retryMs: args.retryMs,
  holderTimeoutMs: args.holderTimeoutMs,
  onAcquired: () => {
    console.log('acquired');
    stream = new PostgresStream({
      url: args.url,
      slot: args.slot,
      publication: args.publication,
      resumeAfter: undefined,
      apply: (transaction) => {
        for (const change of transaction.changes) {
          if (change.operation === 'INSERT') console.log(`applied ${change.row.n}`);
        }
      },
      onStatus: (status) => {
        if (status === 'streaming') console.log('streaming');
      },
    });
    void stream.start();
  },
  onLost: (error) => {
    console.log(`lost ${error.message}`);
    void stream?.stop();
    stream = undefined;
  },
  onWarning: (message) => console.error(message),
});
