/** The paths of the protocol's HTTP API (PROTOCOL.md section 2), WebSocket and SSE included. */

/** Paths of the HTTP API. */
export const PATHS = {
  wsAuth: '/api/users/ws-auth/',
  websocket: '/ws/events/object-records/',
  sse: '/sse/events/object-records/',
  healthz: '/healthz',
  /** `/api/objects/:object/records[/:id]` */
  recordsPrefix: '/api/objects/',
  /** `/api/events/:topic` */
  eventsPrefix: '/api/events/',
} as const;
