// The list benchmark's data, in the page: a server-side model of `items` records and the frames a
// server would send for it — a `subscribed` with a snapshot, then `batch` frames of mixed events
// (added, modified, removed). Seeded, so every run applies the very same batches.

const CHANNEL = 'records:items';
const STATUSES = ['new', 'paid', 'packed', 'shipped', 'delivered'];

/** Seeded PRNG (mulberry32): numbers in [0, 1). */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The order the element is asked for (`sort="-price"`), written out by hand: price descending, then id. */
export function byPriceDescending(a, b) {
  if (a.price !== b.price) return b.price - a.price;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A model of `size` records and the frames that change it. Each batch of `count` events touches
 * distinct records: 30 % are removed, as many are added, the rest modified (half of them change the
 * price, so they move in the sort; half only the status, so they stay in place).
 */
export function createWorkload(size, seed = 7) {
  const next = random(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const price = () => Math.round(next() * 1_000_000) / 100;
  const records = new Map();
  let lastId = 0;
  let seq = 0;
  const create = () => {
    lastId++;
    const id = `r${String(lastId).padStart(6, '0')}`;
    return { id, name: `Item ${lastId}`, status: pick(STATUSES), price: price() };
  };
  for (let i = 0; i < size; i++) {
    const record = create();
    records.set(record.id, record);
  }

  return {
    /** The records as they are now, in display order. */
    expected() {
      return [...records.values()].sort(byPriceDescending);
    },

    /** The `subscribed` frame answering subscription `sub` with every record. */
    subscribedFrame(sub) {
      return JSON.stringify({ type: 'subscribed', id: sub, seq, snapshot: this.expected() });
    },

    /** The next `batch` frame for subscription `sub`, `count` events; the model moves on. */
    batchFrame(sub, count) {
      const removals = Math.round(count * 0.3);
      const modifications = count - 2 * removals;
      const ids = [...records.keys()];
      // A partial Fisher–Yates shuffle: the first `removals + modifications` ids are distinct picks.
      for (let i = 0; i < removals + modifications; i++) {
        const j = i + Math.floor(next() * (ids.length - i));
        [ids[i], ids[j]] = [ids[j], ids[i]];
      }
      const timestamp = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
      const base = (id, operation, change, record) => ({
        seq: 0,
        sub,
        channel: CHANNEL,
        timestamp,
        object: 'items',
        operation,
        change,
        id,
        record,
      });
      const events = [];
      for (const id of ids.slice(0, removals)) {
        events.push(base(id, 'delete', 'removed', records.get(id)));
        records.delete(id);
      }
      for (const [k, id] of ids.slice(removals, removals + modifications).entries()) {
        const before = records.get(id);
        const field = k % 2 === 0 ? 'price' : 'status';
        const after = { ...before, [field]: field === 'price' ? price() : pick(STATUSES) };
        records.set(id, after);
        events.push({ ...base(id, 'update', 'modified', after), oldRecord: before, changedFields: [field] });
      }
      for (let i = 0; i < removals; i++) {
        const record = create();
        records.set(record.id, record);
        events.push(base(record.id, 'create', 'added', record));
      }
      // Mixed, as a server commits them: shuffled, then numbered in that order.
      for (let i = events.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [events[i], events[j]] = [events[j], events[i]];
      }
      for (const event of events) event.seq = ++seq;
      return JSON.stringify({ type: 'batch', events });
    },
  };
}
