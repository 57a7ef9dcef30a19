/**
 * Styles every data element shares: the `--live-*` custom properties and their defaults, the
 * state parts (loading, empty, error), the change highlight (off under `prefers-reduced-motion`)
 * and the visually hidden live region.
 */
import { css } from 'lit';

/** Text for screen readers only (live regions, hidden labels): in every element's styles. */
export const visuallyHidden = css`
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;

/** Shared styles of `<live-record-list>` and `<live-record>`. */
export const sharedStyles = css`
  ${visuallyHidden}

  :host {
    --live-color: inherit;
    --live-muted-color: color-mix(in srgb, currentColor 60%, transparent);
    --live-error-color: #b3261e;
    --live-gap: 0.5rem;
    --live-item-padding: 0.5rem 0;
    --live-item-border: 1px solid color-mix(in srgb, currentColor 15%, transparent);
    --live-highlight-color: rgb(255 214 0 / 0.35);
    --live-highlight-duration: 1.5s;
    --live-removed-opacity: 0.5;

    display: block;
    color: var(--live-color);
  }

  :host([hidden]) {
    display: none;
  }

  [part~='loading'],
  [part~='empty'] {
    color: var(--live-muted-color);
  }

  [part~='error'] {
    color: var(--live-error-color);
  }

  [data-changed] {
    animation: live-highlight var(--live-highlight-duration) ease-out;
  }

  @keyframes live-highlight {
    from {
      background-color: var(--live-highlight-color);
    }
    to {
      background-color: transparent;
    }
  }

  @media (prefers-reduced-motion: reduce) {
    [data-changed] {
      animation: none;
    }
  }

  [part~='fields'] {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0 var(--live-gap);
    margin: 0;
  }

  [part~='field'] {
    display: contents;
  }

  [part~='field-name'] {
    color: var(--live-muted-color);
  }

  [part~='field-value'] {
    margin: 0;
    overflow-wrap: anywhere;
  }
`;
