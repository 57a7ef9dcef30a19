/**
 * Vite config of Storybook's preview (main.ts points its builder here). Storybook adds its own
 * entry, plugins and output; the elements' legacy decorators follow tsconfig.json, as in the
 * script-tag build.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  server: { host: '127.0.0.1' },
});
