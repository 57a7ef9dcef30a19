// The npm package as a user gets it: `npm pack` of the built tree (`npm run build` runs before
// this suite), installed into a scratch project, whose import of each export resolves, type-checks
// under Node's own module resolution, and runs; the `catalyst-dev-server` bin starts.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/cli-process.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};

/** Type-checks every export's API the way an integrator uses it. */
const USES_EVERY_EXPORT = `
import { LiveRecordListElement, connect, type LiveChangeDetail } from 'catalyst-elements';
import { connect as connectAgain, type ConnectionStatus } from 'catalyst-elements/connection';
import { CODE, parseServerMessage, compileWhere, type ServerMessage } from 'catalyst-elements/protocol';
import { createDevServer, type DevServerOptions } from 'catalyst-elements/dev-server';
import { createMock } from 'catalyst-elements/mock';

const list: LiveRecordListElement = document.createElement('live-record-list');
list.where = { status: 'pending' };
const connection = connect({ url: 'https://api.example.com', apiKey: 'pk_live_x' });
const status: ConnectionStatus = connectAgain({ url: 'https://api.example.com', apiKey: 'pk_live_x' }).status;
const parsed = parseServerMessage('{"type":"ping"}');
const message: ServerMessage | undefined = parsed.ok ? parsed.message : undefined;
const matches: boolean = compileWhere({ status: 'pending' })({ id: 'o1', status: 'pending' });
const options: DevServerOptions = { port: 0, simulate: 1 };
const detail: LiveChangeDetail | undefined = undefined;
export { connection, status, message, matches, options, detail, createDevServer, createMock, CODE };
`;

/** Runs in Node from the installed package: the protocol, the dev server and the manager. */
const RUNS_IN_NODE = `
import { CODE, parseServerMessage } from 'catalyst-elements/protocol';
import { createDevServer } from 'catalyst-elements/dev-server';
import { connect } from 'catalyst-elements/connection';
import WebSocket from 'ws';

if (CODE.token_expired !== 4001) throw new Error('protocol codes');
if (!parseServerMessage('{"type":"ping"}').ok) throw new Error('protocol parse');
const server = await createDevServer({ port: 0, limits: { flushIntervalMs: 0 } });
const connection = connect({ url: server.url, apiKey: 'pk_dev_demo', WebSocket });
const records = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no snapshot')), 10000);
  connection.subscribe({ channel: 'records:orders', snapshot: { limit: 5 } }, {
    onSubscribed: (m) => { clearTimeout(timer); resolve(m.snapshot ?? []); },
    onError: (e) => reject(new Error(e.message)),
  });
});
connection.close();
await server.close();
console.log('snapshot', records.length);
`;

describe('the npm package', { timeout: 240_000 }, () => {
  let dir = '';
  let files: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'catalyst-pack-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: REPO_ROOT,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(packed, 'npm pack packed nothing');
    files = packed.files.map((f) => f.path);
    const project = join(dir, 'project');
    await run('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'scratch',
        private: true,
        type: 'module',
        dependencies: {
          [pkg.name]: `file:../${packed.filename}`,
          msw: pkg.devDependencies.msw,
          '@types/node': pkg.devDependencies['@types/node'],
        },
      }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: project,
    });
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the builds, types, manifest and editor data, and no sources or tests', () => {
    for (const file of [
      'dist/catalyst-elements.js',
      'dist/catalyst-elements.iife.js',
      'dist/lib/elements/index.js',
      'dist/lib/elements/index.d.ts',
      'dist/lib/protocol/index.d.ts',
      'dist/lib/dev-server/node/cli.js',
      'dist/vscode.html-custom-data.json',
      'dist/web-types.json',
      'custom-elements.json',
      'README.md',
      'package.json',
    ]) {
      assert.ok(files.includes(file), `${file} is missing from the package`);
    }
    const strays = files.filter((f) => /^(test|stories|scripts|demo)\//.test(f) || /(?<!\.d)\.ts$/.test(f));
    assert.deepEqual(strays, [], 'sources or tests in the package');
  });

  it('type-checks an import of every export under Node module resolution', async () => {
    const project = join(dir, 'project');
    writeFileSync(join(project, 'uses.ts'), USES_EVERY_EXPORT);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['uses.ts'],
      }),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', project]).catch(
      (error: { stdout: string }) => error,
    );
    assert.equal('stdout' in result ? result.stdout : '', '', 'tsc found errors');
  });

  it('runs in Node: protocol, dev server and connection manager from the installed package', async () => {
    const project = join(dir, 'project');
    writeFileSync(join(project, 'run.mjs'), RUNS_IN_NODE);
    const { stdout } = await run(process.execPath, ['run.mjs'], { cwd: project, timeout: 30_000 });
    assert.match(stdout, /^snapshot 5$/m);
  });

  it('installs the catalyst-dev-server bin, which starts and prints where it listens', async () => {
    const project = join(dir, 'project');
    const child = spawn(join(project, 'node_modules', '.bin', 'catalyst-dev-server'), ['--port', '0'], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      assert.match(firstLine, /^catalyst-dev-server listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = firstLine.split(' ').at(-1) ?? '';
      const health = (await (await fetch(`${url}/healthz`)).json()) as { ok: boolean };
      assert.equal(health.ok, true);
    } finally {
      child.kill();
    }
  });
});
