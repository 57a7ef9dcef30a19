// The list benchmark, run inside the page: `<live-record-list>` (the script-tag bundle) and the
// hand-written `VanillaList` get the same frames from the scripted server, one after the other,
// and each is timed from the frame's arrival to the DOM settled.
//
// "Arrived" is the moment the frame's `message` event is dispatched (the element) or its text
// handed over (the baseline); "settled" is the element's `live-change` (fired once the batch is
// rendered) or the end of the baseline's DOM work, each followed by a forced layout
// (`document.body.offsetHeight`): style and layout included, paint not. All of it is one task, so
// nothing else runs in between. Each timing is split into phases: script until the element's
// update starts (parse, validate, apply to the record window), the update (render and DOM
// commit), the rest up to `live-change`, and the forced layout.
/* global window, document, customElements */

import { VanillaList } from './vanilla-list.js';
import { createWorkload } from './workload.js';

const LOCALE = 'en';
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Collects garbage between measurements when Chromium allows it (`--js-flags=--expose-gc`). */
const collect = () => window.gc?.();

/** Marks when the element's update (render and commit) starts and ends. */
const updates = { start: 0, end: 0 };
let watching = false;
function watchUpdates() {
  if (watching) return;
  watching = true;
  const Element = customElements.get('live-record-list');
  const performUpdate = Element.prototype.performUpdate;
  Element.prototype.performUpdate = function timedUpdate() {
    updates.start = performance.now();
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

/** A `<live-record-list>` sorted by price, using the page's row template; resolves with its subscribe message. */
async function mountElement(container) {
  const element = document.createElement('live-record-list');
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

/** Delivers `frame` to the element and times it until `live-change` and a forced layout. */
function timeElement({ element, socket }, frame) {
  return new Promise((resolve, reject) => {
    let start = 0;
    let sameTask = true;
    element.addEventListener(
      'live-change',
      () => {
        const changed = performance.now();
        if (!sameTask || updates.end === 0) {
          reject(new Error('the element did not render the frame in the task that delivered it'));
          return;
        }
        void document.body.offsetHeight;
        const end = performance.now();
        resolve({
          total: end - start,
          script: updates.start - start,
          update: updates.end - updates.start,
          after: changed - updates.end,
          layout: end - changed,
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
  return [...element.shadowRoot.querySelectorAll('li')].map((item) => item.dataset.id);
}

const text = (node) => node.textContent.replace(/\s+/g, ' ').trim();

/** Throws unless both lists show exactly `expected` (ids in order; with `texts`, the same row text). */
function check(element, vanilla, expected, what, texts = false) {
  const want = expected.map((record) => record.id).join();
  if (elementIds(element).join() !== want) throw new Error(`${what}: the element shows the wrong records`);
  if (vanilla.ids().join() !== want) throw new Error(`${what}: the baseline shows the wrong records`);
  if (!texts) return;
  const shown = [...element.shadowRoot.querySelectorAll('li')].map(text).join('\n');
  if (shown !== vanilla.items().map(text).join('\n')) {
    throw new Error(`${what}: the element and the baseline show different text`);
  }
}

function vanillaHost(container) {
  const host = document.createElement('div');
  container.append(host);
  return new VanillaList(host, template(), LOCALE);
}

/**
 * Runs the benchmark: `firstRenders` fresh lists of a `snapshotSize` snapshot each, then one list
 * of `listSize` records taking `warmup` + `batches` batches of `batchSize` events. Returns the
 * timings of both lists (ms), in measurement order.
 */
async function runListBench({ listSize, snapshotSize, batches, warmup, batchSize, firstRenders }) {
  watchUpdates();
  const stage = document.querySelector('#stage');
  const result = { first: { element: [], vanilla: [] }, big: {}, batches: { element: [], vanilla: [] } };

  for (let run = 0; run < firstRenders; run++) {
    const workload = createWorkload(snapshotSize, run + 1);
    const mount = await mountElement(stage);
    const vanilla = vanillaHost(stage);
    collect();
    await settle();
    const frame = workload.subscribedFrame(mount.sub);
    // Alternate who goes first, so neither always pays for the other's garbage.
    const elementFirst = run % 2 === 0;
    if (!elementFirst) result.first.vanilla.push(timeVanilla(vanilla, frame, true));
    result.first.element.push(await timeElement(mount, frame));
    if (elementFirst) result.first.vanilla.push(timeVanilla(vanilla, frame, true));
    check(mount.element, vanilla, workload.expected(), `first render ${run + 1}`, run === 0);
    stage.replaceChildren();
    await settle();
  }

  const workload = createWorkload(listSize, 100);
  const mount = await mountElement(stage);
  const vanilla = vanillaHost(stage);
  const snapshot = workload.subscribedFrame(mount.sub);
  result.big.element = await timeElement(mount, snapshot);
  result.big.vanilla = timeVanilla(vanilla, snapshot, true);
  check(mount.element, vanilla, workload.expected(), 'snapshot', true);

  for (let batch = 0; batch < warmup + batches; batch++) {
    const frame = workload.batchFrame(mount.sub, batchSize);
    collect();
    await settle();
    const elementFirst = batch % 2 === 0;
    let vanillaTime;
    if (!elementFirst) vanillaTime = timeVanilla(vanilla, frame, false);
    const elementTime = await timeElement(mount, frame);
    if (elementFirst) vanillaTime = timeVanilla(vanilla, frame, false);
    check(mount.element, vanilla, workload.expected(), `batch ${batch + 1}`, batch === warmup + batches - 1);
    if (batch < warmup) continue;
    result.batches.element.push(elementTime);
    result.batches.vanilla.push(vanillaTime);
  }
  result.shown = elementIds(mount.element).length;
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
