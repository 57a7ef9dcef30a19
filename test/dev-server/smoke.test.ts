import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';
import { RawClient, rest } from '../support/raw-client.js';

describe('dev server smoke', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('delivers a snapshot and then a created record as added', async () => {
    const client = await RawClient.connect(server, KEYS.acmePublic);
    const sub = await client.subscribe({
      id: 's1',
      channel: 'records:orders',
      filter: { where: { status: 'pending' } },
      snapshot: true,
    });
    assert.deepEqual(
      sub.snapshot?.map((r) => r.id),
      ['o1', 'o3'],
    );
    const created = await rest(server, 'POST', '/api/objects/orders/records', {
      key: KEYS.acmeSecret,
      body: { id: 'o9', status: 'pending', total: 1 },
    });
    assert.equal(created.status, 201);
    const [event] = await client.waitForEvents(1, 's1');
    assert.equal(event && 'change' in event && event.change, 'added');
    assert.deepEqual(client.invalid, []);
    client.close();
  });
});
