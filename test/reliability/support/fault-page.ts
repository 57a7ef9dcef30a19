/**
 * The page the fault test opens in Chromium, served by the CLI with `--static` beside the
 * script-tag build: two `<live-record-list>`s (one with a `where` on status, one without) and a
 * `<live-status>` in a `<live-connection url="/">`, plus, on the same connection through the
 * bundle's `connect`, the subscriptions of fault-subscriptions.ts, each keeping a trace of every
 * `subscribed` and event seq (the shape of subscription-trace.ts).
 *
 * `?key=` names the API key. Tabs of one browser context share one connection (the default
 * `share: 'tabs'`); a context of its own gives a tab a connection of its own. The page's own
 * `connect()` runs before the elements exist, so the connection they share gets its short backoff
 * (50–500 ms): the default (1–30 s) would leave a page minutes behind after ten crashes.
 *
 * The script is plain JavaScript: it is served as it is, with no build step.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import * as z from 'zod/mini';
import { PENDING, faultSubscriptions } from './fault-subscriptions.js';
import { SubscriptionTraceSchema } from './subscription-trace.js';

const HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Faults</title>
    <script type="module" src="/faults.js"></script>
  </head>
  <body>
    <template id="app">
      <live-connection url="/">
        <live-status></live-status>
        <live-record-list id="pending" object="orders" where='${JSON.stringify(PENDING)}' limit="1000">
          <template><span data-field="n"></span></template>
        </live-record-list>
        <live-record-list id="all" object="orders" limit="1000">
          <template><span data-field="n"></span></template>
        </live-record-list>
      </live-connection>
    </template>
  </body>
</html>
`;

const script = (topic: string) => `import { connect } from '/catalyst-elements.js';

const params = new URLSearchParams(location.search);
const apiKey = params.get('key');
const connection = connect({ url: location.origin, apiKey, backoff: { minMs: 50, maxMs: 500, factor: 2 } });

const traces = {};
const follow = (name, request) => {
  const trace = { subscribed: [], seqs: [], errors: [] };
  traces[name] = trace;
  connection.subscribe(request, {
    onSubscribed: (message) =>
      trace.subscribed.push({
        seq: message.seq,
        ...(message.resumed === undefined ? {} : { resumed: message.resumed }),
        after: trace.seqs.length,
      }),
    onEvents: (events) => events.forEach((event) => trace.seqs.push(event.seq)),
    onError: (error) => trace.errors.push(error.name + ': ' + error.message),
  });
};
Object.entries(${JSON.stringify(faultSubscriptions(topic))}).forEach(([name, request]) => follow(name, request));

const app = document.getElementById('app').content.cloneNode(true);
app.querySelector('live-connection').setAttribute('api-key', apiKey);
document.body.append(app);

globalThis.faultReport = () =>
  JSON.stringify({
    traces,
    lists: Object.fromEntries(
      [...document.querySelectorAll('live-record-list')].map((list) => [
        list.id,
        list.records.map((record) => record.id + ':' + record.n).sort(),
      ]),
    ),
    status: document.querySelector('live-status').getAttribute('state'),
  });
`;

/** Writes the page (`faults.html`) and its script, subscribed to `topic`, into `dir` (for `--static dir`). */
export function writeFaultPage(dir: string, topic: string): void {
  writeFileSync(join(dir, 'faults.html'), HTML);
  writeFileSync(join(dir, 'faults.js'), script(topic));
}

/** What a fault page reports. */
export const FaultPageReportSchema = z.object({
  /** The page's own subscriptions: `pending`, `all`, `events`. */
  traces: z.record(z.string(), SubscriptionTraceSchema),
  /** Each list's records as `id:n`, sorted: `pending` and `all`. */
  lists: z.record(z.string(), z.array(z.string())),
  /** The `<live-status>`'s `state` attribute. */
  status: z.nullable(z.string()),
});
/** What a fault page reports. */
export type FaultPageReport = z.infer<typeof FaultPageReportSchema>;

/** Reads a fault page's report (undefined until its script has run). */
export async function readFaultPage(page: Page): Promise<FaultPageReport | undefined> {
  const text = await page.evaluate('globalThis.faultReport?.()');
  return typeof text === 'string' ? FaultPageReportSchema.parse(JSON.parse(text)) : undefined;
}
