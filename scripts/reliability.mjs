#!/usr/bin/env node
// The reliability suite of issue 8: runs test/reliability/*.test.ts (node --test through tsx) at
// the full size, or with --short at the size `npm test` runs, with RELIABILITY_SCALE and
// RELIABILITY_FIGURES set; collects the figures each test recorded into one table per area (load
// held, faults survived, bad inputs tried, events lost and duplicated, data leaked, crashes), with
// the machine and the date. The full run writes them to RELIABILITY.md; the short run prints them
// and leaves the file alone. Ends with `N passed, N failed`, like scripts/test.mjs's suites.
//
//   node scripts/reliability.mjs [--short]        RELIABILITY_SEED=<seed> repeats a run's inputs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUITE = join(ROOT, 'test', 'reliability');
const OUT = join(ROOT, 'RELIABILITY.md');
const short = process.argv.includes('--short');
const scale = short ? 'short' : 'full';
// One seed for every file, so one number repeats the whole run. The short run (inside `npm test`,
// so inside CI) uses a fixed one: its inputs are the same on every machine and every run; the full
// run draws a new one each time, to keep finding new inputs.
const seed =
  process.env.RELIABILITY_SEED || (short ? '20261123' : String(Math.floor(Math.random() * 2 ** 32)));

const { FigureSchema } = await tsImport('../test/reliability/support/figures.ts', import.meta.url);

/** What the numbers were measured on (as bench/run.mjs says it). */
function machine() {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
}

/** Runs the suite's files one at a time, echoing the output; resolves with the exit code and output. */
function runTests(figures) {
  const files = readdirSync(SUITE)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(SUITE, f));
  // One file at a time: the timings in the table are then each test's own on this machine.
  const args = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RELIABILITY_SCALE: scale, RELIABILITY_FIGURES: figures, RELIABILITY_SEED: seed },
    });
    let output = '';
    const echo = (stream) => (d) => {
      output += d;
      stream.write(d);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const COLUMNS = [
  ['load held', (f) => f.load],
  ['faults survived', (f) => f.faults],
  ['bad inputs tried', (f) => f.badInputs],
  ['events lost', (f) => f.lost],
  ['duplicated', (f) => f.duplicated],
  ['data leaked', (f) => f.leaked],
  ['crashes', (f) => f.crashes],
  ['s', (f) => f.seconds],
];
/** Columns an area's table has only when one of its tests measured them (the hardening figures). */
const OPTIONAL_COLUMNS = [
  ['bystander p99 ms', (f) => f.bystanderP99Ms],
  ['RSS MiB before → after', (f) => f.rssMiB && `${f.rssMiB.before} → ${f.rssMiB.after}`],
  ['bytes sent', (f) => (f.bytesSent === undefined ? undefined : bytes(f.bytesSent))],
];
/** A byte count for people: 883 MiB, 1.2 KiB. */
function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
const COUNTS = ['faults', 'badInputs', 'lost', 'duplicated', 'leaked', 'crashes'];
/** Areas in the order of the issue's items; any other area follows, by name. */
const AREA_ORDER = [
  'faults',
  'persistence',
  'bad input',
  'slow consumers',
  'isolation and auth',
  'browser safety',
  'hardening',
];
const rank = (area) => (AREA_ORDER.includes(area) ? AREA_ORDER.indexOf(area) : AREA_ORDER.length);

const cell = (value) => String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells) => `| ${cells.map(cell).join(' | ')} |`;

/** The Markdown report of the figures. */
function report(figures, counts, failing, seconds) {
  const info = machine();
  const areas = [...new Set(figures.map((f) => f.area))].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
  const lines = [
    `# Reliability`,
    '',
    `The ${scale} run of \`node scripts/reliability.mjs${short ? ' --short' : ''}\` (issue 8), measured on ${info.date}: ${info.cpu}, ${info.memory}, Node ${info.node}. It took ${seconds} s. \`RELIABILITY_SEED=${seed}\` repeats its generated inputs.`,
    '',
    `**${counts.passed} passed, ${counts.failed} failed.**${failing.length ? ` Failing: ${failing.map((f) => `“${f}”`).join('; ')}.` : ''}`,
    '',
    '## Totals',
    '',
    row([
      'area',
      'tests',
      'faults survived',
      'bad inputs tried',
      'events lost',
      'duplicated',
      'data leaked',
      'crashes',
    ]),
    `|${Array(8).fill('---').join('|')}|`,
  ];
  for (const area of areas) {
    const mine = figures.filter((f) => f.area === area);
    const sums = COUNTS.map((key) => mine.reduce((n, f) => n + f[key], 0));
    lines.push(row([area, mine.length, ...sums]));
  }
  for (const area of areas) {
    const mine = figures.filter((g) => g.area === area);
    const columns = [
      ...COLUMNS.slice(0, 1),
      ...OPTIONAL_COLUMNS.filter(([, get]) => mine.some((f) => get(f) !== undefined)),
      ...COLUMNS.slice(1),
    ];
    lines.push(
      '',
      `## ${area[0].toUpperCase()}${area.slice(1)}`,
      '',
      row(['test', ...columns.map(([name]) => name)]),
    );
    lines.push(
      `|${Array(columns.length + 1)
        .fill('---')
        .join('|')}|`,
    );
    const notes = [];
    for (const f of mine) {
      lines.push(row([f.test, ...columns.map(([, get]) => get(f) ?? '—')]));
      if (f.notes) notes.push(`- ${f.test}: ${f.notes}`);
    }
    if (notes.length) lines.push('', ...notes.map(cell));
  }
  return `${lines.join('\n')}\n`;
}

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'catalyst-reliability-'));
const figuresFile = join(dir, 'figures.jsonl');
console.log(`reliability suite, ${scale} run, RELIABILITY_SEED=${seed}`);
const { code, output } = await runTests(figuresFile);
const figures = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => FigureSchema.parse(JSON.parse(line)))
  : [];
rmSync(dir, { recursive: true, force: true });

const counts = {
  passed: Number(/^ℹ pass (\d+)/m.exec(output)?.[1] ?? 0),
  failed:
    Number(/^ℹ fail (\d+)/m.exec(output)?.[1] ?? 0) + Number(/^ℹ cancelled (\d+)/m.exec(output)?.[1] ?? 0),
};
if (code !== 0 && counts.failed === 0) counts.failed = 1; // a crash with no failing test still fails
const failingSection = output.split('✖ failing tests:')[1] ?? '';
const failing = [...new Set([...failingSection.matchAll(/^✖ (.+?) \(\d[\d.]*ms\)$/gm)].map((m) => m[1]))];
const markdown = report(figures, counts, failing, Math.round((Date.now() - started) / 1000));
if (short) console.log(`\n${markdown}`);
else {
  writeFileSync(OUT, markdown);
  console.log(`\nwrote ${OUT}`);
}
console.log(`${counts.passed} passed, ${counts.failed} failed`);
process.exit(counts.failed === 0 && counts.passed > 0 ? 0 : 1);
