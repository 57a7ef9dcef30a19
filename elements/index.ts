/**
 * The whole kit: importing this module defines `<live-connection>`, `<live-record-list>`,
 * `<live-record>`, `<live-presence>` and `<live-status>` (each only once, so loading the kit twice
 * is harmless) and exports the connection API, the element classes and their event types for
 * JavaScript users.
 */
// <live-connection> first: its instances upgrade before the elements inside them ask for it.
export { LiveConnectionElement } from './live-connection/live-connection.js';
export { LiveRecordListElement } from './live-record-list/live-record-list.js';
export { LiveRecordElement } from './live-record/live-record.js';
export { LivePresenceElement, type MemberRenderer } from './live-presence/live-presence.js';
export { LiveStatusElement } from './live-status/live-status.js';

export * from './connection/index.js';
export { connectionContext } from './shared/connection-context.js';
export { META_NAME, readMetaConfig, type MetaConfig } from './shared/read-meta-config.js';
export {
  LiveChangeEvent,
  LiveElementEvent,
  LiveErrorEvent,
  LiveStatusEvent,
  type LiveChangeDetail,
  type LiveErrorDetail,
  type LiveErrorSource,
} from './shared/live-element-event.js';
export {
  LivePresenceChangeEvent,
  type LivePresenceChangeDetail,
} from './live-presence/live-presence-change-event.js';
export { PRESENCE_LABELS, type PresenceLabels } from './live-presence/presence-labels.js';
export type { MemberMeta } from './shared/live-presence-controller.js';
export { formatValue } from './shared/format-value.js';
export { announceChange, type ChangeAnnouncer } from './shared/announce-change.js';
export { STATUS_LABELS, type StatusLabels } from './shared/status-labels.js';
export type { ItemRenderer } from './shared/render-record.js';
