/**
 * The README's element reference: per element, its tag, its summary, and Markdown tables of its
 * attributes, properties without an attribute, events, slots, CSS parts and CSS custom
 * properties (a table only when the element has any).
 */
import { propertiesWithoutAttribute, type ElementDoc } from './manifest.js';

/** A table cell: one line, with `|` escaped (GitHub reads `\|` as a pipe, even inside code). */
function cell(text: string | undefined): string {
  return (text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

/** `text` as inline code, or an empty cell. */
function code(text: string | undefined): string {
  return text === undefined || text === '' ? '' : `\`${cell(text)}\``;
}

/** A titled table; nothing when there are no rows. */
function table(title: string, header: readonly string[], rows: readonly string[][]): string[] {
  if (rows.length === 0) return [];
  return [
    `**${title}**`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
  ];
}

function elementSection(element: ElementDoc): string[] {
  return [
    `### \`<${element.tagName}>\``,
    '',
    cell(element.summary),
    '',
    ...table(
      'Attributes',
      ['Attribute', 'Property', 'Type', 'Default', 'Description'],
      element.attributes.map((attribute) => [
        code(attribute.name),
        code(attribute.fieldName),
        code(attribute.type?.text),
        code(attribute.default),
        cell(attribute.description),
      ]),
    ),
    ...table(
      'Properties (no attribute)',
      ['Property', 'Type', 'Default', 'Description'],
      propertiesWithoutAttribute(element).map((member) => [
        member.readonly ? `${code(member.name)} (read-only)` : code(member.name),
        code(member.type?.text),
        code(member.default),
        cell(member.description),
      ]),
    ),
    ...table(
      'Events',
      ['Event', 'Type', 'Description'],
      element.events.map((event) => [code(event.name), code(event.type?.text), cell(event.description)]),
    ),
    ...table(
      'Slots',
      ['Slot', 'Description'],
      element.slots.map((slot) => [slot.name ? code(slot.name) : '(default)', cell(slot.description)]),
    ),
    ...table(
      'CSS parts',
      ['Part', 'Description'],
      element.cssParts.map((part) => [code(part.name), cell(part.description)]),
    ),
    ...table(
      'CSS custom properties',
      ['Property', 'Description'],
      element.cssProperties.map((property) => [code(property.name), cell(property.description)]),
    ),
  ];
}

/**
 * The reference of `elements` as Markdown, opening with a comment that says where it comes from
 * (so nobody edits it by hand).
 */
export function referenceMarkdown(elements: readonly ElementDoc[]): string {
  return [
    "<!-- Generated from custom-elements.json by scripts/element-docs.ts: edit the elements' JSDoc, then `npm run docs`. -->",
    '',
    ...elements.flatMap(elementSection),
  ]
    .join('\n')
    .trimEnd();
}
