/**
 * Audit records and hooks (PROTOCOL.md section 8). Records are built only when someone listens,
 * so an unobserved server pays nothing for them.
 */
import type { AuditRecord, AuditType } from '../../protocol/index.js';
import type { Clock } from './clock.js';
import { isoTime } from './clock.js';

/** A hook: receives each audit record of its type (or of every type, for `'*'`). */
export type AuditHook = (record: AuditRecord) => void;

/** Who an audit record is about. */
export type AuditSubject = {
  connectionId: string;
  client?: string | undefined;
  environment?: string | undefined;
};

/** The hook registry. */
export class AuditTrail {
  private readonly hooks = new Map<AuditType | '*', Set<AuditHook>>();

  constructor(private readonly clock: Clock) {}

  /** Registers a hook; returns the function that removes it. */
  on(type: AuditType | '*', hook: AuditHook): () => void {
    let set = this.hooks.get(type);
    if (!set) this.hooks.set(type, (set = new Set()));
    set.add(hook);
    return () => set.delete(hook);
  }

  /** Whether anyone listens to this type. */
  wants(type: AuditType): boolean {
    return (this.hooks.get(type)?.size ?? 0) > 0 || (this.hooks.get('*')?.size ?? 0) > 0;
  }

  /** Hands a record to the hooks; a throwing hook is reported and never breaks the server. */
  emit(type: AuditType, subject: AuditSubject, details: Record<string, unknown> = {}): void {
    if (!this.wants(type)) return;
    const record: AuditRecord = {
      type,
      time: isoTime(this.clock.now()),
      connectionId: subject.connectionId,
      details,
    };
    if (subject.client !== undefined) record.client = subject.client;
    if (subject.environment !== undefined) record.environment = subject.environment;
    for (const hook of [...(this.hooks.get(type) ?? []), ...(this.hooks.get('*') ?? [])]) {
      try {
        hook(record);
      } catch (error) {
        console.error(`audit hook for ${type} threw:`, error);
      }
    }
  }
}
