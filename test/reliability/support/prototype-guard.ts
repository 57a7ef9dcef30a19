/**
 * Detects prototype pollution in this process (where the in-process dev server runs): a
 * snapshot of the own properties of the built-in prototypes, compared after the bad input, plus
 * the marker keys the hostile payloads try to plant (`polluted`, `isAdmin`).
 */

const WATCHED: Readonly<Record<string, object>> = {
  Object: Object.prototype,
  Array: Array.prototype,
  Function: Function.prototype,
  String: String.prototype,
  Number: Number.prototype,
  Boolean: Boolean.prototype,
  Symbol: Symbol.prototype,
  Error: Error.prototype,
  RegExp: RegExp.prototype,
  Date: Date.prototype,
  Map: Map.prototype,
  Set: Set.prototype,
  Promise: Promise.prototype,
};

/** The keys hostile payloads plant. */
const MARKER_KEYS = ['polluted', 'isAdmin'] as const;

/** Every watched prototype's own property descriptors, by name. */
export type PrototypeSnapshot = Map<string, Map<PropertyKey, PropertyDescriptor>>;

/** Takes a snapshot of the built-in prototypes. */
export function snapshotPrototypes(): PrototypeSnapshot {
  return new Map(
    Object.entries(WATCHED).map(([name, proto]) => [
      name,
      new Map(Reflect.ownKeys(proto).map((key) => [key, Reflect.getOwnPropertyDescriptor(proto, key) ?? {}])),
    ]),
  );
}

const FIELDS = ['value', 'get', 'set', 'writable', 'enumerable', 'configurable'] as const;

/** What changed since `before`, one line each: keys added, removed or redefined, markers present. */
export function prototypeChanges(before: PrototypeSnapshot): string[] {
  const changes: string[] = [];
  const after = snapshotPrototypes();
  for (const [name, was] of before) {
    const now = after.get(name) ?? new Map<PropertyKey, PropertyDescriptor>();
    for (const key of new Set([...was.keys(), ...now.keys()])) {
      const a = was.get(key);
      const b = now.get(key);
      if (!a) changes.push(`${name}.prototype gained ${String(key)}`);
      else if (!b) changes.push(`${name}.prototype lost ${String(key)}`);
      else if (FIELDS.some((f) => !Object.is(a[f], b[f])))
        changes.push(`${name}.prototype.${String(key)} changed`);
    }
  }
  const probes: Record<string, unknown> = { '{}': {}, '[]': [], '() => {}': () => undefined, "''": '' };
  for (const [what, value] of Object.entries(probes)) {
    for (const key of MARKER_KEYS) {
      if ((value as Record<string, unknown>)[key] !== undefined) changes.push(`(${what}).${key} is defined`);
    }
  }
  return changes;
}
