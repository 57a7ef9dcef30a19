/**
 * What `<live-presence>` says about its room. English by default; set the element's `labels`
 * property to translate.
 */

/** The words of `<live-presence>`; `count` gets the number of members, this page's included. */
export type PresenceLabels = { count: (count: number) => string };

/** The default labels: "3 here". */
export const PRESENCE_LABELS: PresenceLabels = {
  count: (count) => `${count} here`,
};
