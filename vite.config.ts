import { defineConfig } from 'vite';

/** Vite config: library builds of the elements arrive with the elements (issue 5); today it only serves the repo. */
export default defineConfig({
  server: { host: '127.0.0.1' },
});
