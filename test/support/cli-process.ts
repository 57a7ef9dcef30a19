/**
 * Runs the dev server CLI (`node --import tsx dev-server/node/cli.ts …`) as a child process for
 * tests: waits for its first stdout line, keeps its output, and reports how it exited. Also a
 * temporary directory helper for config, data and audit files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the CLI runs with it as its working directory. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How a CLI process ended. */
export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** A running (or finished) CLI process. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<ExitInfo>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Spawns the CLI with `args`. */
  static spawn(args: readonly string[]): CliProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'dev-server/node/cli.ts', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new CliProcess(child);
  }

  /** Spawns the CLI and waits for its `listening on` line; rejects if it exits first. */
  static async start(args: readonly string[], timeoutMs = 15_000): Promise<CliProcess & { url: string }> {
    const cli = CliProcess.spawn(args);
    const url = await cli.listening(timeoutMs);
    return Object.assign(cli, { url });
  }

  /** The URL of the first stdout line, `catalyst-dev-server listening on <url>`. */
  async listening(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let done: ExitInfo | undefined;
    void this.exited.then((e) => (done = e));
    while (!this.stdout.includes('\n')) {
      if (done) throw new Error(`CLI exited (${JSON.stringify(done)}) before listening: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`CLI not listening within ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const first = this.stdout.slice(0, this.stdout.indexOf('\n'));
    const match = /^catalyst-dev-server listening on (http:\/\/\S+)$/.exec(first);
    if (!match) throw new Error(`unexpected first line: ${JSON.stringify(first)}`);
    return match[1] as string;
  }

  /** Waits until standard output matches `pattern`. */
  async waitForStdout(pattern: RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stdout)) {
      if (Date.now() > deadline) throw new Error(`stdout did not match ${pattern}: ${this.stdout}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for the exit, killing the process with SIGKILL after `timeoutMs`. */
  async exit(timeoutMs = 15_000): Promise<ExitInfo> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitInfo> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit();
  }
}

/** A temporary directory removed by `remove()`. */
export function tempDir(prefix = 'catalyst-test-'): {
  path: string;
  file(name: string): string;
  remove(): void;
} {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** Writes a value as JSON to a file and returns the file's path. */
export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  return path;
}
