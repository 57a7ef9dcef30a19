// Where a batch's time goes, for the notes: a few more batches under Chromium's trace (style,
// layout and GC of each `element batch` / `vanilla batch` user timing window) and the V8 CPU
// profiler (self time by function in those windows). Run when a target misses, and in the smoke so
// that it cannot rot.
/* global window -- read inside a page.evaluate callback, which runs in the page */

/** Trace events (main thread, complete) counted per window, by what they are. */
const KINDS = { UpdateLayoutTree: 'style', Layout: 'layout', MinorGC: 'gc', MajorGC: 'gc' };

const ms = (us) => Math.round(us / 100) / 10;

/** The `[start, end]` (µs) of each user timing measure named `name`, and its thread. */
function windows(events, name) {
  const begins = events.filter((e) => e.name === name && e.cat.includes('blink.user_timing') && e.ph === 'b');
  const ends = events.filter((e) => e.name === name && e.cat.includes('blink.user_timing') && e.ph === 'e');
  return begins.map((begin, i) => ({
    start: begin.ts,
    end: ends[i]?.ts ?? begin.ts,
    pid: begin.pid,
    tid: begin.tid,
  }));
}

/** Per window kind: total time (µs) of style, layout and GC, summed over the windows. */
function traceTotals(events, spans) {
  const totals = { all: 0, style: 0, layout: 0, gc: 0 };
  for (const span of spans) totals.all += span.end - span.start;
  for (const event of events) {
    const kind = KINDS[event.name];
    if (!kind || event.ph !== 'X') continue;
    const inside = spans.some(
      (s) => event.pid === s.pid && event.tid === s.tid && event.ts >= s.start && event.ts < s.end,
    );
    if (inside) totals[kind] += event.dur ?? 0;
  }
  return totals;
}

/** Self time (µs) by function, of the CPU profile's samples inside `spans`. */
function selfTimes(profile, spans) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    if (!spans.some((s) => time >= s.start && time < s.end)) continue;
    const { callFrame } = nodes.get(profile.samples[i]);
    const file = callFrame.url.split('/').pop() || 'native';
    const key = `${callFrame.functionName || '(anonymous)'} ${file}${callFrame.url ? `:${callFrame.lineNumber + 1}:${callFrame.columnNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + delta);
  }
  return [...self].sort((a, b) => b[1] - a[1]);
}

/**
 * Profiles `count` batches of `batchSize` events on a `listSize` list in `page` (bench-page.js
 * loaded); resolves with note lines.
 */
export async function profileBatches(page, { listSize, batchSize, count }) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', ({ value }) => events.push(...value));
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: { includedCategories: ['devtools.timeline', 'blink.user_timing'] },
  });
  await cdp.send('Profiler.start');
  await page.evaluate((options) => window.exerciseBatches(options), { listSize, batchSize, count });
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.send('Tracing.end');
  await complete;
  await cdp.detach();

  const notes = [];
  for (const who of ['element', 'vanilla']) {
    const spans = windows(events, `${who} batch`);
    if (spans.length === 0) throw new Error(`the trace holds no "${who} batch" measures`);
    const totals = traceTotals(events, spans);
    const per = (us) => ms(us / spans.length);
    const top = selfTimes(profile, spans)
      .slice(0, 6)
      .map(([name, us]) => `${name} ${per(us)}`)
      .join('; ');
    notes.push(
      `Profile, ${who}, per batch over ${spans.length} (${count} traced batches of ${batchSize} on ${listSize}; tracing slows everything): ` +
        `${per(totals.all)} ms in all, of which style ${per(totals.style)}, layout ${per(totals.layout)}, GC ${per(totals.gc)}; ` +
        `top self time (ms; the forced layout counts as the bench's own frame that reads offsetHeight): ${top || 'no samples'}.`,
    );
  }
  return { notes };
}
