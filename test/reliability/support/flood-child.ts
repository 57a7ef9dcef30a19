/**
 * A process of frame flooders (frame-flooder.ts), so that their busy loops do not slow the test
 * process that times the bystanders. Run as
 * `node --import tsx flood-child.ts '{"url","key","frame","flooders","ms"}'`; it floods for `ms`,
 * then prints its counts as one JSON line (`FloodCounts`) and exits.
 */
import { FrameFlooder } from './frame-flooder.js';

/** What a flood child reports. */
export type FloodCounts = {
  connections: number;
  frames: number;
  bytes: number;
  /** Close codes of the flooders' connections, by code. */
  closes: Record<string, number>;
};

const { url, key, frame, flooders, ms } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  key: string;
  frame: string;
  flooders: number;
  ms: number;
};
const loops = Array.from({ length: flooders }, () => new FrameFlooder(url, key, frame));
await new Promise((resolve) => setTimeout(resolve, ms));
await Promise.all(loops.map((f) => f.stop()));
const counts: FloodCounts = { connections: 0, frames: 0, bytes: 0, closes: {} };
for (const f of loops) {
  counts.connections += f.connections;
  counts.frames += f.frames;
  counts.bytes += f.bytes;
  for (const [code, n] of f.closes) counts.closes[code] = (counts.closes[code] ?? 0) + n;
}
process.stdout.write(`${JSON.stringify(counts)}\n`);
