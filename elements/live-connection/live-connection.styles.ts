import { css } from 'lit';

/** `<live-connection>` adds no box of its own: its children lay out as if it were not there. */
export default css`
  :host {
    display: contents;
  }

  [part~='base'] {
    display: contents;
  }
`;
