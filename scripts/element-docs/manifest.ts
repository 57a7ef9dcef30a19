/**
 * The part of custom-elements.json (the custom elements manifest, schema 1.x) the element docs
 * read, as zod schemas: the custom elements with their attributes, properties, events, slots,
 * CSS parts and CSS custom properties. Everything else in the manifest is let through unread.
 */
import * as z from 'zod/mini';
import { DocsError } from './docs-error.js';

const TypeSchema = z.looseObject({ text: z.string() });

const ItemSchema = z.looseObject({
  name: z.string(),
  description: z.optional(z.string()),
  type: z.optional(TypeSchema),
  default: z.optional(z.string()),
});

const AttributeSchema = z.extend(ItemSchema, { fieldName: z.optional(z.string()) });

const MemberSchema = z.extend(ItemSchema, {
  kind: z.string(),
  attribute: z.optional(z.string()),
  readonly: z.optional(z.boolean()),
  static: z.optional(z.boolean()),
});

const DeclarationSchema = z.looseObject({
  kind: z.string(),
  name: z.string(),
  customElement: z.optional(z.boolean()),
  tagName: z.optional(z.string()),
  summary: z.optional(z.string()),
  description: z.optional(z.string()),
  attributes: z.optional(z.array(AttributeSchema)),
  members: z.optional(z.array(MemberSchema)),
  events: z.optional(z.array(ItemSchema)),
  slots: z.optional(z.array(ItemSchema)),
  cssParts: z.optional(z.array(ItemSchema)),
  cssProperties: z.optional(z.array(ItemSchema)),
});

const ManifestSchema = z.looseObject({
  schemaVersion: z.string(),
  modules: z.array(z.looseObject({ path: z.string(), declarations: z.optional(z.array(DeclarationSchema)) })),
});

/** An entry of the manifest with a name and a description: an event, a slot, a part, … */
export type ManifestItem = z.infer<typeof ItemSchema>;
/** An attribute; `fieldName` is the property it sets. */
export type ManifestAttribute = z.infer<typeof AttributeSchema>;
/** A field or method; `attribute` is the attribute that sets it, if any. */
export type ManifestMember = z.infer<typeof MemberSchema>;

/** A custom element of the manifest, every list present (empty when the manifest has none). */
export type ElementDoc = {
  tagName: string;
  summary: string | undefined;
  description: string | undefined;
  attributes: ManifestAttribute[];
  members: ManifestMember[];
  events: ManifestItem[];
  slots: ManifestItem[];
  cssParts: ManifestItem[];
  cssProperties: ManifestItem[];
};

/**
 * The custom elements declared in a manifest's text, sorted by tag name. Throws a `DocsError`
 * when the text is not a manifest or declares no custom element.
 */
export function readElements(manifestText: string, fileName = 'custom-elements.json'): ElementDoc[] {
  let value: unknown;
  try {
    value = JSON.parse(manifestText);
  } catch (error) {
    throw new DocsError(`${fileName} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new DocsError(
      `${fileName} is not a custom elements manifest (${where}${issue?.message ?? 'invalid'})`,
    );
  }
  const elements = parsed.data.modules
    .flatMap((module) => module.declarations ?? [])
    .flatMap((declaration) =>
      declaration.customElement && declaration.tagName
        ? [
            {
              tagName: declaration.tagName,
              summary: declaration.summary,
              description: declaration.description,
              attributes: declaration.attributes ?? [],
              members: declaration.members ?? [],
              events: declaration.events ?? [],
              slots: declaration.slots ?? [],
              cssParts: declaration.cssParts ?? [],
              cssProperties: declaration.cssProperties ?? [],
            },
          ]
        : [],
    )
    .sort((a, b) => (a.tagName < b.tagName ? -1 : 1));
  if (elements.length === 0) {
    throw new DocsError(`${fileName} declares no custom element: run \`npm run manifest\` first`);
  }
  return elements;
}

/** The public fields no attribute sets (`renderItem`, `records`): set or read from JavaScript. */
export function propertiesWithoutAttribute(element: ElementDoc): ManifestMember[] {
  return element.members.filter((member) => member.kind === 'field' && !member.static && !member.attribute);
}

/**
 * The values an attribute takes, when its type is a union of string literals
 * (`'websocket' | undefined`) or a list of them (`('create' | 'update' | 'delete')[]`, written
 * comma-separated); `undefined` for any other type.
 */
export function attributeValues(
  attribute: ManifestAttribute,
): { values: string[]; list: boolean } | undefined {
  const text = attribute.type?.text ?? '';
  const values = [...text.matchAll(/'([^']*)'|"([^"]*)"/g)].map((match) => match[1] ?? match[2] ?? '');
  const rest = text.replace(/'[^']*'|"[^"]*"|\bundefined\b|\bnull\b|\breadonly\b|[|()[\]\s]/g, '');
  if (values.length === 0 || rest !== '') return undefined;
  return { values, list: text.includes('[]') };
}

/** Whether an attribute is a boolean one (present means true). */
export function isBooleanAttribute(attribute: ManifestAttribute): boolean {
  return /^boolean( \| undefined)?$/.test(attribute.type?.text ?? '');
}

/**
 * What the manifest leaves undocumented, one line each (`live-status: event live-status has no
 * description`): the element's summary and every attribute, property, event, slot, part and CSS
 * custom property need a description.
 */
export function missingDescriptions(elements: readonly ElementDoc[]): string[] {
  return elements.flatMap((element) => {
    const missing: string[] = [];
    if (!element.summary?.trim()) missing.push('the class JSDoc has no @summary');
    const check = (kind: string, items: readonly ManifestItem[]) => {
      for (const item of items) {
        if (!item.description?.trim()) missing.push(`${kind} ${item.name || '(default)'} has no description`);
      }
    };
    check('attribute', element.attributes);
    check('property', element.members);
    check('event', element.events);
    check('slot', element.slots);
    check('CSS part', element.cssParts);
    check('CSS custom property', element.cssProperties);
    return missing.map((line) => `${element.tagName}: ${line}`);
  });
}
