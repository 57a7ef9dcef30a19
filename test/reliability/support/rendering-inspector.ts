/**
 * Looks at what a page's elements rendered from hostile values, inside the page: every element
 * and attribute in the document and in each element's shadow root (markup a value must never
 * become: tags that load or run things, `on…` handlers, `srcdoc`, URLs that are not the page's
 * own), and every bound node's text against the value it shows. Values cross into the page and
 * back as JSON text, so lone surrogates and NULs survive the trip exactly.
 */
import type { Page } from 'playwright-core';
import * as z from 'zod/mini';

/** What the elements should show. */
export type ExpectedRendering = {
  /** Every record the lists show, by id. */
  records: Record<string, Record<string, unknown>>;
  /** Presence members' `meta` by connection id; `self` for the page's own member. */
  members: Record<string, Record<string, unknown>>;
  /** What `#status`'s label says. */
  statusLabel: string;
  /** The hostile values, to check that none is a number or a date to this browser. */
  values: readonly string[];
  /** A field name that is markup: the default rendering must show it as text. */
  fieldName: string;
};

/** What the page showed. */
export const RenderingReportSchema = z.object({
  /** `window.pwned`, set by any payload that ran. */
  pwned: z.nullable(z.string()),
  /** Markup that should not exist, as HTML. */
  injected: z.array(z.string()),
  /** Nodes whose text is not the value they show, or records shown wrongly. */
  mismatches: z.array(z.string()),
  /** Bound nodes compared with their values. */
  checked: z.number(),
  /** Hostile values this browser reads as a number or a date (the test's own precondition). */
  readable: z.array(z.string()),
});
/** What the page showed. */
export type RenderingReport = z.infer<typeof RenderingReportSchema>;

/** Tags a value must never turn into. */
const DANGEROUS = [
  'script:not([src])',
  'img',
  'svg',
  'iframe',
  'object',
  'embed',
  'frame',
  'link',
  'base',
  'form',
  'math',
  'b',
  'style',
].join(', ');

/** Inspects the page (see the module comment). */
export async function inspectRendering(page: Page, expected: ExpectedRendering): Promise<RenderingReport> {
  const text = await page.evaluate(
    ([wantJson, dangerous]) => {
      const want = JSON.parse(wantJson) as ExpectedRendering;
      const report: RenderingReport = {
        pwned: String((window as unknown as { pwned?: unknown }).pwned ?? '') || null,
        injected: [],
        mismatches: [],
        checked: 0,
        readable: want.values.filter(
          (v) => (v.trim() !== '' && Number.isFinite(Number(v))) || Number.isFinite(Date.parse(v)),
        ),
      };
      const hosts = [
        ...document.querySelectorAll(
          'live-connection, live-status, live-record-list, live-record, live-presence',
        ),
      ];
      const scopes: ParentNode[] = [
        document,
        ...hosts.flatMap((host) => (host.shadowRoot ? [host.shadowRoot] : [])),
      ];
      for (const scope of scopes) {
        for (const node of scope.querySelectorAll(dangerous))
          report.injected.push(node.outerHTML.slice(0, 300));
        for (const node of scope.querySelectorAll('*')) {
          for (const { name, value } of node.attributes) {
            const url = ['href', 'src', 'action', 'formaction', 'xlink:href', 'poster'].includes(name);
            if (name.startsWith('on') || name === 'srcdoc' || (url && !/^[#/]/.test(value.trim())))
              report.injected.push(`${node.localName} ${name}="${value.slice(0, 200)}"`);
          }
        }
      }
      const root = (id: string) => document.getElementById(id)?.shadowRoot ?? undefined;
      const valueAt = (record: Record<string, unknown>, path: string) =>
        path
          .split('.')
          .reduce<unknown>(
            (v, key) =>
              v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[key],
            record,
          );
      const shown = (value: unknown) =>
        typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value);
      /** Each `data-field` node of `container` shows its value of `record`, as text only. */
      const checkBound = (
        where: string,
        container: Element | null | undefined,
        record: Record<string, unknown> | undefined,
      ) => {
        if (!container || !record) return report.mismatches.push(`${where}: not rendered`);
        const nodes = [...container.querySelectorAll<HTMLElement>('[data-field]')];
        if (nodes.length === 0) report.mismatches.push(`${where}: no bound nodes`);
        for (const node of nodes) {
          report.checked++;
          const path = node.dataset.field as string;
          const value = shown(valueAt(record, path));
          if (node.textContent !== value || node.childElementCount !== 0)
            report.mismatches.push(
              `${where} ${path} as ${node.dataset.format ?? 'text'}: ${JSON.stringify(node.innerHTML.slice(0, 120))}`,
            );
        }
        for (const anchor of container.querySelectorAll('a'))
          if (anchor.getAttribute('href') !== '#safe')
            report.mismatches.push(`${where}: a link became ${anchor.getAttribute('href')}`);
      };
      /** The default rendering of `container` lists every field of `record` as name and text. */
      const checkFields = (
        where: string,
        container: Element | null | undefined,
        record: Record<string, unknown> | undefined,
      ) => {
        if (!container || !record) return report.mismatches.push(`${where}: not rendered`);
        const fields = new Map(
          [...container.querySelectorAll('[part~="field"]')].map((field) => [
            field.querySelector('[part~="field-name"]')?.textContent?.trim(),
            field.querySelector('[part~="field-value"]')?.textContent ?? '',
          ]),
        );
        for (const [name, value] of Object.entries(record)) {
          report.checked++;
          // A name with a `.` reads as a nested path: only its name is compared.
          const text = name.includes('.') ? fields.get(name) : shown(value);
          if (!fields.has(name) || fields.get(name)?.trim() !== text?.trim())
            report.mismatches.push(
              `${where} field ${JSON.stringify(name)}: ${JSON.stringify(fields.get(name))}`,
            );
        }
      };
      const ids = (scope: ShadowRoot | undefined) =>
        [...(scope?.querySelectorAll<HTMLElement>('[part~="item"]') ?? [])]
          .map((item) => item.dataset.id ?? '')
          .sort();
      const recordIds = Object.keys(want.records).sort();
      for (const list of ['list', 'plain-list']) {
        if (JSON.stringify(ids(root(list))) !== JSON.stringify(recordIds))
          report.mismatches.push(`#${list} shows ${JSON.stringify(ids(root(list)))}`);
      }
      for (const item of root('list')?.querySelectorAll<HTMLElement>('[part~="item"]') ?? [])
        checkBound(`#list item ${item.dataset.id}`, item, want.records[item.dataset.id ?? '']);
      for (const item of root('plain-list')?.querySelectorAll<HTMLElement>('[part~="item"]') ?? [])
        checkFields(`#plain-list item ${item.dataset.id}`, item, want.records[item.dataset.id ?? '']);
      checkBound('#record', root('record')?.querySelector('[part~="record"]'), want.records.h1);
      const plain = root('plain-record')?.querySelector('[part~="fields"]');
      const hostileIdRecord = Object.values(want.records).find(
        (r) => r.id !== 'h1' && typeof r.id === 'string' && r.id.includes('<'),
      );
      checkFields('#plain-record', plain, hostileIdRecord);
      if (!plain?.textContent?.includes(want.fieldName))
        report.mismatches.push('#plain-record: the markup field name is not shown as text');
      const members = [...(root('presence')?.querySelectorAll<HTMLElement>('[part~="item"]') ?? [])];
      if (members.length !== Object.keys(want.members).length)
        report.mismatches.push(
          `#presence shows ${members.length} members, not ${Object.keys(want.members).length}`,
        );
      for (const member of members)
        checkBound(`#presence member`, member, want.members[member.dataset.id ?? ''] ?? want.members.self);
      const label = root('status')?.querySelector('[part~="label"]');
      if (label?.textContent !== want.statusLabel || label.childElementCount !== 0)
        report.mismatches.push(`#status says ${JSON.stringify(label?.innerHTML)}`);
      return JSON.stringify(report);
    },
    [JSON.stringify(expected), DANGEROUS] as const,
  );
  return RenderingReportSchema.parse(JSON.parse(text));
}
