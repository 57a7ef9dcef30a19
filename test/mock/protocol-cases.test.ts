/**
 * The shared protocol cases (`test/support/protocol-cases.ts`) against both servers: the Node dev
 * server over real sockets, and the msw mock in this process over msw's interception. A rule that
 * one of them breaks fails here by name, so the mock cannot drift from the server.
 */
import '../support/node-websocket.js';
import { setupServer } from 'msw/node';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMock } from '../../mock/index.js';
import { DomSocketClient } from '../support/dom-socket-client.js';
import { PROTOCOL_CASES, type CaseSocket, type ProtocolDriver } from '../support/protocol-cases.js';
import { RawClient, rest } from '../support/raw-client.js';
import { FAST_LIMITS, startTestServer, testConfig } from '../support/test-server.js';

const msw = setupServer();

/** The real dev server on a random port, driven with `ws` and fetch. */
const devServer: ProtocolDriver = {
  name: 'the Node dev server',
  async start(limits) {
    const server = await startTestServer({ limits });
    const sockets: CaseSocket[] = [];
    return {
      rest: async (method, path, options) => {
        const { status, body } = await rest(server, method, path, options);
        return { status, body };
      },
      socket: async (query = '') => {
        const socket = await RawClient.open(`${server.wsUrl}${query}`);
        sockets.push(socket);
        return socket;
      },
      close: async () => {
        for (const socket of sockets) socket.close();
        await server.close();
        assert.deepEqual(
          sockets.flatMap((s) => s.invalid),
          [],
          'frames that break the protocol',
        );
      },
    };
  },
};

/** The mock's handlers in msw's Node interception, driven with the global (patched) WebSocket and fetch. */
const mock: ProtocolDriver = {
  name: 'the msw mock',
  async start(limits) {
    const instance = createMock({ config: testConfig(), limits: { ...FAST_LIMITS, ...limits } });
    msw.resetHandlers(...instance.handlers);
    const sockets: CaseSocket[] = [];
    return {
      rest: async (method, path, options) => {
        const { status, body } = await rest(instance, method, path, options);
        return { status, body };
      },
      socket: async (query = '') => {
        const socket = await DomSocketClient.open(
          `${instance.url.replace(/^http/, 'ws')}/ws/events/object-records/${query}`,
        );
        sockets.push(socket);
        return socket;
      },
      close: async () => {
        for (const socket of sockets) socket.close();
        instance.close();
        msw.resetHandlers();
        assert.deepEqual(
          sockets.flatMap((s) => s.invalid),
          [],
          'frames that break the protocol',
        );
      },
    };
  },
};

for (const driver of [devServer, mock]) {
  describe(`protocol cases against ${driver.name}`, () => {
    if (driver === mock) {
      before(() => msw.listen({ onUnhandledRequest: 'error' }));
      after(() => msw.close());
    }
    for (const protocolCase of PROTOCOL_CASES) {
      it(protocolCase.name, async () => {
        const target = await driver.start(protocolCase.limits ?? {});
        try {
          await protocolCase.run(target);
        } finally {
          await target.close();
        }
      });
    }
  });
}
