/**
 * Static files beside the API (`--static <dir>`, `createDevServer({ staticDirs })`), so a page
 * and the script-tag bundle can be served from the API's own origin — the demo page does this.
 *
 * - Only paths outside the API are served: the API's roots (`/api`, `/ws`, `/sse`, `/healthz`,
 *   read from the protocol's `PATHS`) always reach the API, even when a directory holds a file
 *   of that name.
 * - The directories are searched in the order given; the first that holds the file wins. `/`
 *   and every directory serve their `index.html`; a directory asked for without its trailing
 *   slash is redirected to it (301), so the page's relative links work.
 * - GET and HEAD only (405 otherwise). Missing files are 404 in plain text. Files go out with
 *   `Cache-Control: no-cache` and `Access-Control-Allow-Origin: *` (they are public).
 * - A request can reach nothing outside the directories: a path with a `.` or `..` segment
 *   (raw or percent-encoded), a backslash, a NUL or an encoded `/` is refused with 400; a
 *   symbolic link that leads out of its directory counts as absent; dotfiles are never served.
 */
import { createReadStream, realpathSync, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { PATHS } from '../../protocol/index.js';

/** A `--static` directory that cannot be served; `dir` is the name as given. */
export class StaticDirError extends Error {
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(`static directory ${dir} ${reason}`);
  }
}

/** Files served from one or more directories; see the module comment. */
export type StaticFiles = {
  /**
   * Answers `req` from the directories and returns true; returns false, answering nothing, when
   * the path belongs to the API.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
};

/** `Content-Type` by extension; anything else is `application/octet-stream`. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** First path segments that belong to the API: `api`, `ws`, `sse`, `healthz`. */
const API_ROOTS = new Set(Object.values(PATHS).map((path) => path.split('/')[1]));

/** Checks the directories and prepares to serve them. Throws `StaticDirError` for a bad one. */
export function createStaticFiles(dirs: readonly string[]): StaticFiles {
  const roots = dirs.map((dir) => {
    let stats: Stats;
    try {
      stats = statSync(dir);
    } catch {
      throw new StaticDirError(dir, 'does not exist');
    }
    if (!stats.isDirectory()) throw new StaticDirError(dir, 'is not a directory');
    return realpathSync(resolve(dir));
  });
  return { handle: (req, res) => handle(roots, req, res) };
}

function handle(roots: readonly string[], req: IncomingMessage, res: ServerResponse): boolean {
  const target = req.url ?? '/';
  // An absolute-form target (`GET http://host/…`, from proxies) is the API's to read.
  if (!target.startsWith('/')) return false;
  const path = target.split(/[?#]/, 1)[0] as string;
  if (API_ROOTS.has(path.split('/')[1])) return false;
  req.resume(); // a body, if any, is not read
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    plain(res, 405, `${req.method} is not allowed here; static files answer GET and HEAD`, {
      allow: 'GET, HEAD',
    });
    return true;
  }
  const segments = pathSegments(path);
  if (segments === undefined) {
    plain(res, 400, 'bad path');
    return true;
  }
  const found = segments.some((segment) => segment.startsWith('.')) ? undefined : findFile(roots, segments);
  if (found === undefined) {
    plain(res, 404, `not found: ${path}`);
  } else if (found.directory && !path.endsWith('/')) {
    const location = `/${segments.map(encodeURIComponent).join('/')}/`;
    plain(res, 301, `moved to ${location}`, { location });
  } else {
    send(req, res, found.file, found.size);
  }
  return true;
}

/** The decoded segments of a path, or `undefined` when one could step outside a directory. */
function pathSegments(path: string): string[] | undefined {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return undefined;
    if (segment !== '') segments.push(segment);
  }
  return segments;
}

/**
 * The first file the directories hold at `segments`: the file itself, or for a directory its
 * `index.html` (`directory: true`). A directory without one does not hold it.
 */
function findFile(
  roots: readonly string[],
  segments: readonly string[],
): { file: string; size: number; directory: boolean } | undefined {
  for (const root of roots) {
    const candidate = join(root, ...segments);
    const stats = statInside(root, candidate);
    if (stats?.isFile()) return { file: candidate, size: stats.size, directory: false };
    if (stats?.isDirectory()) {
      const index = join(candidate, 'index.html');
      const indexStats = statInside(root, index);
      if (indexStats?.isFile()) return { file: index, size: indexStats.size, directory: true };
    }
  }
  return undefined;
}

/** The file's stats when it exists and, symbolic links followed, lies inside `root`. */
function statInside(root: string, file: string): Stats | undefined {
  try {
    const real = realpathSync(file);
    if (real !== root && !real.startsWith(root + sep)) return undefined;
    return statSync(real);
  } catch {
    return undefined;
  }
}

function send(req: IncomingMessage, res: ServerResponse, file: string, size: number): void {
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': size,
    // A dev server: the browser asks again every time, so an edited page shows on reload.
    'cache-control': 'no-cache',
    // Public files: a page on another origin may load the bundle as a module script (CORS mode).
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function plain(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      ...headers,
    })
    .end(`${text}\n`);
}
