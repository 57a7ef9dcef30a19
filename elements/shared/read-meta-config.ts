/**
 * The page-wide connection settings for elements used without a `<live-connection>` and
 * without `url`/`api-key` attributes of their own:
 *
 * ```html
 * <meta name="catalyst-realtime" content="url=https://api.example.com, api-key=pk_live_…">
 * ```
 *
 * `content` is a comma-separated list of `name=value` pairs (blanks around either are ignored,
 * and so is the order); the names are `url` and `api-key`, both required. A value may not
 * contain a comma. The first such `<meta>` in the document counts. `url` may be relative
 * (`url=/`): the elements resolve it against the document's base URL.
 */

/** The `name` of the `<meta>` element read by `readMetaConfig`. */
export const META_NAME = 'catalyst-realtime';

/** Connection settings read from the page. */
export type MetaConfig = { url: string; apiKey: string };

/**
 * The settings of `<meta name="catalyst-realtime">`: `undefined` when there is none, or an
 * `error` that says how to write it when its `content` is wrong.
 */
export function readMetaConfig(doc: Document = document): MetaConfig | { error: string } | undefined {
  const meta = doc.querySelector<HTMLMetaElement>(`meta[name="${META_NAME}"]`);
  if (!meta) return undefined;
  const values = new Map<string, string>();
  for (const pair of meta.content.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim().toLowerCase();
    if (eq < 0 || (name !== 'url' && name !== 'api-key')) {
      return { error: `<meta name="${META_NAME}">: "${pair.trim()}" is not url=… or api-key=…` };
    }
    values.set(name, pair.slice(eq + 1).trim());
  }
  const url = values.get('url');
  const apiKey = values.get('api-key');
  if (!url || !apiKey) {
    return {
      error: `<meta name="${META_NAME}"> needs both values: content="url=https://api.example.com, api-key=pk_…"`,
    };
  }
  return { url, apiKey };
}
