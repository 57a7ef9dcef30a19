/**
 * JetBrains web-types (https://json.schemastore.org/web-types): the `"web-types"` entry of
 * package.json points WebStorm and the other JetBrains IDEs here, so they complete the elements,
 * their attributes and values, slots, events, properties, CSS parts and custom properties in any
 * HTML, whatever the framework (no `framework` key: plain HTML contributions).
 */
import { attributeMarkdown, elementDescription } from './element-markdown.js';
import {
  attributeValues,
  isBooleanAttribute,
  type ElementDoc,
  type ManifestAttribute,
  type ManifestItem,
} from './manifest.js';

/** A symbol with a description (a slot, an event, a part, a value, …). */
type Contribution = { name: string; description?: string };

/** How an attribute's value is written: none (boolean), or plain text of a type. */
type AttributeValue = { kind: 'no-value' | 'plain'; type: string; required: false };

/** One attribute; `values` are the ones editors offer (and, for an `enum`, the only valid ones). */
export type WebTypesAttribute = Contribution & {
  value: AttributeValue;
  default?: string;
  values?: Contribution[];
};

/** One element. */
export type WebTypesElement = Contribution & {
  attributes: WebTypesAttribute[];
  slots: Contribution[];
  js: {
    properties: (Contribution & { type?: string; default?: string; 'read-only'?: boolean })[];
    events: Contribution[];
  };
  css: { parts: Contribution[]; properties: Contribution[] };
};

/** The file's content. */
export type WebTypes = {
  $schema: 'https://json.schemastore.org/web-types';
  name: string;
  version: string;
  'description-markup': 'markdown';
  'js-types-syntax': 'typescript';
  contributions: { html: { elements: WebTypesElement[] } };
};

const contribution = (item: ManifestItem): Contribution =>
  item.description ? { name: item.name, description: item.description } : { name: item.name };

/** An HTML value type: what the attribute's text is, as the IDE checks it. */
function attributeValue(attribute: ManifestAttribute): AttributeValue {
  const enumerated = attributeValues(attribute);
  // A single value from a set is checked against it; a comma-separated list of them is text.
  if (enumerated) return { kind: 'plain', type: enumerated.list ? 'string' : 'enum', required: false };
  if (isBooleanAttribute(attribute)) return { kind: 'no-value', type: 'boolean', required: false };
  const number = /^number( \| undefined)?$/.test(attribute.type?.text ?? '');
  return { kind: 'plain', type: number ? 'number' : 'string', required: false };
}

function webTypesAttribute(attribute: ManifestAttribute): WebTypesAttribute {
  const entry: WebTypesAttribute = {
    name: attribute.name,
    description: attributeMarkdown(attribute),
    value: attributeValue(attribute),
  };
  if (attribute.default !== undefined) entry.default = attribute.default;
  const enumerated = attributeValues(attribute);
  if (enumerated) entry.values = enumerated.values.map((name) => ({ name }));
  return entry;
}

/** The web-types of `elements`, published as package `name` at `version`. */
export function webTypes(
  elements: readonly ElementDoc[],
  { name, version }: { name: string; version: string },
): WebTypes {
  return {
    $schema: 'https://json.schemastore.org/web-types',
    name,
    version,
    'description-markup': 'markdown',
    'js-types-syntax': 'typescript',
    contributions: {
      html: {
        elements: elements.map((element) => ({
          name: element.tagName,
          description: elementDescription(element),
          attributes: element.attributes.map(webTypesAttribute),
          // The default slot has no name to write in `slot="…"`.
          slots: element.slots.filter((slot) => slot.name).map(contribution),
          js: {
            properties: element.members
              .filter((member) => member.kind === 'field' && !member.static)
              .map((member) => ({
                ...contribution(member),
                ...(member.type ? { type: member.type.text } : {}),
                ...(member.default !== undefined ? { default: member.default } : {}),
                ...(member.readonly ? { 'read-only': true } : {}),
              })),
            events: element.events.map(contribution),
          },
          css: {
            parts: element.cssParts.map(contribution),
            properties: element.cssProperties.map(contribution),
          },
        })),
      },
    },
  };
}
