/**
 * Markup of each element from a story's args, as `manifest-arg-types.ts` names them: every
 * attribute under its HTML name (an empty text control leaves the attribute out), `slot-<name>`
 * as that slot's content, and `--live-*` custom properties as an inline style. Stories pass what
 * goes inside (a `<template>`, children) as `content`.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { ItemRenderer, StatusLabels } from '../../elements/index.js';
import type { StoryMock } from './mock-setup.js';

/** A story's args: attribute names, `slot-…` and `--live-…` keys. */
export type ElementArgs = Record<string, unknown>;

/** An attribute value from an arg: text and numbers as text; empty, `null` and unset leave it out. */
function value(args: ElementArgs, name: string): string | undefined {
  const arg = args[name];
  if (arg === undefined || arg === null || arg === '') return undefined;
  if (typeof arg === 'number') return Number.isFinite(arg) ? String(arg) : undefined;
  return typeof arg === 'string' ? arg : JSON.stringify(arg);
}

/** The inline style setting every `--live-*` arg that has a value. */
function customProperties(args: ElementArgs): string | undefined {
  const declarations = Object.entries(args)
    .filter(([name, arg]) => name.startsWith('--') && typeof arg === 'string' && arg !== '')
    .map(([name, arg]) => `${name}: ${String(arg)}`);
  return declarations.length > 0 ? declarations.join('; ') : undefined;
}

/** A `<span slot=…>` for each named slot arg with text. */
function slots(args: ElementArgs, names: readonly string[]): TemplateResult[] {
  return names.flatMap((name) => {
    const text = value(args, `slot-${name}`);
    return text === undefined ? [] : [html`<span slot=${name}>${text}</span>`];
  });
}

/** `<live-record-list>` with the attributes, slots and custom properties of `args` (and `renderItem`). */
export function recordList(
  args: ElementArgs,
  content: unknown = nothing,
  renderItem?: ItemRenderer,
): TemplateResult {
  return html`<live-record-list
    .renderItem=${renderItem}
    object=${ifDefined(value(args, 'object'))}
    where=${ifDefined(value(args, 'where'))}
    sort=${ifDefined(value(args, 'sort'))}
    fields=${ifDefined(value(args, 'fields'))}
    limit=${ifDefined(value(args, 'limit'))}
    operations=${ifDefined(value(args, 'operations'))}
    url=${ifDefined(value(args, 'url'))}
    api-key=${ifDefined(value(args, 'api-key'))}
    locale=${ifDefined(value(args, 'locale'))}
    ?announce=${args.announce === true}
    highlight=${ifDefined(value(args, 'highlight'))}
    style=${ifDefined(customProperties(args))}
    >${content}${slots(args, ['loading', 'empty', 'error'])}</live-record-list
  >`;
}

/** `<live-record>` with the attributes, slots and custom properties of `args`. */
export function record(args: ElementArgs, content: unknown = nothing): TemplateResult {
  return html`<live-record
    object=${ifDefined(value(args, 'object'))}
    record-id=${ifDefined(value(args, 'record-id'))}
    fields=${ifDefined(value(args, 'fields'))}
    url=${ifDefined(value(args, 'url'))}
    api-key=${ifDefined(value(args, 'api-key'))}
    locale=${ifDefined(value(args, 'locale'))}
    ?announce=${args.announce === true}
    highlight=${ifDefined(value(args, 'highlight'))}
    style=${ifDefined(customProperties(args))}
    >${content}${slots(args, ['loading', 'empty', 'removed', 'error'])}</live-record
  >`;
}

/** `<live-status>` with the attributes and custom properties of `args` (and translated `labels`). */
export function status(args: ElementArgs, labels: Partial<StatusLabels> = {}): TemplateResult {
  return html`<live-status
    .labels=${labels}
    url=${ifDefined(value(args, 'url'))}
    api-key=${ifDefined(value(args, 'api-key'))}
    style=${ifDefined(customProperties(args))}
  ></live-status>`;
}

/**
 * `<live-connection>` to the story's mock around `content`; `args.url` and `args['api-key']`,
 * when set, win (point a story at a running dev server, or try a wrong key).
 */
export function connection(mock: StoryMock, content: unknown, args: ElementArgs = {}): TemplateResult {
  return html`<live-connection
    url=${value(args, 'url') ?? mock.baseUrl}
    api-key=${value(args, 'api-key') ?? mock.apiKey}
    transport=${ifDefined(value(args, 'transport'))}
    >${content}</live-connection
  >`;
}
