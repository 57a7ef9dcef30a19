/**
 * The writers of the PostgreSQL benchmark: the same order rows committed to the table with `pg`
 * (as any service of the database would: batched or one-row transactions) or created through the
 * dev server's REST API in its in-memory store (`POST /api/objects/<object>/records`). Each writer
 * resolves with when its first write started and when its last one was answered.
 */
import { Agent, request } from 'node:http';
import pg from 'pg';

const STATUSES = ['placed', 'paid', 'shipped'];

/** Order `n` as both paths write it: the same four columns / fields. */
export function orderRow(n) {
  return {
    id: n,
    status: STATUSES[n % STATUSES.length],
    total: Number((((n * 7919) % 100_000) / 100 + 1).toFixed(2)),
    placed_at: new Date().toISOString(),
  };
}

const INSERT_ONE = 'INSERT INTO orders (id, status, total, placed_at) VALUES ($1, $2, $3, $4)';
// One statement, one transaction, `perTransaction` rows: the values travel as four arrays.
const INSERT_MANY =
  'INSERT INTO orders (id, status, total, placed_at) ' +
  'SELECT * FROM unnest($1::bigint[], $2::text[], $3::numeric[], $4::timestamptz[])';

async function pgClients(url, n) {
  const clients = Array.from({ length: n }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  return clients;
}

/** Rows `firstId … firstId + rows − 1`, `perTransaction` to a transaction, by `clients` connections at once. */
export async function pgBurst({ url, firstId, rows, perTransaction, clients: n }) {
  const clients = await pgClients(url, n);
  try {
    let next = firstId;
    const end = firstId + rows;
    const firstWrite = Date.now();
    await Promise.all(
      clients.map(async (client) => {
        while (next < end) {
          const from = next;
          next = Math.min(end, next + perTransaction);
          if (next - from === 1) {
            const row = orderRow(from);
            await client.query(INSERT_ONE, [row.id, row.status, row.total, row.placed_at]);
            continue;
          }
          const batch = Array.from({ length: next - from }, (_, i) => orderRow(from + i));
          await client.query(INSERT_MANY, [
            batch.map((r) => r.id),
            batch.map((r) => r.status),
            batch.map((r) => r.total),
            batch.map((r) => r.placed_at),
          ]);
        }
      }),
    );
    return { firstWrite, lastWrite: Date.now() };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** Runs `write(i)` `rate` times a second for `durationMs`, without waiting for answers between. */
async function steadily({ rate, durationMs }, write) {
  const total = Math.round((rate * durationMs) / 1000);
  const pending = [];
  const firstWrite = Date.now();
  let done = 0;
  while (done < total) {
    const due = Math.min(total, Math.floor(((Date.now() - firstWrite) * rate) / 1000) + 1);
    for (; done < due; done++) pending.push(write(done));
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.floor(1000 / rate / 2))));
  }
  await Promise.all(pending);
  return { firstWrite, lastWrite: Date.now(), rows: total };
}

/** One-row transactions at a steady rate, over a pool of up to 4 connections (one is enough unless the database lags). */
export async function pgSteady({ url, firstId, rate, durationMs }) {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  try {
    return await steadily({ rate, durationMs }, (i) => {
      const row = orderRow(firstId + i);
      return pool.query(INSERT_ONE, [row.id, row.status, row.total, row.placed_at]);
    });
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** A REST create of order `n` (its id as a string: record ids are strings). */
function post(target, n) {
  const body = JSON.stringify({ ...orderRow(n), id: String(n) });
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.url}/api/objects/${target.object}/records`,
      {
        method: 'POST',
        agent: target.agent,
        headers: {
          authorization: `Bearer ${target.key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          res.statusCode === 201
            ? resolve(undefined)
            : reject(new Error(`POST answered ${res.statusCode}: ${text.slice(0, 200)}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Creates `rows` records through REST, `concurrency` requests in flight (keep-alive connections). */
export async function restBurst({ url, key, object, firstId, rows, concurrency }) {
  const target = { url, key, object, agent: new Agent({ keepAlive: true, maxSockets: concurrency }) };
  try {
    let next = firstId;
    const end = firstId + rows;
    const firstWrite = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < end) await post(target, next++);
      }),
    );
    return { firstWrite, lastWrite: Date.now() };
  } finally {
    target.agent.destroy();
  }
}

/** REST creates at a steady rate. */
export async function restSteady({ url, key, object, firstId, rate, durationMs }) {
  const target = { url, key, object, agent: new Agent({ keepAlive: true, maxSockets: 16 }) };
  try {
    return await steadily({ rate, durationMs }, (i) => post(target, firstId + i));
  } finally {
    target.agent.destroy();
  }
}
