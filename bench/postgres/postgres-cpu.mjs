/**
 * CPU time of a PostgreSQL cluster's processes (Linux /proc): the postmaster and its children —
 * the writers' backends, the WAL writer, and the walsender that decodes the WAL for the dev
 * server's slot (pgoutput), which is also reported on its own. A backend that has exited counts
 * too: the postmaster reaps it, and its time goes into the postmaster's children's time. And the
 * whole machine's, to tell how much of it went to other work.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Linux's USER_HZ: /proc/PID/stat counts CPU time in ticks of 10 ms. */
const TICK_MS = 10;

/** `{ totalMs, walsenderMs }` so far for the cluster in `dataDir` (NaN where /proc cannot say). */
export function postgresCpu(dataDir) {
  let postmaster;
  try {
    postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return { totalMs: NaN, walsenderMs: NaN };
  }
  let totalMs = 0;
  let walsenderMs = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the parenthesised name: state, ppid, …, utime (12th), stime, cutime, cstime.
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const pid = Number(entry);
      if (pid !== postmaster && Number(fields[1]) !== postmaster) continue;
      // utime, stime; for the postmaster also cutime, cstime: its children that have exited.
      const ticks = pid === postmaster ? fields.slice(11, 15) : fields.slice(11, 13);
      const ms = ticks.reduce((sum, t) => sum + Number(t), 0) * TICK_MS;
      totalMs += ms;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('walsender')) walsenderMs += ms;
    } catch {
      // the process ended meanwhile
    }
  }
  return { totalMs, walsenderMs };
}

/** CPU time every process of the machine has used so far, in ms (all cores; NaN where /proc cannot say). */
export function machineCpuMs() {
  try {
    // The first line of /proc/stat: cpu user nice system idle iowait irq softirq steal …, in ticks.
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
    return busy * TICK_MS;
  } catch {
    return NaN;
  }
}
