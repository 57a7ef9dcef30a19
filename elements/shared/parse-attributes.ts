/**
 * Parsing of the attribute values that describe a subscription (`object`, `where`, `sort`,
 * `fields`, `limit`, `operations`, `record-id`). Each `parse…` returns the value the protocol
 * wants, or throws an `AttributeError` whose message names the attribute and says what is wrong
 * and how to write it. Values are validated with the protocol's own schemas, so an element
 * refuses exactly what the server would refuse, before anything is sent.
 *
 * List attributes (`sort`, `fields`, `operations`) take names separated by commas and/or blanks
 * (`sort="-createdAt, name"`); as properties they also take an array.
 */
import { parseChannel, recordsChannel } from '../../protocol/channel.js';
import { describeIssues, firstIssue } from '../../protocol/issues.js';
import { PROTOCOL_BOUNDS } from '../../protocol/limits.js';
import { normalizeOperation, type Operation } from '../../protocol/operations.js';
import { fieldsError } from '../../protocol/projection.js';
import { sortError } from '../../protocol/sort.js';
import type { Where } from '../../protocol/query-schemas.js';

/** An attribute value an element cannot use; the message names the attribute as written in HTML. */
export class AttributeError extends Error {
  override name = 'AttributeError';
}

/**
 * The items of a list attribute, split on commas and blanks (an array passes through);
 * `undefined` when there are none.
 */
function splitList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = typeof value === 'string' ? value.split(/[\s,]+/).filter((item) => item !== '') : [...value];
  return items.length ? items : undefined;
}

/** `object`: required, one object name (no `*`). Returns its records channel. */
export function parseObject(object: string | undefined): string {
  if (!object) {
    throw new AttributeError('object is required: the name of the records to show, e.g. object="orders"');
  }
  const channel = parseChannel(recordsChannel(object));
  if ('error' in channel) throw new AttributeError(`object: ${channel.error}`);
  if (channel.wildcard) throw new AttributeError('object must name one object, not "*"');
  return recordsChannel(object);
}

/**
 * `where`: JSON text in either form of PROTOCOL.md section 4 (`{"status":"pending"}` or
 * `[["total", ">=", 100]]`), or, as a property, the parsed value. Empty means no filter.
 */
export function parseWhere(where: string | Where | undefined): Where | undefined {
  if (where === undefined || where === null || where === '') return undefined;
  let value: unknown = where;
  if (typeof where === 'string') {
    try {
      value = JSON.parse(where);
    } catch (error) {
      throw new AttributeError(
        `where is not valid JSON (${(error as Error).message}); write it like where='{"status":"pending"}'`,
      );
    }
  }
  // The rest of the checking is the server's (the same compiler, the same messages): the list
  // shows its refusal as this attribute's error (`whereRefusal`). It saves the bundle 2 kB.
  if (value === null || typeof value !== 'object') {
    throw new AttributeError(
      `where must be an object ({"field": value, …}) or a list of [path, operator, value] items; write it like where='{"status":"pending"}'`,
    );
  }
  return value as Where;
}

/**
 * The server's refusal of a subscription's `filter.where`, said as an error of the `where`
 * attribute (`where is invalid: 0.1: unknown operator "~" …`); `undefined` for any other refusal.
 */
export function whereRefusal(details: unknown): AttributeError | undefined {
  const issue = firstIssue(details);
  if (!issue || issue.path[0] !== 'filter' || issue.path[1] !== 'where') return undefined;
  const message = describeIssues([{ path: issue.path.slice(2), message: issue.message }]);
  return new AttributeError(`where is invalid: ${message}`);
}

/** `sort`: field paths, `-` in front for descending (`sort="-createdAt, name"`). Empty means by id. */
export function parseSort(sort: string | readonly string[] | undefined): string[] | undefined {
  const keys = splitList(sort);
  const issue = keys && sortError(keys);
  if (issue) throw new AttributeError(`sort is invalid: ${describeIssues([issue])}`);
  return keys;
}

/** `fields`: the field paths to fetch and show (`fields="title, customer.name"`). Empty means all. */
export function parseFields(fields: string | readonly string[] | undefined): string[] | undefined {
  const paths = splitList(fields);
  const issue = paths && fieldsError(paths);
  if (issue) throw new AttributeError(`fields is invalid: ${describeIssues([issue])}`);
  return paths;
}

/** `limit`: how many records to show at most, 1 to 1000 (the protocol's largest snapshot window). */
export function parseLimit(limit: number | undefined): number | undefined {
  if (limit === undefined || limit === null) return undefined;
  const max = PROTOCOL_BOUNDS.maxSnapshotLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    const got = Number.isNaN(limit) ? 'it is not a number' : `got ${limit}`;
    throw new AttributeError(`limit must be a whole number from 1 to ${max} (${got})`);
  }
  return limit;
}

/** `operations`: which writes to hear of (`create, update, delete`; `INSERT` … accepted). Empty means all. */
export function parseOperations(operations: string | readonly string[] | undefined): Operation[] | undefined {
  const names = splitList(operations);
  if (!names) return undefined;
  const result = new Set<Operation>();
  for (const name of names) {
    const operation = normalizeOperation(name);
    if (operation === undefined) {
      throw new AttributeError(
        `operations: "${name}" is not an operation; use create, update or delete (INSERT, UPDATE, DELETE are aliases)`,
      );
    }
    result.add(operation);
  }
  return [...result];
}

/** `record-id`: required, the id of the one record to show. */
export function parseRecordId(recordId: string | undefined): string {
  if (!recordId) throw new AttributeError('record-id is required: the id of the record to show');
  if (recordId.length > 256) throw new AttributeError('record-id is longer than 256 characters');
  return recordId;
}
