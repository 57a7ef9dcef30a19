/**
 * Vite config. `npm run build` (`vite build`) makes the script-tag bundle of every element, the
 * connection manager and the schemas they need, lit included, from `elements/index.ts`:
 *
 * - `dist/catalyst-elements.js`: an ES module, `<script type="module" src=…>`;
 * - `dist/catalyst-elements.iife.js`: a classic script, `<script src=…>`; its exports land on
 *   `window.CatalystElements`.
 *
 * Each is one minified file that defines the elements when it runs. Decorators are the legacy
 * ones (`experimentalDecorators` in tsconfig.json, TOOLCHAIN.md), which Vite's transform follows.
 * The build ends with a line giving each bundle's minified and gzipped size.
 */
import { join, resolve } from 'node:path';
import { minify } from 'terser';
import { defineConfig, type Plugin } from 'vite';
import { kB, measure } from './scripts/bundle-size.js';

const OUT_DIR = 'dist';
const FILES = { es: 'catalyst-elements.js', iife: 'catalyst-elements.iife.js' } as const;

/**
 * Prints each bundle's minified and gzipped size once every output is written, read from the
 * output folder the build used (`--outDir` too).
 */
function bundleSize(): Plugin {
  let outDir = OUT_DIR;
  return {
    name: 'catalyst-bundle-size',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle(error) {
      if (error) return; // the build failed: Vite has said why
      const sizes = Object.entries(FILES).map(([format, file]) => {
        const { minified, gzipped } = measure(join(outDir, file));
        return `${format === 'es' ? 'ESM' : 'IIFE'} ${kB(minified)} minified, ${kB(gzipped)} gzipped`;
      });
      console.log(`\nScript-tag bundle: ${sizes.join('; ')}`);
    },
  };
}

/**
 * A second minifier over each finished bundle: terser (three passes) finds about 300 bytes
 * gzipped that the build's own minifier leaves, which the size budget (issue 5) needs.
 */
function terserPass(): Plugin {
  return {
    name: 'catalyst-terser-pass',
    apply: 'build',
    async generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const result = await minify(chunk.code, {
          module: !chunk.fileName.endsWith('.iife.js'),
          ecma: 2020,
          compress: { passes: 3 },
          format: { comments: false },
        });
        if (result.code !== undefined) chunk.code = result.code;
      }
    },
  };
}

/**
 * Minifies the CSS of the elements' `css` tagged templates, which the JavaScript minifier leaves
 * as written: comments go, blank runs become one space, and none is kept next to `{ } ; ,` or
 * after a property's colon; an attribute selector's value loses its quotes when it is a plain
 * name (`[part~=base]`).
 */
function minifyElementCss(): Plugin {
  const shrink = (text: string) =>
    text
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\s+/g, ' ')
      .replace(/\s*([{};,])\s*/g, '$1')
      .replace(/:\s+/g, ':') // a colon before a blank ends a property name (selectors never have one)
      .replace(/;}/g, '}')
      .trim();
  /** `[part~='base']` as `[part~=base]`: quotes around a plain name say nothing more. */
  const unquote = (text: string) => text.replace(/(\[[\w-]+[~|^$*]?=)'([A-Za-z_][\w-]*)'\]/g, '$1$2]');
  return {
    name: 'catalyst-minify-element-css',
    apply: 'build',
    transform(code, id) {
      if (!/\/elements\/.*\.ts$/.test(id) || !code.includes('css`')) return undefined;
      // `${…}` parts and quoted strings stay as they are.
      return code.replace(
        /css`([^`]*)`/g,
        (_, text: string) =>
          `css\`${unquote(text)
            .split(/(\$\{[^}]*\}|'[^']*'|"[^"]*")/)
            .map((part, i) => (i % 2 === 1 ? part : shrink(part)))
            .join('')}\``,
      );
    },
  };
}

/**
 * Drops the indentation inside the elements' `html` tagged templates, which the JavaScript
 * minifier leaves as written: a run of blanks holding a line break becomes that line break alone.
 * Text nodes of blanks render the same either way (white-space `normal` collapses the run, and
 * `pre-line` keeps just the break); the templates have no `<pre>`. The templates are found in
 * the syntax tree, so that nested templates and `${…}` parts are handled exactly.
 */
function minifyElementHtml(): Plugin {
  type Quasi = { start: number; value: { raw: string } };
  const templatesIn = (node: unknown, found: Quasi[] = []): Quasi[] => {
    if (typeof node !== 'object' || node === null) return found;
    const { type, tag, quasi } = node as {
      type?: string;
      tag?: { name?: string };
      quasi?: { quasis: Quasi[] };
    };
    if (type === 'TaggedTemplateExpression' && tag?.name === 'html' && quasi) found.push(...quasi.quasis);
    for (const child of Object.values(node)) templatesIn(child, found);
    return found;
  };
  return {
    name: 'catalyst-minify-element-html',
    apply: 'build',
    transform(code, id) {
      if (!/\/elements\/.*\.ts$/.test(id) || !code.includes('html`')) return undefined;
      // From the last to the first, so that each offset still holds when its turn comes. A
      // quasi's span starts at the backtick or `}` before its text.
      const quasis = templatesIn(this.parse(code, { lang: 'ts' })).sort((a, b) => b.start - a.start);
      let out = code;
      for (const { start, value } of quasis) {
        if (!code.startsWith(value.raw, start + 1))
          throw new Error(`${id}: a template is not where its span says`);
        const text = value.raw.replace(/\n\s*/g, '\n');
        out = out.slice(0, start + 1) + text + out.slice(start + 1 + value.raw.length);
      }
      return out;
    },
  };
}

export default defineConfig({
  server: { host: '127.0.0.1' },
  plugins: [minifyElementCss(), minifyElementHtml(), terserPass(), bundleSize()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    lib: {
      entry: 'elements/index.ts',
      name: 'CatalystElements',
      formats: ['es', 'iife'],
      fileName: (format) => (format === 'es' ? FILES.es : FILES.iife),
    },
    rolldownOptions: {
      // `Object.freeze` of a literal whose result no one reads (the server's LIMIT_DEFAULTS) has no
      // effect: without this the bundle kept it. Nothing in the kit freezes an existing object
      // for the side effect alone, which this would drop.
      treeshake: { manualPureFunctions: ['Object.freeze'] },
      output: {
        // A library build leaves an ES bundle's whitespace and `@__PURE__` marks for the next
        // bundler; this one goes straight into a page, so both formats are minified in full.
        minify: true,
        comments: { annotation: false },
        // Everything, lit included, in the one file.
        codeSplitting: false,
      },
    },
  },
});
