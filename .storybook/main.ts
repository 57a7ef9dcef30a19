/**
 * Storybook (web components on Vite): `npm run storybook` serves it on port 6006, `npm run
 * build-storybook` writes the static site to storybook-static/. Both first generate
 * custom-elements.json (`npm run manifest`) and msw's worker script into .storybook/public/
 * (stories/README.md says why neither file is committed).
 */
import type { StorybookConfig } from '@storybook/web-components-vite';

const config: StorybookConfig = {
  stories: ['../stories/**/*.stories.ts'],
  addons: ['@storybook/addon-docs'],
  framework: {
    name: '@storybook/web-components-vite',
    // Not the root vite.config.ts: that one builds the script-tag bundle (library mode, a size
    // report reading dist/).
    options: { builder: { viteConfigPath: '.storybook/vite.config.ts' } },
  },
  // Served at the site's root, where msw's worker must be to control the story pages.
  staticDirs: ['./public'],
  core: {
    // Otherwise Storybook reaches for the network on every start (TOOLCHAIN.md).
    disableTelemetry: true,
    disableWhatsNewNotifications: true,
  },
  docs: { defaultName: 'Docs' },
  // Storybook keeps only `build.target` of the Vite config file: build options go here.
  viteFinal: (viteConfig) => ({
    ...viteConfig,
    // The preview is one chunk of Storybook's runtime, Lit, msw and the engine (about 1.5 MB):
    // expected for a story site, so no warning about its size.
    build: { ...viteConfig.build, chunkSizeWarningLimit: 2000 },
  }),
};

export default config;
