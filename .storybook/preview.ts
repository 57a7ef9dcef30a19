/**
 * Storybook's preview: defines the elements, hands custom-elements.json to the docs pages and
 * controls (through `manifestArgTypes`, which keeps slots, parts and attributes apart), and gives
 * every story its own in-browser mock (stories/support/mock-setup.ts).
 */
import { setCustomElementsManifest, type Decorator, type Preview } from '@storybook/web-components-vite';
import { withActions } from 'storybook/actions/decorator';
import manifest from '../custom-elements.json';
import '../elements/index.js';
import { manifestArgTypes } from '../stories/support/manifest-arg-types.js';
import { disposeMockOnLeave, mockLoader } from '../stories/support/mock-setup.js';
import '../stories/support/story-event-log.js';

setCustomElementsManifest(manifest);

/**
 * Marks the story's root with what the headless check of the static Storybook
 * (scripts/storybook-check.mjs) expects: `parameters.shows`, the text the story shows when it
 * works, and `parameters.consoleErrors`, console errors the story causes on purpose.
 */
const markExpectations: Decorator = (story, context) => {
  const { shows, consoleErrors } = context.parameters as { shows?: string; consoleErrors?: string[] };
  if (shows) context.canvasElement.setAttribute('data-shows', shows);
  if (consoleErrors) context.canvasElement.setAttribute('data-console-errors', JSON.stringify(consoleErrors));
  return story();
};

const preview: Preview = {
  tags: ['autodocs'],
  loaders: [mockLoader],
  beforeEach: disposeMockOnLeave,
  decorators: [withActions, markExpectations],
  parameters: {
    docs: { extractArgTypes: manifestArgTypes, toc: true },
    controls: { expanded: true, sort: 'none' },
    // The kit's events in the Actions panel (they bubble and are composed).
    actions: { handles: ['live-change', 'live-status', 'live-error'] },
  },
};

export default preview;
