/**
 * A server process's share of the cluster's connection counts, as a child process that a test can
 * really kill (`SIGKILL`: no cleanup runs) or stall (`SIGSTOP`/`SIGCONT`: no heartbeat while
 * stopped). `ClusterNodeProcess.start` runs this file; the child takes `open` slots of `client`
 * with `ClusterConnections`, prints `{"node":…,"open":n}` and stays until it is signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ClusterConnections,
  type ClusterConnectionsOptions,
} from '../../dev-server/cluster/cluster-connections.js';

/** What the child is told to do. */
export type ClusterNodePlan = Omit<ClusterConnectionsOptions, 'onError'> & {
  client: string;
  max: number;
  open: number;
};

/** A running child node. */
export class ClusterNodeProcess {
  private constructor(
    readonly child: ChildProcess,
    /** Its node id. */
    readonly node: string,
    /** The slots it took. */
    readonly open: number,
  ) {}

  /** Starts a child node and waits until it holds its slots (within 15 s). */
  static async start(plan: ClusterNodePlan): Promise<ClusterNodeProcess> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(plan)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (data: string) => (stdout += data));
    child.stderr?.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    const deadline = Date.now() + 15_000;
    while (!stdout.includes('\n')) {
      if (child.exitCode !== null) throw new Error(`cluster node exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`cluster node not ready within 15 s: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const { node, open } = JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as {
      node: string;
      open: number;
    };
    return new ClusterNodeProcess(child, node, open);
  }

  /** Sends a signal and, for one that ends the process, waits until it has exited. */
  async signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    if (signal === 'SIGKILL') await exited;
  }
}

async function runChild(plan: ClusterNodePlan): Promise<void> {
  const { client, max, open, ...options } = plan;
  const counts = await ClusterConnections.connect({ ...options, onError: () => {} });
  let taken = 0;
  for (let i = 0; i < open; i++) if ((await counts.tryOpen(client, max)).ok) taken++;
  process.stdout.write(`${JSON.stringify({ node: counts.node, open: taken })}\n`);
  setInterval(() => {}, 60_000); // the heartbeat's timer does not hold the process
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runChild(JSON.parse(process.argv[2] ?? '{}') as ClusterNodePlan).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
