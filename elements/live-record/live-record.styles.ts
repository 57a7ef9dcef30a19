import { css } from 'lit';
import { sharedStyles } from '../shared/shared-styles.js';

/** Styles of `<live-record>`. */
export default [
  sharedStyles,
  css`
    [part~='removed'] [part~='record'] {
      opacity: var(--live-removed-opacity);
      text-decoration: line-through;
    }
  `,
];
