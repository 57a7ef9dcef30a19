// The list benchmark, run inside the page: `<live-record-list>` as shipped (the script-tag bundle;
// above 200 records it renders only the rows in view), the same element with `virtualize="off"`
// (every row in the DOM) and the hand-written `VanillaList` (every row in the DOM: the baseline)
// get the same frames from the scripted server, one after the other, and each is timed from the
// frame's arrival to the DOM settled.
//
// "Arrived" is the moment the frame's `message` event is dispatched (the element) or its text
// handed over (the baseline); "settled" is the element's `live-change` (fired once the batch is
// rendered) and any render it still has pending (`updateComplete`: after measuring rows it may
// render once more), or the end of the baseline's DOM work, each followed by a forced layout
// (`document.body.offsetHeight`): style and layout included, paint not. All of it is one task, so
// nothing else runs in between. Each timing is split into phases: script until the element's
// first update starts (parse, validate, apply to the record window), the updates (render and DOM
// commit), the rest up to settled, and the forced layout. After each timing, the rows the element
// rendered must fill the part of the viewport (1280×800) it takes.
/* global window, document, customElements */

import { VanillaList } from './vanilla-list.js';
import { createWorkload } from './workload.js';

const LOCALE = 'en';
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Collects garbage between measurements when Chromium allows it (`--js-flags=--expose-gc`). */
const collect = () => window.gc?.();

/** Marks when the element's first update (render and commit) of a frame starts and its last ends. */
const updates = { start: 0, end: 0 };
let watching = false;
function watchUpdates() {
  if (watching) return;
  watching = true;
  const Element = customElements.get('live-record-list');
  const performUpdate = Element.prototype.performUpdate;
  Element.prototype.performUpdate = function timedUpdate() {
    updates.start ||= performance.now();
    try {
      return performUpdate.call(this);
    } finally {
      updates.end = performance.now();
    }
  };
}

function template() {
  return document.querySelector('#row').cloneNode(true);
}

/**
 * A `<live-record-list>` sorted by price, using the page's row template (`off`: with
 * `virtualize="off"`); resolves with its subscribe message.
 */
async function mountElement(container, off = false) {
  const element = document.createElement('live-record-list');
  if (off) element.setAttribute('virtualize', 'off');
  element.setAttribute('url', window.location.origin);
  element.setAttribute('api-key', 'pk_bench');
  element.setAttribute('object', 'items');
  element.setAttribute('sort', '-price');
  element.setAttribute('highlight', '0');
  element.append(template());
  const subscribe = window.fakeServer.next(
    (message) => message.type === 'subscribe' && !mounted.has(message.id),
  );
  container.append(element);
  const message = await subscribe;
  mounted.add(message.id);
  return { element, socket: message.socket, sub: message.id };
}
const mounted = new Set();

/** Throws unless the element's rendered rows fill the part of the viewport it takes. */
function checkFilled(element, what) {
  const box = element.getBoundingClientRect();
  const top = Math.max(0, box.top);
  const bottom = Math.min(window.innerHeight, box.bottom);
  if (top >= bottom) return;
  const rows = element.shadowRoot.querySelectorAll('[part~="item"]');
  const first = rows[0]?.getBoundingClientRect();
  const last = rows[rows.length - 1]?.getBoundingClientRect();
  if (!first || first.top > top + 1 || last.bottom < bottom - 1) {
    throw new Error(`${what}: the element left part of the view empty`);
  }
}

/** Delivers `frame` to the element and times it until settled (`live-change`, pending renders) and a forced layout. */
function timeElement({ element, socket }, frame) {
  return new Promise((resolve, reject) => {
    let start = 0;
    let sameTask = true;
    element.addEventListener(
      'live-change',
      async () => {
        while (!(await element.updateComplete));
        const settled = performance.now();
        if (!sameTask || updates.end === 0) {
          reject(new Error('the element did not render the frame in the task that delivered it'));
          return;
        }
        void document.body.offsetHeight;
        const end = performance.now();
        try {
          checkFilled(element, 'after a frame');
        } catch (error) {
          reject(error);
          return;
        }
        resolve({
          total: end - start,
          script: updates.start - start,
          update: updates.end - updates.start,
          after: settled - updates.end,
          layout: end - settled,
          rendered: element.shadowRoot.querySelectorAll('[part~="item"]').length,
        });
      },
      { once: true },
    );
    element.addEventListener('live-error', (event) => reject(new Error(event.detail.message)), {
      once: true,
    });
    updates.start = updates.end = 0;
    setTimeout(() => (sameTask = false));
    start = performance.now();
    socket.deliver(frame);
  });
}

/** Hands `frame` to the baseline (`first`: build it from the snapshot) and times it likewise. */
function timeVanilla(list, frame, first) {
  const start = performance.now();
  const message = JSON.parse(frame);
  const parsed = performance.now();
  if (first) list.reset(message.snapshot);
  else list.apply(message.events);
  const changed = performance.now();
  void document.body.offsetHeight;
  const end = performance.now();
  return {
    total: end - start,
    script: parsed - start,
    update: changed - parsed,
    after: 0,
    layout: end - changed,
  };
}

function elementIds(element) {
  return [...element.shadowRoot.querySelectorAll('[part~="item"]')].map((item) => item.dataset.id);
}

const text = (node) => node.textContent.replace(/\s+/g, ' ').trim();

/**
 * Throws unless the lists show `expected`: the baseline and each element with `virtualize="off"`
 * every record in order, each other element a run of them in order from its first row's
 * `aria-posinset` (all of them when it renders every row). With `texts`, the same row text too.
 */
function check(elements, vanilla, expected, what, texts = false) {
  const want = expected.map((record) => record.id);
  if (vanilla.ids().join() !== want.join()) throw new Error(`${what}: the baseline shows the wrong records`);
  const vanillaTexts = texts ? vanilla.items().map(text) : [];
  for (const element of elements) {
    const ids = elementIds(element);
    const first = element.shadowRoot.querySelector('[part~="item"]');
    const start = Number(first?.getAttribute('aria-posinset') || 1) - 1;
    const off = element.getAttribute('virtualize') === 'off';
    if ((off && ids.length !== want.length) || ids.join() !== want.slice(start, start + ids.length).join()) {
      throw new Error(`${what}: the element${off ? ' (virtualize="off")' : ''} shows the wrong records`);
    }
    if (!texts) continue;
    const shown = [...element.shadowRoot.querySelectorAll('[part~="item"]')].map(text);
    if (shown.join('\n') !== vanillaTexts.slice(start, start + shown.length).join('\n')) {
      throw new Error(`${what}: the element and the baseline show different text`);
    }
  }
}

/** `frame` (a batch for subscription `from`) as the same batch for subscription `to`. */
function forSub(frame, from, to) {
  return frame.replaceAll(`"sub":${JSON.stringify(from)}`, `"sub":${JSON.stringify(to)}`);
}

/** Runs `steps` in an order that turns with `turn`, so no list always goes first. */
async function inTurn(turn, steps) {
  for (let i = 0; i < steps.length; i++) await steps[(i + turn) % steps.length]();
}

function vanillaHost(container) {
  const host = document.createElement('div');
  container.append(host);
  return new VanillaList(host, template(), LOCALE);
}

/**
 * Runs the benchmark: `firstRenders` fresh lists of a `snapshotSize` snapshot each, then one list
 * of `listSize` records taking `warmup` + `batches` batches of `batchSize` events; each for the
 * element, the element with `virtualize="off"` and the baseline. Returns the timings (ms), in
 * measurement order.
 */
async function runListBench({ listSize, snapshotSize, batches, warmup, batchSize, firstRenders }) {
  watchUpdates();
  const stage = document.querySelector('#stage');
  const lists = () => ({ element: [], off: [], vanilla: [] });
  const result = { first: lists(), big: {}, batches: lists() };

  for (let run = 0; run < firstRenders; run++) {
    const workload = createWorkload(snapshotSize, run + 1);
    // The element first in the page, so that its rows are the ones in view.
    const mount = await mountElement(stage);
    const off = await mountElement(stage, true);
    const vanilla = vanillaHost(stage);
    collect();
    await settle();
    await inTurn(run, [
      async () => result.first.element.push(await timeElement(mount, workload.subscribedFrame(mount.sub))),
      async () => result.first.off.push(await timeElement(off, workload.subscribedFrame(off.sub))),
      async () => result.first.vanilla.push(timeVanilla(vanilla, workload.subscribedFrame(mount.sub), true)),
    ]);
    check([mount.element, off.element], vanilla, workload.expected(), `first render ${run + 1}`, run === 0);
    stage.replaceChildren();
    await settle();
  }

  const workload = createWorkload(listSize, 100);
  const mount = await mountElement(stage);
  const off = await mountElement(stage, true);
  const vanilla = vanillaHost(stage);
  collect();
  await settle();
  result.big.element = await timeElement(mount, workload.subscribedFrame(mount.sub));
  result.big.off = await timeElement(off, workload.subscribedFrame(off.sub));
  result.big.vanilla = timeVanilla(vanilla, workload.subscribedFrame(mount.sub), true);
  check([mount.element, off.element], vanilla, workload.expected(), 'snapshot', true);

  for (let batch = 0; batch < warmup + batches; batch++) {
    const frame = workload.batchFrame(mount.sub, batchSize);
    collect();
    await settle();
    const times = {};
    await inTurn(batch, [
      async () => (times.element = await timeElement(mount, frame)),
      async () => (times.off = await timeElement(off, forSub(frame, mount.sub, off.sub))),
      async () => (times.vanilla = timeVanilla(vanilla, frame, false)),
    ]);
    check(
      [mount.element, off.element],
      vanilla,
      workload.expected(),
      `batch ${batch + 1}`,
      batch === warmup + batches - 1,
    );
    if (batch < warmup) continue;
    for (const who of ['element', 'off', 'vanilla']) result.batches[who].push(times[who]);
  }
  result.records = { element: mount.element.records.length, off: elementIds(off.element).length };
  return result;
}

/**
 * Applies `count` batches to a fresh pair of lists for a profiler to watch, each inside a user
 * timing measure (`element batch`, `vanilla batch`) that the trace reports.
 */
async function exerciseBatches({ listSize, batchSize, count }) {
  const stage = document.querySelector('#stage');
  stage.replaceChildren();
  const workload = createWorkload(listSize, 200);
  const mount = await mountElement(stage);
  const vanilla = vanillaHost(stage);
  const snapshot = workload.subscribedFrame(mount.sub);
  await timeElement(mount, snapshot);
  timeVanilla(vanilla, snapshot, true);
  await settle();
  for (let batch = 0; batch < count; batch++) {
    const frame = workload.batchFrame(mount.sub, batchSize);
    await settle();
    performance.mark('element start');
    await timeElement(mount, frame);
    performance.measure('element batch', 'element start');
    await settle();
    performance.mark('vanilla start');
    timeVanilla(vanilla, frame, false);
    performance.measure('vanilla batch', 'vanilla start');
  }
}

window.runListBench = runListBench;
window.exerciseBatches = exerciseBatches;
window.benchReady = true;
