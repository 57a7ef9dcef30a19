import { css } from 'lit';
import { visuallyHidden } from '../shared/shared-styles.js';

/** Styles of `<live-status>`: a dot and a label, colored by state. */
export default css`
  ${visuallyHidden}
  :host {
    --live-status-gap: 0.4em;
    --live-status-dot-size: 0.6em;
    --live-status-open-color: #1a7f37;
    --live-status-pending-color: #9a6700;
    --live-status-error-color: #b3261e;
    --live-status-idle-color: #6e7781;

    display: inline-block;
  }

  :host([hidden]) {
    display: none;
  }

  [part~='base'] {
    display: inline-flex;
    align-items: center;
    gap: var(--live-status-gap);
    --dot: var(--live-status-idle-color);
  }

  [part~='indicator'] {
    inline-size: var(--live-status-dot-size);
    block-size: var(--live-status-dot-size);
    border-radius: 50%;
    background: var(--dot);
  }

  [data-state='open'] {
    --dot: var(--live-status-open-color);
  }

  [data-state='connecting'],
  [data-state='reconnecting'],
  [data-state='offline'] {
    --dot: var(--live-status-pending-color);
  }

  [data-state='denied'] {
    --dot: var(--live-status-error-color);
  }
`;
