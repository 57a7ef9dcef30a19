/**
 * A relative `url` names the server that served the page: `<live-connection url="/">`, an
 * element's own `url="../"`, `<meta name="catalyst-realtime" content="url=/, …">`. The elements
 * resolve it against the document's base URL. Test pages come from the test runner, not the dev
 * server, so a `<base href>` naming the dev server stands in for a page it served itself (as the
 * demo page is, `npm start`); the runner's own origin has no API, so only a resolution against the
 * base URL can go live.
 */
import { expect } from '@open-wc/testing';
import {
  connect,
  type LiveRecordElement,
  type LiveRecordListElement,
  type LiveStatusElement,
} from '../../elements/index.js';
import { startDevServer, type TestDevServer } from './support/dev-server.js';
import {
  closeConnections,
  expectListMatches,
  fieldText,
  mount,
  noConnectionsLeft,
  part,
  unmountAll,
  until,
} from './support/elements.js';

const PENDING = { where: { status: 'pending' }, sort: ['id'] };

describe('a relative url', () => {
  let server: TestDevServer;
  let base: HTMLBaseElement;
  let meta: HTMLMetaElement | undefined;

  before(async () => {
    server = await startDevServer();
  });
  beforeEach(() => {
    base = document.createElement('base');
    base.href = `${server.url}/shop/page/`;
    document.head.prepend(base);
  });
  afterEach(async () => {
    unmountAll();
    meta?.remove();
    meta = undefined;
    base.remove();
    closeConnections(server);
    await noConnectionsLeft(server);
  });
  after(async () => {
    await server.close();
  });

  it('url="/" on <live-connection> reaches the server of the base URL', async () => {
    const page = mount(
      `<live-connection url="/" api-key="${server.keys.acmePublic}">
        <live-status></live-status>
        <live-record-list object="orders" where='{"status":"pending"}' sort="id"></live-record-list>
      </live-connection>`,
    );
    const list = page.querySelector('live-record-list') as LiveRecordListElement;
    await expectListMatches(list, server, 'orders', PENDING);
    const status = page.querySelector('live-status') as LiveStatusElement;
    await until(() => status.getAttribute('state') === 'open', 'the status never said Live');
    expect(page.getAttribute('url'), 'the attribute stays as written').to.equal('/');
  });

  it("resolves an element's own url against the base URL's path", async () => {
    // The base URL is …/shop/page/, so ../../ is the server's root.
    const record = mount<LiveRecordElement>(
      `<live-record url="../../" api-key="${server.keys.acmePublic}" object="orders" record-id="o1">
        <template><b data-field="total"></b></template>
      </live-record>`,
    );
    await until(() => fieldText(part(record, 'record'), 'total') === '10', 'order o1 never showed');
  });

  it('takes url=/ from <meta name="catalyst-realtime">', async () => {
    meta = document.createElement('meta');
    meta.name = 'catalyst-realtime';
    meta.content = `url=/, api-key=${server.keys.acmePublic}`;
    document.head.append(meta);
    const list = mount<LiveRecordListElement>(
      `<live-record-list object="orders" where='{"status":"pending"}' sort="id"></live-record-list>`,
    );
    await expectListMatches(list, server, 'orders', PENDING);
  });

  it('shares one connection with elements that name the absolute url', async () => {
    const page = mount(
      `<div>
        <live-connection url="/" api-key="${server.keys.acmePublic}">
          <live-record-list object="orders" where='{"status":"pending"}' sort="id"></live-record-list>
        </live-connection>
        <live-record url="${server.url}" api-key="${server.keys.acmePublic}" object="orders" record-id="o2">
          <template><b data-field="status"></b></template>
        </live-record>
      </div>`,
    );
    const list = page.querySelector('live-record-list') as LiveRecordListElement;
    const record = page.querySelector('live-record') as LiveRecordElement;
    await expectListMatches(list, server, 'orders', PENDING);
    await until(() => fieldText(part(record, 'record'), 'status') === 'paid', 'order o2 never showed');
    expect((await server.healthz()).connections).to.equal(1);
  });

  it('names the resolved address when it cannot reach it', async () => {
    const nowhere = 'http://127.0.0.1:1'; // nothing listens on port 1
    base.href = `${nowhere}/`;
    const page = mount(
      `<live-connection url="/" api-key="${server.keys.acmePublic}">
        <live-status></live-status>
        <live-record-list object="orders"></live-record-list>
      </live-connection>`,
    );
    const status = page.querySelector('live-status') as LiveStatusElement;
    try {
      await until(
        () => part(status, 'base')?.title.startsWith(`cannot reach ${nowhere}:`),
        `the status never said it cannot reach ${nowhere}`,
      );
    } finally {
      connect({ url: nowhere, apiKey: server.keys.acmePublic }).close();
    }
  });
  it('refuses a url that is not http: or https: (javascript:, ws:, ftp:), saying so, and opens nothing', async () => {
    const key = server.keys.acmePublic;
    const list = mount<LiveRecordListElement>(
      `<live-record-list object="orders" url="javascript:alert(1)" api-key="${key}"></live-record-list>`,
    );
    await until(
      () =>
        part(list, 'error-message')?.textContent?.includes(
          '"javascript:alert(1)" is not an http: or https: address',
        ),
      'the list never said its url is not an address',
    );
    const provider = mount(`<live-connection url="ftp://example.test/" api-key="${key}"></live-connection>`);
    const errors: string[] = [];
    provider.addEventListener('live-error', (event) => errors.push(event.detail.message));
    await until(
      () =>
        errors.some((message) => message.includes('"ftp://example.test/" is not an http: or https: address')),
      '<live-connection> never reported its url',
    );
    expect((await server.healthz()).connections).to.equal(0);
  });
});
