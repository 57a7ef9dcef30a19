/**
 * Which JetStream stream takes a subject, asked once per subject and remembered: a stream found
 * stays until `clear()` (a reconnect: the server may have changed), a subject no stream takes is
 * asked again after `recheckMs` (a stream may be added meanwhile). A question NATS does not
 * answer (a timeout) is an error, not "none": a core publish could miss a stream that exists.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

type Lookup = { stream: string | undefined; checkedAt: number };

/** See the module comment. */
export class NatsStreamFinder {
  private readonly lookups = new Map<string, Lookup>();
  private jsm: JetStreamManager | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: { recheckMs: number; timeoutMs: number },
  ) {}

  /** The stream that takes `subject`, or `undefined` for none; asks NATS when the answer is due. */
  async find(subject: string): Promise<string | undefined> {
    const known = this.known(subject);
    if (known !== 'unknown') return known;
    let stream: string | undefined;
    try {
      this.jsm ??= await jetstreamManager(this.nc, { checkAPI: false, timeout: this.options.timeoutMs });
      stream = await this.jsm.streams.find(subject);
    } catch (error) {
      if (!noStream(error)) {
        throw new Error(`no answer to which stream takes ${subject}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    this.lookups.set(subject, { stream, checkedAt: Date.now() });
    return stream;
  }

  /** The remembered answer for `subject`, or `'unknown'` when none is, or it is due again. */
  known(subject: string): string | undefined | 'unknown' {
    const lookup = this.lookups.get(subject);
    if (!lookup) return 'unknown';
    if (lookup.stream === undefined && Date.now() - lookup.checkedAt >= this.options.recheckMs)
      return 'unknown';
    return lookup.stream;
  }

  /** Remembers that no stream takes `subject` (a publish found none) until it is due again. */
  none(subject: string): void {
    this.lookups.set(subject, { stream: undefined, checkedAt: Date.now() });
  }

  /** Forgets every answer. */
  clear(): void {
    this.lookups.clear();
  }
}

/** Whether a JetStream error says no stream takes the subject (or JetStream is off). */
export function noStream(error: unknown): boolean {
  return (
    (error instanceof Error && error.name === 'JetStreamNotEnabled') ||
    (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)
  );
}
