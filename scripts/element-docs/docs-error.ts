/** A problem that stops the element docs from being written, with a message that says how to fix it. */
export class DocsError extends Error {
  override name = 'DocsError';
}
