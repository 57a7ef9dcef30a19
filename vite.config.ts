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
import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { kB, measure } from './scripts/bundle-size.js';

const OUT_DIR = 'dist';
const FILES = { es: 'catalyst-elements.js', iife: 'catalyst-elements.iife.js' } as const;

/** Prints each bundle's minified and gzipped size once every output is written. */
function bundleSize(): Plugin {
  return {
    name: 'catalyst-bundle-size',
    apply: 'build',
    closeBundle(error) {
      if (error) return; // the build failed: Vite has said why
      const sizes = Object.entries(FILES).map(([format, file]) => {
        const { minified, gzipped } = measure(join(OUT_DIR, file));
        return `${format === 'es' ? 'ESM' : 'IIFE'} ${kB(minified)} minified, ${kB(gzipped)} gzipped`;
      });
      console.log(`\nScript-tag bundle: ${sizes.join('; ')}`);
    },
  };
}

/**
 * Minifies the CSS of the elements' `css` tagged templates, which the JavaScript minifier leaves
 * as written: comments go, blank runs become one space, and none is kept next to `{ } ; ,` or
 * after a property's colon.
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
  return {
    name: 'catalyst-minify-element-css',
    apply: 'build',
    transform(code, id) {
      if (!/\/elements\/.*\.ts$/.test(id) || !code.includes('css`')) return undefined;
      // `${…}` parts and quoted strings stay as they are.
      return code.replace(
        /css`([^`]*)`/g,
        (_, text: string) =>
          `css\`${text
            .split(/(\$\{[^}]*\}|'[^']*'|"[^"]*")/)
            .map((part, i) => (i % 2 === 1 ? part : shrink(part)))
            .join('')}\``,
      );
    },
  };
}

export default defineConfig({
  server: { host: '127.0.0.1' },
  plugins: [minifyElementCss(), bundleSize()],
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
