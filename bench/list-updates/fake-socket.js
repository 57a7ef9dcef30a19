// A scripted in-page server: replaces `WebSocket` before the bundle loads, answers every socket
// with a `welcome`, and lets the benchmark read what the elements send and hand them frames at the
// moment it chooses. Frames then arrive as a real socket's do (a `message` event whose `data` is
// the JSON text), without the network's timing in the measurement.
/* global window, Event, EventTarget, MessageEvent, CloseEvent */

const WELCOME = JSON.stringify({
  type: 'welcome',
  protocol: 'catalyst-realtime.v1',
  connectionId: 'c_bench',
  client: 'bench',
  environment: 'production',
  epoch: 'e_bench',
  seq: 0,
  heartbeatMs: 600_000,
  sessionExpiresAt: '2100-01-01T00:00:00.000Z',
  limits: { maxSubscriptions: 100, maxBatchEvents: 1000, flushIntervalMs: 0, maxMessageBytes: 65_536 },
});

/** The server side: sockets, the messages they sent, and waiters for the next one. */
class FakeServer {
  sockets = [];
  #messages = [];
  #waiters = [];

  accept(socket) {
    this.sockets.push(socket);
    setTimeout(() => {
      socket.readyState = FakeWebSocket.OPEN;
      socket.dispatch(new Event('open'));
      socket.deliver(WELCOME);
    });
  }

  receive(socket, text) {
    const message = { socket, ...JSON.parse(text) };
    const waiter = this.#waiters.findIndex(({ matches }) => matches(message));
    if (waiter < 0) {
      this.#messages.push(message);
      return;
    }
    this.#waiters.splice(waiter, 1)[0].resolve(message);
  }

  /** The next message a client sent for which `matches` holds (already sent, or when it comes). */
  next(matches) {
    const index = this.#messages.findIndex(matches);
    if (index >= 0) return Promise.resolve(this.#messages.splice(index, 1)[0]);
    return new Promise((resolve) => this.#waiters.push({ matches, resolve }));
  }
}

/** `WebSocket` as the connection manager uses it: `onmessage`, `onclose`, `send`, `close`. */
class FakeWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  readyState = FakeWebSocket.CONNECTING;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;

  constructor(url) {
    super();
    this.url = url;
    window.fakeServer.accept(this);
  }

  send(text) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('the fake socket is not open');
    window.fakeServer.receive(this, text);
  }

  close(code = 1000, reason = '') {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.readyState = FakeWebSocket.CLOSED;
    setTimeout(() => this.dispatch(new CloseEvent('close', { code, reason, wasClean: true })));
  }

  /** Hands the client one server frame, as a `message` event (synchronously). */
  deliver(text) {
    this.dispatch(new MessageEvent('message', { data: text }));
  }

  dispatch(event) {
    this[`on${event.type}`]?.(event);
    this.dispatchEvent(event);
  }
}

window.fakeServer = new FakeServer();
window.WebSocket = FakeWebSocket;
