/**
 * Static files beside the API (`--static`, `createDevServer({ staticDirs })`,
 * dev-server/node/static-files.ts): what is served and how, the order of directories, nothing
 * outside them, the API never shadowed, and bad directories refused.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createDevServer } from '../../dev-server/node/server.js';
import { StaticDirError } from '../../dev-server/node/static-files.js';
import { CliProcess, tempDir } from '../support/cli-process.js';
import { RawClient, getToken, rest } from '../support/raw-client.js';
import { KEYS, startTestServer, type TestServer } from '../support/test-server.js';

/** What a request answered, its body as text. */
type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/**
 * Sends `path` exactly as given (no URL normalization, unlike `fetch`), so `..` and encoded
 * segments reach the server as an attacker would send them.
 */
function raw(server: { port: number }, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

const SECRET = 'the secret outside every static directory';

/** Two static directories, `first` and `second`, with a file outside both. */
function fixture(): { root: ReturnType<typeof tempDir>; first: string; second: string } {
  const root = tempDir();
  const first = join(root.path, 'first');
  const second = join(root.path, 'second');
  mkdirSync(join(first, 'docs'), { recursive: true });
  mkdirSync(join(first, 'bare'), { recursive: true });
  mkdirSync(join(first, 'shared'), { recursive: true });
  mkdirSync(join(second, 'shared'), { recursive: true });
  mkdirSync(join(second, 'more'), { recursive: true });
  mkdirSync(join(first, 'api', 'objects', 'orders'), { recursive: true });
  writeFileSync(join(root.path, 'secret.txt'), SECRET);
  writeFileSync(join(first, 'index.html'), '<h1>first index</h1>');
  writeFileSync(join(first, 'page.html'), '<p>page</p>');
  writeFileSync(join(first, 'app.js'), 'export const app = 1;');
  writeFileSync(join(first, 'style.css'), 'body { margin: 0 }');
  writeFileSync(join(first, 'data.json'), '{"a":1}');
  writeFileSync(join(first, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(first, 'dot.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  writeFileSync(join(first, 'app.js.map'), '{"version":3}');
  writeFileSync(join(first, 'notes.unknownext'), 'bytes');
  writeFileSync(join(first, 'both.txt'), 'from first');
  writeFileSync(join(first, '.env'), 'TOKEN=hidden');
  writeFileSync(join(first, 'healthz'), 'a file named like the health check');
  writeFileSync(join(first, 'api', 'objects', 'orders', 'records'), 'a file named like the API');
  writeFileSync(join(first, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(first, 'bare', 'readme.txt'), 'no index here');
  writeFileSync(join(first, 'shared', 'readme.txt'), 'no index here either');
  writeFileSync(join(second, 'both.txt'), 'from second');
  writeFileSync(join(second, 'only-second.txt'), 'only in second');
  writeFileSync(join(second, 'shared', 'index.html'), '<h1>shared, from second</h1>');
  writeFileSync(join(second, 'more', 'index.html'), '<h1>more</h1>');
  symlinkSync(join(root.path, 'secret.txt'), join(first, 'leak.txt'));
  symlinkSync(root.path, join(first, 'up'));
  symlinkSync(join(first, 'page.html'), join(first, 'alias.html'));
  return { root, first, second };
}

describe('static files', () => {
  let files: ReturnType<typeof fixture>;
  let server: TestServer;

  before(async () => {
    files = fixture();
    server = await startTestServer({ staticDirs: [files.first, files.second] });
  });

  after(async () => {
    await server.close();
    files.root.remove();
  });

  it('serves index.html at /', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await res.text(), '<h1>first index</h1>');
  });

  const types = [
    ['/page.html', 'text/html; charset=utf-8'],
    ['/app.js', 'text/javascript; charset=utf-8'],
    ['/style.css', 'text/css; charset=utf-8'],
    ['/data.json', 'application/json; charset=utf-8'],
    ['/icon.svg', 'image/svg+xml'],
    ['/dot.png', 'image/png'],
    ['/app.js.map', 'application/json; charset=utf-8'],
    ['/both.txt', 'text/plain; charset=utf-8'],
    ['/notes.unknownext', 'application/octet-stream'],
  ] as const;
  for (const [path, type] of types) {
    it(`answers ${path} with Content-Type ${type}, no sniffing`, async () => {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), type);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    });
  }

  it('sends the bytes of the file with their length', async () => {
    const res = await fetch(`${server.url}/dot.png`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.from('89504e470d0a1a0a', 'hex'));
    assert.equal(res.headers.get('content-length'), '8');
  });

  it('lets a page on another origin load a file as a module script (CORS)', async () => {
    const res = await fetch(`${server.url}/app.js`, { headers: { origin: 'http://elsewhere.test' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  it('ignores the query string', async () => {
    const res = await fetch(`${server.url}/page.html?v=2#top`);
    assert.equal(await res.text(), '<p>page</p>');
  });

  it("serves a directory's index.html, redirecting to the trailing slash first", async () => {
    const redirect = await raw(server, '/docs?x=1');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/docs/');
    const res = await fetch(`${server.url}/docs`);
    assert.equal(res.url, `${server.url}/docs/`);
    assert.equal(await res.text(), '<h1>docs</h1>');
  });

  it('takes a file from the first directory that holds it', async () => {
    assert.equal(await (await fetch(`${server.url}/both.txt`)).text(), 'from first');
    assert.equal(await (await fetch(`${server.url}/only-second.txt`)).text(), 'only in second');
    assert.equal(await (await fetch(`${server.url}/more/`)).text(), '<h1>more</h1>');
    // first/shared/ exists but holds no index.html: second/shared/ does.
    assert.equal(await (await fetch(`${server.url}/shared/`)).text(), '<h1>shared, from second</h1>');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const res = await raw(server, '/app.js', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.headers['content-length'], String('export const app = 1;'.length));
    assert.equal(res.body, '');
  });

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    it(`refuses ${method} with 405 and Allow: GET, HEAD`, async () => {
      const res = await raw(server, '/page.html', method);
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'GET, HEAD');
    });
  }

  it('answers a missing file with a plain-text 404, not JSON', async () => {
    const res = await raw(server, '/nope.html');
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(res.body, /^not found: \/nope\.html\n$/);
    assert.throws(() => JSON.parse(res.body));
  });

  it('does not serve a directory that has no index.html', async () => {
    assert.equal((await raw(server, '/bare/')).status, 404);
    assert.equal((await raw(server, '/bare')).status, 404);
  });

  it('never serves dotfiles', async () => {
    const res = await raw(server, '/.env');
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.body, /hidden/);
  });

  const traversals = [
    '/../secret.txt',
    '/docs/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2e/secret.txt',
    '/.%2e/secret.txt',
    '/docs/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/page.html%00.png',
    '/%ff%fe',
  ];
  for (const path of traversals) {
    it(`refuses ${JSON.stringify(path)} with 400 and nothing from outside`, async () => {
      const res = await raw(server, path);
      assert.equal(res.status, 400);
      assert.doesNotMatch(res.body, /secret outside/);
    });
  }

  it('does not follow a symbolic link out of its directory', async () => {
    for (const path of ['/leak.txt', '/up/secret.txt']) {
      const res = await raw(server, path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /secret outside/);
    }
  });

  it('follows a symbolic link that stays inside its directory', async () => {
    assert.equal(await (await fetch(`${server.url}/alias.html`)).text(), '<p>page</p>');
  });

  it('never shadows the API, even with files of the same names', async () => {
    const health = await rest(server, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal((health.body as { ok: unknown }).ok, true);
    const list = await rest(server, 'GET', '/api/objects/orders/records', { key: KEYS.acmeSecret });
    assert.equal(list.status, 200);
    assert.ok(Array.isArray((list.body as { records: unknown }).records));
    const unknown = await rest(server, 'GET', '/api/nothing-here');
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as { error: { code: string } }).error.code, 'not_found');
    const preflight = await raw(server, '/api/objects/orders/records', 'OPTIONS');
    assert.equal(preflight.status, 204);
  });

  it('still upgrades WebSocket connections', async () => {
    const token = await getToken(server, KEYS.acmePublic);
    const client = await RawClient.open(`${server.wsUrl}?token=${token}`);
    try {
      assert.equal((await client.next('welcome')).type, 'welcome');
    } finally {
      client.close();
    }
  });
});

describe('without static directories', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  it('answers every path from the API, as before', async () => {
    const res = await rest(server, 'GET', '/');
    assert.equal(res.status, 404);
    assert.equal((res.body as { error: { code: string } }).error.code, 'not_found');
  });
});

describe('bad static directories', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function dir(): ReturnType<typeof tempDir> {
    const d = tempDir();
    cleanups.push(() => d.remove());
    return d;
  }

  it('refuses a missing directory, naming it, before listening', async () => {
    const missing = dir().file('missing');
    await assert.rejects(createDevServer({ port: 0, staticDirs: [missing] }), (error) => {
      assert.ok(error instanceof StaticDirError);
      assert.equal(error.message, `static directory ${missing} does not exist`);
      return true;
    });
  });

  it('refuses a file given as a directory', async () => {
    const file = dir().file('file.txt');
    writeFileSync(file, 'not a directory');
    await assert.rejects(createDevServer({ port: 0, staticDirs: [file] }), {
      message: `static directory ${file} is not a directory`,
    });
  });

  it('makes a bad --static a usage error that names it (exit 2)', async () => {
    const missing = dir().file('missing');
    const run = CliProcess.spawn(['--port', '0', '--static', missing]);
    cleanups.push(() => run.stop('SIGKILL'));
    const { code } = await run.exit(20_000);
    assert.equal(code, 2);
    assert.match(run.stderr, new RegExp(`--static ${missing}: does not exist`));
    assert.match(run.stderr, /usage: catalyst-dev-server .*\n.*\n {2}\[--static dir\]/);
    assert.equal(run.stdout, '');
  });

  it('serves --static directories from the CLI and says where', async () => {
    const d = dir();
    writeFileSync(d.file('index.html'), '<h1>from the CLI</h1>');
    const cli = await CliProcess.start(['--port', '0', '--static', d.path]);
    cleanups.push(() => cli.stop('SIGKILL'));
    await cli.waitForStdout(/static files/);
    assert.match(cli.stdout, new RegExp(`\\n {2}static files from ${d.path} at ${cli.url}/\\n`));
    assert.equal(await (await fetch(`${cli.url}/`)).text(), '<h1>from the CLI</h1>');
  });
});
