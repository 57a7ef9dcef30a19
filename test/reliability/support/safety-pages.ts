/**
 * The pages of the browser-safety test, written into a directory the CLI serves with `--static`
 * beside the script-tag build. Plain HTML, as a landing-page author writes it, with no script of
 * their own:
 *
 * - `hostile.html`: every element, with and without templates that bind hostile fields in every
 *   `data-format`, plus elements given hostile attributes (a `javascript:` connection URL, a
 *   markup key, a markup object name). No Content-Security-Policy, so anything injected would run.
 * - `csp.html`: the same live elements, and a list of more records than the list renders at once
 *   (it virtualizes), under `default-src 'self'; script-src 'self'; style-src 'self'` — no
 *   `unsafe-inline`, no `unsafe-eval` — with `connect-src` allowing only the page's own server.
 * - `csp-iife.html`: the classic-script build under the same policy.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTILE_ID, JAVASCRIPT_URL_PATH, attr, bindingTemplate, hostileFields } from './hostile-values.js';

/** The room the pages' `<live-presence>` joins. */
export const ROOM = 'lobby';
/** The `status` of the bulk records the CSP page's second list shows. */
export const BULK = 'bulk';

/** What the pages need to know. */
export type SafetyPageOptions = {
  /** The server's port: the policy's `connect-src` names it. */
  port: number;
  /** The publishable key the pages use. */
  key: string;
  /** This page's own presence `meta` (JSON text). */
  meta: string;
};

const recordTemplate = () => bindingTemplate(hostileFields(), JAVASCRIPT_URL_PATH);
const memberTemplate = () => bindingTemplate(['name', 'note'], 'name');

/** The live elements both the hostile and the CSP page hold, in one `<live-connection>`. */
function liveElements({ key, meta }: SafetyPageOptions): string {
  const hostile = attr(JSON.stringify({ status: 'hostile' }));
  return `<live-connection url="/" api-key="${attr(key)}">
      <live-status id="status"></live-status>
      <live-record-list id="list" object="orders" where="${hostile}" locale="en-US">${recordTemplate()}</live-record-list>
      <live-record-list id="plain-list" object="orders" where="${hostile}"></live-record-list>
      <live-record id="record" object="orders" record-id="h1" locale="en-US">${recordTemplate()}</live-record>
      <live-record id="plain-record" object="orders" record-id="${attr(HOSTILE_ID)}"></live-record>
      <live-presence id="presence" room="${ROOM}" meta="${attr(meta)}" locale="en-US">${memberTemplate()}</live-presence>
    </live-connection>`;
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    ${head}
    <title>${title}</title>
  </head>
  <body>
    ${body}
  </body>
</html>
`;
}

/** The strict policy, as a `<meta>`. */
function policy(port: number): string {
  const csp = `default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws://127.0.0.1:${port}`;
  return `<meta http-equiv="Content-Security-Policy" content="${csp}" />`;
}

/** Writes the three pages into `dir`, and an empty icon (a missing one is a console error). */
export function writeSafetyPages(dir: string, options: SafetyPageOptions): void {
  writeFileSync(join(dir, 'favicon.ico'), '');
  const module = '<script type="module" src="/catalyst-elements.js"></script>';
  const hostileAttributes = `<live-connection url="javascript:window.pwned='connection-url'" api-key="${attr(`"><img src=x onerror="window.pwned='key'">`)}">
      <live-status id="bad-status"></live-status>
      <live-record-list id="bad-list" object="orders"></live-record-list>
    </live-connection>
    <live-record-list id="bad-object" url="/" api-key="${attr(options.key)}" object="${attr(`<img src=x onerror="window.pwned='object'">`)}"></live-record-list>
    <live-record-list id="bad-where" url="/" api-key="${attr(options.key)}" object="orders" where="${attr(`{"<img src=x onerror=pwned=1>":{"$<script>":1}}`)}"></live-record-list>`;
  writeFileSync(
    join(dir, 'hostile.html'),
    page('Hostile values', module, `${liveElements(options)}\n    ${hostileAttributes}`),
  );
  const bulk = `<live-record-list id="bulk" object="orders" where="${attr(JSON.stringify({ status: BULK }))}" sort="title" locale="en-US">
        <template><p><span data-field="title"></span> <time data-field="createdAt" data-format="relative"></time> <span data-field="total" data-format="currency:EUR"></span></p></template>
      </live-record-list>`;
  writeFileSync(
    join(dir, 'csp.html'),
    page(
      'Strict CSP',
      `${policy(options.port)}\n    ${module}`,
      `${liveElements(options)}\n    <live-connection url="/" api-key="${attr(options.key)}">${bulk}</live-connection>`,
    ),
  );
  writeFileSync(
    join(dir, 'csp-iife.html'),
    page(
      'Strict CSP, classic script',
      `${policy(options.port)}\n    <script src="/catalyst-elements.iife.js" defer></script>`,
      `<live-connection url="/" api-key="${attr(options.key)}">
      <live-status id="status"></live-status>
      <live-record-list id="list" object="orders" where="${attr(JSON.stringify({ status: BULK }))}" limit="5"></live-record-list>
    </live-connection>`,
    ),
  );
}
