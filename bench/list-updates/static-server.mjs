// The list benchmark's web server, on 127.0.0.1 and a free port: the page, its scripts, the
// script-tag bundle, and a ws-auth answer (the socket itself is faked inside the page).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Path → file served. */
const FILES = {
  '/': join(HERE, 'page.html'),
  '/fake-socket.js': join(HERE, 'fake-socket.js'),
  '/bench-page.js': join(HERE, 'bench-page.js'),
  '/vanilla-list.js': join(HERE, 'vanilla-list.js'),
  '/workload.js': join(HERE, 'workload.js'),
};

const WS_AUTH = JSON.stringify({
  token: '00000000-0000-4000-8000-000000000000',
  expiresAt: '2100-01-01T00:00:00.000Z',
  environment: 'production',
  url: '/ws/events/object-records/',
});

/** Starts the server for `bundle` (the path of dist/catalyst-elements.js); resolves with its URL and `close`. */
export async function serveListBench(bundle) {
  const files = { ...FILES, '/catalyst-elements.js': bundle };
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/api/users/ws-auth/') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(WS_AUTH);
      return;
    }
    const file = files[path];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.html') ? 'text/html' : 'text/javascript';
    response.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(await readFile(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
