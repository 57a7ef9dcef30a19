/**
 * The `where` predicate of a records subscription (PROTOCOL.md section 4, `filter.where`), and of
 * `GET /api/objects/:object/records?where=`. `compileWhere` validates a where once and turns it
 * into a closure that the server evaluates for every event of every subscription; the closure
 * never re-parses and allocates nothing.
 *
 * Two forms:
 *
 * - object form, `{"category":"electronics","price":{"$gte":100}}`: every key must hold. A key is a
 *   field path (dots reach into nested objects; a canonical integer segment indexes an array:
 *   `items.0.sku`) or one of `$and`, `$or` (a non-empty array of object-form wheres) and `$not`
 *   (one object-form where). A field's value is an operator object when it is an object whose keys
 *   all start with `$` (`{"$gte":100,"$lt":200}`: all must hold); any other value (scalar, array,
 *   object without `$` keys) means deep `$eq`. An object mixing `$` and plain keys is an error;
 *   to compare with such an object literally, write `{"$eq": {…}}`.
 * - list form, `[["status","=","pending"],["total",">=",100]]`: every `[path, operator, value]`
 *   item must hold; operators `= != > >= < <= in nin contains startswith` are `$eq $ne $gt $gte
 *   $lt $lte $in $nin $contains $startsWith`. The value is always a literal.
 *
 * An empty list or an empty object matches every record.
 *
 * Semantics, field by field (a field that is absent is "missing"):
 *
 * - `$eq`: deep equality (key order irrelevant). As in MongoDB, `$eq: null` also matches a missing
 *   field. Unlike MongoDB, a scalar never matches an array that contains it: use `$contains`.
 * - `$ne`, `$nin`: the negation of `$eq`, `$in`, so they match a missing field, except that
 *   `$ne: null` (or `$nin` with `null` in it) matches neither a missing nor a `null` field.
 * - `$in`, `$nin`: the operand is an array (it may be empty: `$in: []` matches nothing); `$in`
 *   holds when the field `$eq`s some element.
 * - `$gt $gte $lt $lte`: hold only when both sides are numbers, or both strings (compared by UTF-16
 *   code units, so ISO 8601 UTC timestamps order in time). Any other pairing, a missing field
 *   included, is false; an operand that is neither a number nor a string never matches.
 * - `$exists`: `true` holds when the field is present, `null` included; `false` when it is missing.
 * - `$contains`: a string field and a string operand: substring; an array field: some element
 *   deep-equals the operand; anything else: false.
 * - `$startsWith`: the operand must be a string; holds when the field is a string starting with it.
 * - `$not` (field level): the operand is an operator object or a plain value (meaning `$eq`); holds
 *   when that does not, so `{"price":{"$not":{"$gt":5}}}` matches a missing price.
 *
 * Limits (`WHERE_LIMITS`), so that a hostile where cannot make matching expensive: the where, as a
 * JSON document, nests at most `maxDepth` levels (the where itself is level 1, and every array or
 * object inside it — a `$and` list, an operator object, an operand — one more), and has at most
 * `maxTerms` terms (every operator application, implicit `$eq` and `$and`/`$or`/`$not` included,
 * plus every element of an `$in`/`$nin` array).
 *
 * Work (`compileMeteredWhere`, `evaluateWhere`): the server bounds what one evaluation may cost,
 * in work rather than in terms, because a term's cost depends on its operands and on the record.
 * Known when compiled: one unit per term, plus the length of each string operand of `$eq`, `$ne`,
 * `$gt`…`$lte`, `$contains` and `$startsWith` (compared or searched for character by character)
 * and the JSON length of each object operand (walked by deep equality, also inside `$in`). Known
 * as the evaluation runs: one unit per character a `$contains` scans in a string field, and per
 * element it compares in an array field (times the operand's JSON length for an object operand).
 * A unit is about 5–10 ns of the worst case. An evaluation over its allowance stops at the
 * search that would pass it.
 *
 * Field paths follow `fieldPathError`: non-empty segments, at most 256 characters, and no
 * `__proto__`, `constructor` or `prototype`; records are read through own properties only. A value
 * of `undefined` (which JSON cannot carry, so only a JavaScript caller can pass it) is an error
 * rather than silently meaning "missing".
 */
import type { Issue } from './issues.js';
import { compilePath, deepEqual, fieldPathError, isPlainObject } from './json.js';
import type { Where } from './query-schemas.js';

/** Bounds on a where's size, checked when it is compiled; past them it is rejected with a WhereError. */
export const WHERE_LIMITS = Object.freeze({ maxDepth: 32, maxTerms: 1000 } as const);

/** The operators allowed inside a field's operator object (object form). */
export const WHERE_OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$contains',
  '$startsWith',
  '$not',
] as const;

const LIST_OPERATORS = ['=', '!=', '>', '>=', '<', '<=', 'in', 'nin', 'contains', 'startswith'] as const;
type ListOperator = (typeof LIST_OPERATORS)[number];
type FieldOperator = (typeof WHERE_OPERATORS)[number];

/** The list form's operators and the object-form operator each one stands for. */
export const WHERE_LIST_OPERATORS: Readonly<Record<ListOperator, FieldOperator>> = Object.freeze({
  '=': '$eq',
  '!=': '$ne',
  '>': '$gt',
  '>=': '$gte',
  '<': '$lt',
  '<=': '$lte',
  in: '$in',
  nin: '$nin',
  contains: '$contains',
  startswith: '$startsWith',
});

/** Why a where was rejected: `path` locates the offending part inside the where (JSON path). */
export class WhereError extends Error {
  readonly path: (string | number)[];

  constructor(message: string, path: (string | number)[]) {
    super(message);
    this.name = 'WhereError';
    this.path = path;
  }
}

type Path = readonly (string | number)[];
type Test = (value: unknown) => boolean;
/** What compiling counts: terms (against `maxTerms`) and the fixed work of one evaluation. */
type Budget = { terms: number; work: number };

const ALWAYS: Test = () => true;
const NEVER: Test = () => false;

function fail(message: string, path: Path): never {
  throw new WhereError(message, [...path]);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * The fixed work of comparing with a literal operand: a string's length (compared, or searched
 * for, character by character), an object's JSON length (walked by deep equality), else nothing.
 */
function literalWork(operand: unknown): number {
  if (typeof operand === 'string') return operand.length;
  return typeof operand === 'object' && operand !== null ? JSON.stringify(operand).length : 0;
}

function enter(depth: number, path: Path): void {
  if (depth > WHERE_LIMITS.maxDepth) {
    fail(`where is nested more than ${WHERE_LIMITS.maxDepth} levels deep (WHERE_LIMITS.maxDepth)`, path);
  }
}

function spend(budget: Budget, terms: number, path: Path): void {
  budget.terms += terms;
  budget.work += terms;
  if (budget.terms > WHERE_LIMITS.maxTerms) {
    fail(
      `where has more than ${WHERE_LIMITS.maxTerms} terms (WHERE_LIMITS.maxTerms); ` +
        'every operator, and every element of an $in or $nin array, is one term',
      path,
    );
  }
}

/** Rejects `undefined` and checks the nesting of a literal operand that sits at `depth`. */
function checkLiteral(value: unknown, field: string, depth: number, path: Path): void {
  if (value === undefined) {
    fail(`value at ${field} is undefined, which JSON cannot carry; use null, or {"$exists": false}`, path);
  }
  checkNesting(value, depth, path);
}

function checkNesting(value: unknown, depth: number, path: Path): void {
  // JSON.parse reads a number beyond a double (1e309) as Infinity, which stored values hold as null.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    fail('a number beyond ±1.8e308 cannot be compared; JSON has no infinity', path);
  }
  if (typeof value !== 'object' || value === null) return;
  enter(depth, path);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkNesting(value[i], depth + 1, [...path, i]);
  } else {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) checkNesting(object[key], depth + 1, [...path, key]);
  }
}

/** All of `tests` hold; specialised for the common small counts so matching allocates nothing. */
function allOf(tests: Test[]): Test {
  if (tests.length === 0) return ALWAYS;
  const [first, second] = tests as [Test, Test];
  if (tests.length === 1) return first;
  if (tests.length === 2) return (v) => first(v) && second(v);
  const count = tests.length;
  return (v) => {
    for (let i = 0; i < count; i++) if (!(tests[i] as Test)(v)) return false;
    return true;
  };
}

/** Some of `tests` holds (`tests` is never empty: `$or` requires an item). */
function anyOf(tests: Test[]): Test {
  const [first, second] = tests as [Test, Test];
  if (tests.length === 1) return first;
  if (tests.length === 2) return (v) => first(v) || second(v);
  const count = tests.length;
  return (v) => {
    for (let i = 0; i < count; i++) if ((tests[i] as Test)(v)) return true;
    return false;
  };
}

function not(test: Test): Test {
  return (v) => !test(v);
}

function equals(operand: unknown): Test {
  if (operand === null) return (x) => x === null || x === undefined;
  if (typeof operand !== 'object') return (x) => x === operand;
  return (x) => deepEqual(x, operand);
}

function member(operands: readonly unknown[]): Test {
  const scalars = new Set<unknown>();
  const objects: unknown[] = [];
  let hasNull = false;
  for (const operand of operands) {
    if (operand === null) hasNull = true;
    else if (typeof operand === 'object') objects.push(operand);
    else scalars.add(operand);
  }
  const objectCount = objects.length;
  return (x) => {
    if (x === null || x === undefined) return hasNull;
    if (typeof x !== 'object') return scalars.has(x);
    for (let i = 0; i < objectCount; i++) if (deepEqual(x, objects[i])) return true;
    return false;
  };
}

function order(op: '$gt' | '$gte' | '$lt' | '$lte', operand: unknown): Test {
  if (typeof operand === 'number') {
    switch (op) {
      case '$gt':
        return (x) => typeof x === 'number' && x > operand;
      case '$gte':
        return (x) => typeof x === 'number' && x >= operand;
      case '$lt':
        return (x) => typeof x === 'number' && x < operand;
      case '$lte':
        return (x) => typeof x === 'number' && x <= operand;
    }
  }
  if (typeof operand === 'string') {
    switch (op) {
      case '$gt':
        return (x) => typeof x === 'string' && x > operand;
      case '$gte':
        return (x) => typeof x === 'string' && x >= operand;
      case '$lt':
        return (x) => typeof x === 'string' && x < operand;
      case '$lte':
        return (x) => typeof x === 'string' && x <= operand;
    }
  }
  return NEVER;
}

/** Thrown by a search that would take the evaluation past its allowance; caught by `evaluateWhere`. */
class OverAllowance extends Error {}
const OVER_ALLOWANCE = new OverAllowance('where evaluation over its allowance');

/**
 * Work the evaluation in progress has done beyond its terms, and may do. `evaluateWhere` sets
 * them; outside one the limit is Infinity, so a where called directly (the predicate of
 * `compileWhere`) is unmetered.
 */
let workSpent = 0;
let workLimit = Infinity;

/** Spends `units` of the evaluation's allowance before a search of that size. */
function spendWork(units: number): void {
  if ((workSpent += units) > workLimit) throw OVER_ALLOWANCE;
}

function contains(operand: unknown): Test {
  if (typeof operand === 'string') {
    return (x) => {
      if (typeof x !== 'string' && !Array.isArray(x)) return false;
      spendWork(x.length);
      return x.includes(operand);
    };
  }
  if (operand === null || typeof operand !== 'object') {
    return (x) => {
      if (!Array.isArray(x)) return false;
      spendWork(x.length);
      return x.includes(operand);
    };
  }
  const weight = JSON.stringify(operand).length;
  return (x) => {
    if (!Array.isArray(x)) return false;
    spendWork(x.length * weight);
    for (let i = 0; i < x.length; i++) if (deepEqual(x[i], operand)) return true;
    return false;
  };
}

/**
 * One operator applied to a field. `name` is how the operator was spelled (`in` in the list
 * form), for messages; `depth` is the nesting level of `operand`.
 */
function compileOperator(
  op: string,
  operand: unknown,
  field: string,
  path: Path,
  depth: number,
  budget: Budget,
  name: string = op,
): Test {
  spend(budget, 1, path);
  switch (op) {
    case '$eq':
    case '$ne': {
      checkLiteral(operand, field, depth, path);
      budget.work += literalWork(operand);
      return op === '$eq' ? equals(operand) : not(equals(operand));
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      checkLiteral(operand, field, depth, path);
      budget.work += literalWork(operand);
      return order(op, operand);
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand))
        fail(`${name} at ${field} expects an array, got ${describe(operand)}`, path);
      const operands = operand as readonly unknown[];
      spend(budget, operands.length, path);
      enter(depth, path);
      for (let i = 0; i < operands.length; i++) {
        checkLiteral(operands[i], field, depth + 1, [...path, i]);
        // Scalars are found by hash; each object is compared in turn.
        if (typeof operands[i] === 'object') budget.work += literalWork(operands[i]);
      }
      return op === '$in' ? member(operands) : not(member(operands));
    }
    case '$exists':
      if (typeof operand !== 'boolean') {
        fail(`${name} at ${field} expects true or false, got ${describe(operand)}`, path);
      }
      return operand ? (x) => x !== undefined : (x) => x === undefined;
    case '$contains':
      checkLiteral(operand, field, depth, path);
      budget.work += literalWork(operand);
      return contains(operand);
    case '$startsWith': {
      if (typeof operand !== 'string') {
        fail(`${name} at ${field} expects a string, got ${describe(operand)}`, path);
      }
      const prefix = operand;
      budget.work += prefix.length;
      return (x) => typeof x === 'string' && x.startsWith(prefix);
    }
    case '$not':
      return not(compileFieldValue(operand, field, path, depth, budget));
    default:
      return fail(
        `unknown operator "${op}" at ${field}; expected one of ${WHERE_OPERATORS.join(', ')}`,
        path,
      );
  }
}

/** A field's value in the object form: an operator object, or a literal meaning `$eq`. */
function compileFieldValue(value: unknown, field: string, path: Path, depth: number, budget: Budget): Test {
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const ops = keys.filter((key) => key.startsWith('$'));
    if (ops.length > 0) {
      if (ops.length < keys.length) {
        const plain = keys.filter((key) => !key.startsWith('$'));
        fail(
          `object at ${field} mixes operators (${ops.join(', ')}) with plain keys (${plain.join(', ')}); ` +
            'to match an object literally, wrap it in {"$eq": …}',
          path,
        );
      }
      enter(depth, path);
      return allOf(ops.map((op) => compileOperator(op, value[op], field, [...path, op], depth + 1, budget)));
    }
  }
  return compileOperator('$eq', value, field, path, depth, budget);
}

function compileField(field: string, value: unknown, path: Path, depth: number, budget: Budget): Test {
  const problem = fieldPathError(field);
  if (problem !== undefined) fail(problem, path);
  const get = compilePath(field);
  const test = compileFieldValue(value, field, path, depth, budget);
  return (record) => test(get(record));
}

/** An object-form where sitting at nesting level `depth`. */
function compileObjectWhere(where: Record<string, unknown>, path: Path, depth: number, budget: Budget): Test {
  enter(depth, path);
  const tests: Test[] = [];
  for (const key of Object.keys(where)) {
    const value = where[key];
    const at = [...path, key];
    if (!key.startsWith('$')) {
      tests.push(compileField(key, value, at, depth + 1, budget));
      continue;
    }
    spend(budget, 1, at);
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        fail(`${key} expects a non-empty array of where objects, got ${describe(value)}`, at);
      }
      enter(depth + 1, at);
      const items = (value as readonly unknown[]).map((item, i) => {
        if (!isPlainObject(item)) {
          fail(`each item of ${key} must be a where object, got ${describe(item)}`, [...at, i]);
        }
        return compileObjectWhere(item, [...at, i], depth + 2, budget);
      });
      tests.push(key === '$and' ? allOf(items) : anyOf(items));
    } else if (key === '$not') {
      if (!isPlainObject(value)) fail(`$not expects a where object, got ${describe(value)}`, at);
      tests.push(not(compileObjectWhere(value, at, depth + 1, budget)));
    } else {
      fail(`unknown operator "${key}" at the top level; expected $and, $or, $not or a field path`, at);
    }
  }
  return allOf(tests);
}

function compileListWhere(list: readonly unknown[], budget: Budget): Test {
  enter(1, []);
  return allOf(
    list.map((item, i) => {
      if (!Array.isArray(item) || item.length !== 3) {
        const got = Array.isArray(item) ? `an array of ${item.length}` : describe(item);
        fail(`item ${i} must be [path, operator, value], got ${got}`, [i]);
      }
      enter(2, [i]);
      const [field, op, value] = item as [unknown, unknown, unknown];
      if (typeof field !== 'string') fail(`the field path must be a string, got ${describe(field)}`, [i, 0]);
      const problem = fieldPathError(field);
      if (problem !== undefined) fail(problem, [i, 0]);
      if (typeof op !== 'string') fail(`the operator must be a string, got ${describe(op)}`, [i, 1]);
      if (!Object.hasOwn(WHERE_LIST_OPERATORS, op)) {
        fail(`unknown operator "${op}" at ${field}; expected one of ${LIST_OPERATORS.join(', ')}`, [i, 1]);
      }
      const fieldOp = WHERE_LIST_OPERATORS[op as ListOperator];
      const test = compileOperator(fieldOp, value, field, [i, 2], 3, budget, op);
      const get = compilePath(field);
      return (record: unknown) => test(get(record));
    }),
  );
}

function compileAny(where: unknown, budget: Budget = { terms: 0, work: 0 }): Test {
  if (Array.isArray(where)) return compileListWhere(where, budget);
  if (isPlainObject(where)) return compileObjectWhere(where, [], 1, budget);
  return fail(
    `where must be an object ({"field": value, …}) or a list of [path, operator, value] items, got ${describe(where)}`,
    [],
  );
}

/**
 * Why `where` is not a valid where (either form), as one issue at the JSON path of the offending
 * part relative to the where (`unknown operator "$regex" at price; expected one of $eq, …`), or
 * `undefined` when it is valid. The check behind `WhereSchema`, for callers without zod.
 */
export function whereError(where: unknown): Issue | undefined {
  try {
    compileAny(where);
    return undefined;
  } catch (error) {
    if (error instanceof WhereError) return { path: error.path, message: error.message };
    throw error;
  }
}

/**
 * Compiles a where into a predicate over records, once per subscription (or REST query); the
 * predicate is what runs per event. Throws a WhereError when the where is invalid or over
 * `WHERE_LIMITS`. No where (`undefined`) matches every record.
 */
export function compileWhere(where: Where | undefined): (record: unknown) => boolean {
  return where === undefined ? ALWAYS : compileAny(where);
}

/** A where compiled for metered evaluation (`evaluateWhere`): its predicate and its fixed work. */
export type MeteredWhere = {
  readonly test: (record: unknown) => boolean;
  /**
   * Work every evaluation takes whatever the record: a unit per term, plus the length of each
   * operand compared character by character (see "Work" above). 0: no where.
   */
  readonly fixedWork: number;
};

/** A where that matches every record and costs nothing: no `where` given. */
const EVERYTHING: MeteredWhere = Object.freeze({ test: ALWAYS, fixedWork: 0 });

/** Compiles a where for `evaluateWhere`, like `compileWhere` (same errors). */
export function compileMeteredWhere(where: Where | undefined): MeteredWhere {
  if (where === undefined) return EVERYTHING;
  const budget: Budget = { terms: 0, work: 0 };
  const test = compileAny(where, budget);
  return { test, fixedWork: Math.max(1, budget.work) };
}

/** What one metered evaluation did: its work, and whether it matched (undefined: over its allowance). */
export type WhereEvaluation = { work: number; matched: boolean | undefined };

/**
 * Evaluates a metered where against a record with at most `allowance` units of work. The answer
 * object is reused by every call (read it before the next): evaluation allocates nothing.
 */
export function evaluateWhere(where: MeteredWhere, record: unknown, allowance: number): WhereEvaluation {
  const out = EVALUATION;
  if (where.fixedWork > allowance) {
    out.work = allowance;
    out.matched = undefined;
    return out;
  }
  workSpent = 0;
  workLimit = allowance - where.fixedWork;
  try {
    out.matched = where.test(record);
  } catch (error) {
    if (error !== OVER_ALLOWANCE) throw error;
    out.matched = undefined;
  } finally {
    out.work = where.fixedWork + Math.min(workSpent, workLimit);
    workSpent = 0;
    workLimit = Infinity;
  }
  return out;
}

const EVALUATION: WhereEvaluation = { work: 0, matched: undefined };
