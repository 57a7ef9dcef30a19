/**
 * `--simulate`: random record writes at a steady rate, for demos and stories. Writes go through
 * the same store calls as REST, so they take seqs, reach subscribers and appear in the journal.
 * Each environment that has a key gets writes; each write creates, updates or deletes a record
 * of a random object, keeping each object between a few and a couple of hundred records.
 */
import { isPlainObject, type LiveRecord } from '../../protocol/index.js';
import type { Clock } from './clock.js';
import { DEMO_VALUES, pick } from './demo-data.js';
import type { Engine } from './engine.js';
import type { Environment } from './environment.js';

const MIN_RECORDS = 5;
const MAX_RECORDS = 200;
const TICK_MS = 50;

/** Starts writing `rate` records per second; returns the function that stops it. */
export function startSimulation(
  engine: Engine,
  rate: number,
  random: () => number = Math.random,
): () => void {
  if (!(rate > 0)) return () => undefined;
  const clock: Clock = engine.clock;
  const environments = [
    ...new Set(engine.config.keys.map((k) => engine.environment(k.client, k.environment))),
  ];
  let owed = 0;
  let last = clock.now();
  let stopped = false;
  let timer: unknown;
  const tick = () => {
    if (stopped) return;
    const now = clock.now();
    owed += ((now - last) * rate) / 1000;
    last = now;
    for (; owed >= 1; owed--) writeOnce(pick(random, environments), engine.config.objects, random);
    timer = clock.setTimeout(tick, Math.max(TICK_MS, Math.min(1000, 1000 / rate)));
  };
  timer = clock.setTimeout(tick, Math.min(1000, 1000 / rate));
  return () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
}

/** One random write to one environment (objects kept in PostgreSQL tables are left alone). */
export function writeOnce(env: Environment, objects: readonly string[], random: () => number): void {
  const inMemory = objects.filter((o) => env.tableOf(o) === undefined);
  if (inMemory.length === 0) return;
  const object = pick(random, inMemory);
  const table = env.table(object);
  const records = [...table.values()];
  const roll = random();
  const correlationId = 'simulator';
  if (records.length < MIN_RECORDS || (roll < 0.3 && records.length < MAX_RECORDS)) {
    env.create(object, freshRecord(records, random), correlationId);
  } else if (roll < 0.45 || records.length >= MAX_RECORDS) {
    env.remove(object, pick(random, records).id, correlationId);
  } else {
    const target = pick(random, records);
    env.patch(object, target.id, changeOf(target, random), correlationId);
  }
}

/** A new record shaped like the existing ones (or a plain one when there are none). */
function freshRecord(records: readonly LiveRecord[], random: () => number): Record<string, unknown> {
  if (records.length === 0)
    return { title: `Simulated ${Math.floor(random() * 1000)}`, value: Math.round(random() * 100) };
  const { id: _id, createdAt: _c, updatedAt: _u, ...shape } = pick(random, records);
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(shape)) record[field] = vary(field, value, random);
  return record;
}

/** A patch that changes one or two fields of a record. */
function changeOf(record: LiveRecord, random: () => number): Record<string, unknown> {
  const fields = Object.keys(record).filter((f) => f !== 'id' && f !== 'createdAt' && f !== 'updatedAt');
  if (fields.length === 0) return { value: Math.round(random() * 100) };
  const patch: Record<string, unknown> = {};
  const field = pick(random, fields);
  patch[field] = vary(field, record[field], random);
  if ('status' in record && field !== 'status' && random() < 0.5)
    patch.status = vary('status', record.status, random);
  return patch;
}

function vary(field: string, value: unknown, random: () => number): unknown {
  if (field === 'status' && typeof value === 'string') return pick(random, DEMO_VALUES.STATUSES);
  if (typeof value === 'number') return Math.max(0, Math.round(value * (0.6 + random() * 0.8)));
  if (typeof value === 'boolean') return random() < 0.5;
  if (field === 'title' && typeof value === 'string')
    return `${1 + Math.floor(random() * 3)} × ${pick(random, DEMO_VALUES.PRODUCTS)}`;
  if (isPlainObject(value) && 'name' in value) return { ...pick(random, DEMO_VALUES.CUSTOMERS) };
  return value;
}
