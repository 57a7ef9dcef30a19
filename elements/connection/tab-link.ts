/**
 * Tabs of one origin share one connection: the tab holding a Web Lock leads and keeps the
 * socket; the others (followers) reach the server through it over a `BroadcastChannel`. This
 * module is the follower's side: a `Link` that speaks the protocol's frames with the leader
 * instead of the server, so the connection manager treats it like any other link — it sends
 * `subscribe` with `since`/`epoch`, validates every frame and watches the heartbeat.
 */
import type { Link, LinkHandlers } from './link.js';

/**
 * A message on the tabs' channel. `from`: a follower's tab id (to the leader); `to`: the
 * follower it is for (from the leader); `leader`: a tab that has just taken the lead.
 */
export type TabMessage =
  | { from: string; hello: true }
  | { from: string; frame: string }
  | { from: string; bye: true }
  | { to: string; frame: string }
  | { to: string; close: [code: number, reason: string] }
  | { leader: string };

/**
 * The close code of a link given up for another at once (a new leading tab, a page hidden): never
 * on the wire, never shown (its reason is just `relink`).
 */
export const RELINK = 4012;

/**
 * Opens a link through the leading tab: says hello and waits for the leader's `welcome` like a
 * socket waits for the server's. The link ends when the leader says so (its own link ended), or
 * when another tab takes the lead (code `RELINK`: the manager says hello again at once).
 */
export function openTabLink(channel: BroadcastChannel, me: string, handlers: LinkHandlers): Link {
  let ended = false;
  const post = (message: TabMessage) => ended || channel.postMessage(message);
  const end = (code: number, reason: string) => {
    if (ended) return;
    ended = true;
    channel.removeEventListener('message', onMessage);
    removeEventListener('pagehide', onPageHide);
    handlers.onClose(code, reason);
  };
  const bye = (code: number, reason: string) => {
    post({ from: me, bye: true });
    end(code, reason);
  };
  // A closing tab says goodbye, so the leader drops its subscriptions (and presence) at once. Not a
  // relink: the manager backs off as after any close, and a page that is going away runs no timer
  // (one restored from the back-forward cache comes back when its timers run again).
  const onPageHide = () => bye(1001, 'the page was hidden');
  const onMessage = ({ data }: MessageEvent<TabMessage>) => {
    if ('leader' in data) end(RELINK, 'relink');
    else if (!('to' in data) || data.to !== me) return;
    else if ('frame' in data) handlers.onFrame(data.frame);
    else end(...data.close);
  };
  channel.addEventListener('message', onMessage);
  addEventListener('pagehide', onPageHide);
  post({ from: me, hello: true });
  return {
    send: (frame) => post({ from: me, frame }),
    close: bye,
  };
}
