/**
 * Registers a custom element once. A page that loads the kit twice (a script tag and an npm
 * bundle, or two bundles) would otherwise throw "this name has already been used" and break.
 */

/** Defines `name` as `constructor` unless the name is taken; a no-op outside the browser. */
export function defineElement(name: string, constructor: CustomElementConstructor): void {
  if (typeof customElements === 'undefined' || customElements.get(name)) return;
  customElements.define(name, constructor);
}
