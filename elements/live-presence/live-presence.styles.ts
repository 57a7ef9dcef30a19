import { css } from 'lit';
import { sharedStyles } from '../shared/shared-styles.js';

/** Styles of `<live-presence>`. */
export default [
  sharedStyles,
  css`
    [part~='base'] {
      display: grid;
      gap: var(--live-gap);
      justify-items: start;
    }

    [part~='count'] {
      font-variant-numeric: tabular-nums;
    }

    [part~='list'] {
      display: flex;
      flex-wrap: wrap;
      gap: var(--live-gap);
      margin: 0;
      padding: 0;
      list-style: none;
    }
  `,
];
