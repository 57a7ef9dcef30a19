import { css } from 'lit';
import { sharedStyles } from '../shared/shared-styles.js';

/** Styles of `<live-record-list>`. */
export default [
  sharedStyles,
  css`
    [part~='list'] {
      display: grid;
      gap: var(--live-gap);
      margin: 0;
      padding: 0;
      list-style: none;
    }

    [part~='item'] {
      padding: var(--live-item-padding);
      border-bottom: var(--live-item-border);
    }
  `,
];
