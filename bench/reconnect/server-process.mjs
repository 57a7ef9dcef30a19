// The dev server as a user runs it: the CLI in a child process, with a config, `--data` and
// `--flush-ms`. `kill()` is a crash (SIGKILL: no shutdown, no final snapshot), `stop()` a clean
// end (SIGTERM).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { clearTimeout, setTimeout } from 'node:timers';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LISTENING = /catalyst-dev-server listening on (http:\/\/\S+)/;

/**
 * Starts `dev-server/node/cli.ts` on `port` (0: any free one) and resolves once it prints its
 * listening line, with its URL and port.
 * @param {{ port: number, config: string, data: string, flushMs: number }} options
 */
export async function startServer({ port, config, data, flushMs }) {
  const args = ['--import', 'tsx', 'dev-server/node/cli.ts', '--host', '127.0.0.1', '--port', String(port)];
  args.push('--config', config, '--data', data, '--flush-ms', String(flushMs));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  const exited = once(child, 'exit');
  const url = await new Promise((resolve, reject) => {
    let stdout = '';
    const onExit = (code, signal) => fail(`exited (${signal ?? code}) before listening`);
    const timer = setTimeout(() => fail('did not print its listening line within 30 s'), 30_000);
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`dev server ${why}:\n${stderr}`));
    };
    child.stdout.setEncoding('utf8').on('data', (text) => {
      stdout += text;
      const match = LISTENING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(match[1]);
      }
    });
    child.once('exit', onExit);
  });
  child.stdout.resume(); // keep draining: a full pipe would block the server
  return {
    url,
    port: Number(new URL(url).port),
    /** CPU time the process has used so far, in ms (Linux: /proc; elsewhere NaN). */
    cpuMs() {
      try {
        // Fields 14 and 15 of /proc/PID/stat (after the parenthesised name): utime, stime in ticks of 10 ms.
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        return NaN;
      }
    },
    /** Crashes it: SIGKILL; resolves when the process is gone. */
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    /** Ends it cleanly: SIGTERM; resolves when the process is gone. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
