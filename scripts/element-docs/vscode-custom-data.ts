/**
 * VS Code's HTML custom data (version 1.1; vscode-html-languageservice docs/customData.md): with
 * `"html.customData": ["./node_modules/catalyst-elements/dist/vscode.html-custom-data.json"]` in a
 * project's settings, VS Code completes the elements' tags, attributes and enumerated values and
 * shows their descriptions on hover.
 */
import { attributeMarkdown, elementDescription } from './element-markdown.js';
import {
  attributeValues,
  isBooleanAttribute,
  propertiesWithoutAttribute,
  type ElementDoc,
  type ManifestItem,
} from './manifest.js';

type Markup = { kind: 'markdown'; value: string };

/** One attribute of a tag. `valueSet: 'v'` is VS Code's built-in set of a value-less attribute. */
export type CustomDataAttribute = {
  name: string;
  description: Markup;
  values?: { name: string }[];
  valueSet?: 'v';
};

/** The file's content. */
export type VscodeCustomData = {
  version: 1.1;
  tags: { name: string; description: Markup; attributes: CustomDataAttribute[] }[];
};

const markdown = (value: string): Markup => ({ kind: 'markdown', value });

/** A titled list of `name`: description lines; nothing when there are no items. */
function list(title: string, items: readonly ManifestItem[]): string[] {
  if (items.length === 0) return [];
  return [
    `**${title}**`,
    '',
    ...items.map((item) => `- \`${item.name || '(default)'}\`: ${item.description}`),
    '',
  ];
}

/**
 * A tag's hover text: its description, then its properties, events, slots, parts and custom
 * properties, which VS Code's data has no other place for.
 */
function tagMarkdown(element: ElementDoc): string {
  return [
    `${elementDescription(element)}\n`,
    ...list('Properties', propertiesWithoutAttribute(element)),
    ...list('Events', element.events),
    ...list('Slots', element.slots),
    ...list('CSS parts', element.cssParts),
    ...list('CSS custom properties', element.cssProperties),
  ]
    .join('\n')
    .trim();
}

/** The custom data of `elements`. */
export function vscodeCustomData(elements: readonly ElementDoc[]): VscodeCustomData {
  return {
    version: 1.1,
    tags: elements.map((element) => ({
      name: element.tagName,
      description: markdown(tagMarkdown(element)),
      attributes: element.attributes.map((attribute) => {
        const entry: CustomDataAttribute = {
          name: attribute.name,
          description: markdown(attributeMarkdown(attribute)),
        };
        const enumerated = attributeValues(attribute);
        if (enumerated) entry.values = enumerated.values.map((name) => ({ name }));
        else if (isBooleanAttribute(attribute)) entry.valueSet = 'v';
        return entry;
      }),
    })),
  };
}
