/**
 * Storybook argTypes from custom-elements.json (set in .storybook/preview.ts as
 * `parameters.docs.extractArgTypes`): the docs pages' tables and the Controls panel.
 *
 * Storybook's own mapping keys every entry by its bare name, so a slot, a part and a property
 * with the same name (`loading`, `removed`, …) overwrite one another, and every property becomes
 * a control. Here each attribute is a control under its HTML name (`record-id`), typed from the
 * manifest; each named slot is a text control (`slot-empty`) that fills the slot; each `--live-*`
 * custom property is a control (`--live-color`) applied as an inline style; properties without
 * an attribute, events and parts are documented without a control. `render-elements.ts` turns
 * these args into markup.
 */
import { getCustomElements, type ArgTypes } from '@storybook/web-components-vite';

type ManifestItem = {
  name: string;
  description?: string;
  type?: { text?: string };
  default?: string;
  fieldName?: string;
  kind?: string;
  static?: boolean;
  readonly?: boolean;
};

type ManifestDeclaration = {
  tagName?: string;
  description?: string;
  attributes?: ManifestItem[];
  members?: ManifestItem[];
  events?: ManifestItem[];
  slots?: ManifestItem[];
  cssProperties?: ManifestItem[];
  cssParts?: ManifestItem[];
};

type Manifest = { modules?: { declarations?: ManifestDeclaration[] }[] };

/** The manifest's declaration of `tagName`, if the manifest has it. */
export function declarationOf(tagName: string): ManifestDeclaration | undefined {
  const manifest = getCustomElements() as Manifest | undefined;
  for (const module of manifest?.modules ?? []) {
    for (const declaration of module.declarations ?? []) {
      if (declaration.tagName === tagName) return declaration;
    }
  }
  return undefined;
}

/**
 * A docs page's description (`parameters.docs.description.component`): the element's own, from
 * its class JSDoc in the manifest, then what the stories add.
 */
export function elementDescription(tagName: string, note: string): string {
  return [declarationOf(tagName)?.description, note].filter(Boolean).join('\n\n');
}

/** The arg that fills slot `name` (render-elements.ts reads it). */
const slotArg = (name: string): string => `slot-${name}`;

type Control = ArgTypes[string]['control'];

/**
 * The control for an attribute of this TypeScript type: a checkbox for `boolean`, a number field
 * for `number`, a select for a union of string literals (`'websocket' | undefined`), else text.
 */
function controlFor(type: string | undefined): { control: Control; options?: string[] } {
  if (!type) return { control: { type: 'text' } };
  if (/^boolean( \| undefined)?$/.test(type)) return { control: { type: 'boolean' } };
  if (/^number( \| undefined)?$/.test(type)) return { control: { type: 'number' } };
  const literals = [...type.matchAll(/'([^']*)'/g)].map((match) => match[1] as string);
  if (literals.length > 0 && type.replace(/'[^']*'|undefined|\|/g, '').trim() === '') {
    return { control: { type: 'select' }, options: literals };
  }
  return { control: { type: 'text' } };
}

function entry(item: ManifestItem, category: string, control: Control): ArgTypes[string] {
  return {
    name: item.name,
    description: item.description ?? '',
    control,
    table: {
      category,
      ...(item.type?.text ? { type: { summary: item.type.text } } : {}),
      ...(item.default !== undefined ? { defaultValue: { summary: item.default } } : {}),
    },
  };
}

/** argTypes of `tagName` from the manifest (see the module comment); empty when it is unknown. */
export function manifestArgTypes(tagName: string): ArgTypes {
  const declaration = declarationOf(tagName);
  if (!declaration) return {};
  const argTypes: ArgTypes = {};
  const attributes = declaration.attributes ?? [];
  for (const attribute of attributes) {
    const { control, options } = controlFor(attribute.type?.text);
    argTypes[attribute.name] = {
      ...entry(attribute, 'attributes', control),
      ...(options ? { options } : {}),
    };
  }
  const reflected = new Set(attributes.map((attribute) => attribute.fieldName));
  for (const member of declaration.members ?? []) {
    if (member.kind !== 'field' || member.static || reflected.has(member.name)) continue;
    const item = member.readonly
      ? { ...member, description: `${member.description ?? ''} (read-only)` }
      : member;
    argTypes[member.name] = entry(item, 'properties', false);
  }
  for (const slot of declaration.slots ?? []) {
    if (!slot.name) {
      argTypes['slot-default'] = entry({ ...slot, name: '(default)' }, 'slots', false);
      continue;
    }
    argTypes[slotArg(slot.name)] = entry(slot, 'slots', { type: 'text' });
  }
  for (const property of declaration.cssProperties ?? []) {
    argTypes[property.name] = entry(property, 'css custom properties', {
      type: /color/.test(property.name) ? 'color' : 'text',
    });
  }
  for (const part of declaration.cssParts ?? []) {
    argTypes[`part-${part.name}`] = entry(part, 'css shadow parts', false);
  }
  for (const event of declaration.events ?? []) {
    argTypes[`event-${event.name}`] = entry(event, 'events', false);
  }
  return argTypes;
}
