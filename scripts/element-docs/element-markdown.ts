/** Markdown descriptions both kinds of editor data use: an element's, and an attribute's. */
import type { ElementDoc, ManifestAttribute } from './manifest.js';

/** An element's summary, then its description. */
export function elementDescription(element: ElementDoc): string {
  return [element.summary, element.description].filter((text) => text?.trim()).join('\n\n');
}

/** An attribute's description, then its type and default. */
export function attributeMarkdown(attribute: ManifestAttribute): string {
  const facts = [
    attribute.type ? `Type: \`${attribute.type.text}\`` : undefined,
    attribute.default !== undefined ? `Default: \`${attribute.default}\`` : undefined,
  ].filter(Boolean);
  return [attribute.description ?? '', facts.join('; ')].filter(Boolean).join('\n\n');
}
