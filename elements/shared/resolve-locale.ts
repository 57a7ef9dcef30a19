/**
 * The locale an element formats numbers and dates in: its `locale` property, else the `lang` of
 * the element or its nearest ancestor that has one, else the browser's default.
 */

/** The locale for `element`; `undefined` lets `Intl` use the browser's. */
export function resolveLocale(element: Element, locale: string | undefined): string | undefined {
  if (locale) return locale;
  const lang = element.closest('[lang]')?.getAttribute('lang');
  return lang || undefined;
}
