/**
 * Record values that try to become markup or code when a page shows them: tags with handlers,
 * attribute and tag breakouts, `javascript:` and `data:` URLs, template-literal and moustache
 * text, Lit's own markers, entities, and odd Unicode. Each one that ever ran would set
 * `window.pwned`. Every value is neither a number nor a date to `Number`/`Date.parse`, so every
 * `data-format` must show it exactly as it is.
 */
import { ODD_STRINGS } from './hostile-json.js';

/** Values a script could run from, by name; each sets `window.pwned` to its name if it runs. */
const MARKUP: Readonly<Record<string, string>> = {
  img: `<img src=x onerror="window.pwned='img'">`,
  script: `"><script>window.pwned='script'</script>`,
  svg: `<svg onload="window.pwned='svg'"><circle r="1"></circle></svg>`,
  iframe: `<iframe srcdoc="<script>parent.pwned='iframe'</script>"></iframe>`,
  attribute: `" autofocus onfocus="window.pwned='attribute'" x="`,
  singleQuote: `' onmouseover='window.pwned="single-quote"' x='`,
  javascriptUrl: `javascript:window.pwned='javascript-url'`,
  dataUrl: `data:text/html,<script>parent.pwned='data-url'</script>`,
  templateLiteral: '${window.pwned="template-literal"}',
  moustache: `{{constructor.constructor("window.pwned='moustache'")()}}`,
  litMarker: '<!--?lit$1234567$-->lit$1234567$<?lit$1234567$>',
  entities: '&lt;img src=x onerror=&quot;window.pwned=&apos;entities&apos;&quot;&gt;',
  style: '</style><style>*{display:none}</style><b onmouseover="window.pwned=\'style\'">b</b>',
  comment: '--><img src=x onerror="window.pwned=\'comment\'"><!--',
};

/** Whether a formatter could read `value` as a number or a date (then it would not show it as is). */
function readable(value: string): boolean {
  return (value.trim() !== '' && Number.isFinite(Number(value))) || Number.isFinite(Date.parse(value));
}

/** Every hostile value: the markup ones, the odd strings one by one (those no formatter reads), and all of them in one. */
export const HOSTILE_VALUES: readonly string[] = [
  ...Object.values(MARKUP),
  ...ODD_STRINGS.filter((s) => !readable(s)),
  ODD_STRINGS.join(' '),
];

/** A record id that is markup too. */
export const HOSTILE_ID = `"><img src=x onerror="window.pwned='id'">`;

/** A field name that is markup (no `.`: one path segment). */
export const HOSTILE_FIELD_NAME = `<b onmouseover="pwned='field-name'">field</b>`;

/** Every `data-format` of elements/shared/format-value.ts, none, and two it does not know. */
export const FORMATS: readonly string[] = [
  '',
  'number',
  'integer',
  'percent',
  'currency:EUR',
  'date',
  'datetime',
  'time',
  'relative',
  `currency:<img src=x onerror="window.pwned='format'">`,
  'nonsense',
];

/** The field paths of a hostile record that carry values: `v0`…, and two nested ones. */
export function hostileFields(): string[] {
  return [...HOSTILE_VALUES.map((_, i) => `v${i}`), 'nested.deep.v', 'list.0'];
}

/**
 * A record whose every field is a hostile value, the values rotated by `shift` (so an update
 * changes every field); `status: hostile` is what the pages' lists select.
 */
export function hostileRecord(id: string, shift = 0): Record<string, unknown> {
  const at = (i: number) => HOSTILE_VALUES[(i + shift) % HOSTILE_VALUES.length] as string;
  const record: Record<string, unknown> = { id, status: 'hostile' };
  HOSTILE_VALUES.forEach((_, i) => (record[`v${i}`] = at(i)));
  record.nested = { deep: { v: at(1) } };
  record.list = [at(2)];
  record[HOSTILE_FIELD_NAME] = at(3);
  return record;
}

/** HTML attribute text. */
export function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A `<template>` that binds each of `paths` in every format, plus an `<a href="#safe">` bound to
 * `javascriptPath` (its `href` must stay `#safe`).
 */
export function bindingTemplate(paths: readonly string[], javascriptPath: string): string {
  const spans = paths.flatMap((path) =>
    FORMATS.map(
      (format) => `<span data-field="${attr(path)}"${format ? ` data-format="${attr(format)}"` : ''}></span>`,
    ),
  );
  return `<template><div>${spans.join('')}<a href="#safe" data-field="${attr(javascriptPath)}"></a></div></template>`;
}

/** The path of the field that holds the `javascript:` URL in `hostileRecord(id, 0)`. */
export const JAVASCRIPT_URL_PATH = `v${Object.keys(MARKUP).indexOf('javascriptUrl')}`;
