/**
 * `<live-status>` in Chromium against the real dev server: the words a person reads while the
 * connection opens, drops when the server stops, counts down to its next try and comes back.
 */
import { ContextProvider } from '@lit/context';
import { expect } from '@open-wc/testing';
import { LitElement, html } from 'lit';
import {
  connect,
  connectionContext,
  type ConnectionStatus,
  type LiveStatusElement,
} from '../../elements/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  EventLog,
  closeConnections,
  fastConnection,
  mount,
  noConnectionsLeft,
  part,
  text,
  unmountAll,
  until,
} from './support/elements.js';

/** What the status says, as the user reads it (the label part). */
function label(status: Element): string {
  return text(part(status, 'label'));
}

/** Every distinct label the status shows from now on, in order. */
function labelsShown(status: LiveStatusElement): string[] {
  const seen: string[] = [label(status)];
  const observer = new MutationObserver(() => {
    if (seen.at(-1) !== label(status)) seen.push(label(status));
  });
  observer.observe(status.shadowRoot as ShadowRoot, { subtree: true, childList: true, characterData: true });
  return seen;
}

describe('<live-status>', () => {
  let server: TestDevServer;

  beforeEach(async () => {
    server = await startDevServer();
  });
  afterEach(async () => {
    unmountAll();
    closeConnections(server);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  it('goes connecting → Live → reconnecting with a countdown → Live as the server stops and restarts', async function () {
    this.timeout(15_000);
    // A long backoff, so the countdown shows whole seconds; `online` cuts it short at the end.
    fastConnection(server, server.keys.acmePublic, { backoff: { minMs: 8000, maxMs: 8000, factor: 2 } });
    const page = mount(
      `<live-connection url="${server.url}" api-key="${server.keys.acmePublic}"><live-status></live-status></live-connection>`,
    );
    const status = page.querySelector('live-status') as LiveStatusElement;
    await status.updateComplete;
    expect(status.getAttribute('role')).to.equal('status');
    expect(label(status), 'it opens nothing by itself').to.equal('Not connected');
    expect(status.getAttribute('state')).to.equal('idle');
    const labels = labelsShown(status);
    const events = new EventLog<ConnectionStatus>(status, 'live-status');

    page.insertAdjacentHTML('beforeend', '<live-record-list object="orders"></live-record-list>');
    await until(() => label(status) === 'Live', 'never live');
    expect(status.getAttribute('state')).to.equal('open');
    expect(part(status, 'base')?.dataset.state).to.equal('open');

    await server.stop();
    await until(() => /^Reconnecting in \d+ s$/.test(label(status)), 'no countdown');
    expect(status.getAttribute('state')).to.equal('reconnecting');
    const seconds = Number(/\d+/.exec(label(status))?.[0]);
    expect(seconds).to.be.within(4, 8);
    await until(() => label(status) === `Reconnecting in ${seconds - 1} s`, 'the countdown stood still');
    // Assistive technology hears the state once, not every second.
    expect(part(status, 'label')?.getAttribute('aria-hidden')).to.equal('true');
    expect(text(status.shadowRoot?.querySelector('.visually-hidden'))).to.equal('Reconnecting…');

    await server.restart();
    window.dispatchEvent(new Event('online')); // the network is back: retry now, not in N s
    await until(() => label(status) === 'Live', 'never live again');
    expect(status.getAttribute('state')).to.equal('open');

    // In the order a person saw them (other labels, such as "Reconnecting…", may come between).
    const order = [
      'Not connected',
      'Connecting…',
      'Live',
      `Reconnecting in ${seconds} s`,
      `Reconnecting in ${seconds - 1} s`,
    ];
    const positions = order.map((shown) => labels.indexOf(shown));
    expect(positions, `labels: ${labels.join(' | ')}`).to.not.include(-1);
    expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
    expect(labels.at(-1)).to.equal('Live');
    const states = events.details.map((detail) => detail.state).filter((s, i, all) => s !== all[i - 1]);
    expect(states).to.deep.equal(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('finds the connection of a provider defined after it, as a <live-connection> upgraded late', async () => {
    const page = mount(
      `<late-connection-provider><live-status></live-status><live-record-list object="products"></live-record-list></late-connection-provider>`,
    );
    const status = page.querySelector('live-status') as LiveStatusElement;
    await status.updateComplete;
    expect(label(status), 'no provider yet').to.equal('Not connected');
    const connection = connect({ url: server.url, apiKey: server.keys.acmePublic });
    customElements.define(
      'late-connection-provider',
      class extends LitElement {
        readonly provider = new ContextProvider(this, {
          context: connectionContext,
          initialValue: connection,
        });
        override render() {
          return html`<slot></slot>`;
        }
      },
    );
    await until(() => label(status) === 'Live', 'the status never heard of the late provider');
  });

  it('shows its own labels when given translations', async () => {
    const page = mount(
      `<live-connection url="${server.url}" api-key="${server.keys.acmePublic}"><live-status></live-status><live-record-list object="products"></live-record-list></live-connection>`,
    );
    const status = page.querySelector('live-status') as LiveStatusElement;
    status.labels = { open: 'En direct', connecting: 'Connexion…' };
    await until(() => label(status) === 'En direct', 'the translated label never showed');
  });
});
