/**
 * A bystander that asks the server's `/healthz` over and over, one request at a time, and keeps
 * each answer's latency: what any other client would wait while the server is busy elsewhere.
 */
import { percentile } from './percentile.js';

/** Latencies of `/healthz`, polled until `stop()`. */
export class HealthzProbe {
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  private stopped = false;
  private readonly polling: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly pauseMs = 5,
  ) {
    this.polling = this.poll();
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      try {
        const res = await fetch(`${this.url}/healthz`);
        await res.text();
        if (res.status !== 200) this.failures.push(`healthz answered ${res.status}`);
        else this.latencies.push(performance.now() - started);
      } catch (error) {
        this.failures.push(`healthz failed: ${(error as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }

  /** Marks a phase: returns the latencies since the previous mark (or the start) and starts anew. */
  mark(): number[] {
    return this.latencies.splice(0);
  }

  /** Stops polling; resolves once the last request is answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.polling;
  }
}

/** p50, p99 and max of latencies, rounded to 0.1 ms. */
export function latencySummary(latencies: readonly number[]): { p50: number; p99: number; max: number } {
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    max: round(Math.max(...latencies)),
  };
}
