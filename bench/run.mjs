#!/usr/bin/env node
// `npm run bench`: every benchmark of issue 7 on this machine — server fan-out against raw ws, list
// updates against vanilla DOM, bundle sizes, reconnect of many clients — and of issue 14 (rows
// from PostgreSQL to subscribers against the same rows through REST), each against a baseline
// measured in the same run. Writes bench/results/latest.md and latest.json and quotes the table in
// the README (between <!-- bench:start --> and <!-- bench:end -->).
//
//   node bench/run.mjs [--smoke] [--only name[,name]]
//
// `--smoke` runs each benchmark at a tiny size (seconds), writes bench/results/smoke.* (not kept in
// git) and leaves the README alone; `--only` writes bench/results/partial.*: CI runs it so the code cannot rot. It ends with a line
// `Benchmarks: N passed, N failed` (a benchmark fails when it throws, never for its numbers).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from '../scripts/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCHES = ['bundle', 'list-updates', 'fanout', 'reconnect', 'postgres'];
const README = join(ROOT, 'README.md');
const MARK = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;

const argument = (name) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const smoke = process.argv.includes('--smoke');
const only = argument('--only')?.split(',');

/** What the numbers were measured on. */
function machine() {
  let chromium = 'unknown';
  try {
    chromium = execFileSync(CHROMIUM_PATH, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    // no Chromium: the list benchmark says so itself
  }
  const cpu = cpus();
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    chromium,
    date: new Date().toISOString().slice(0, 10),
  };
}

/** One benchmark's result as Markdown. */
function markdown(result) {
  const lines = [`### ${result.title}`, ''];
  const { columns, rows } = result.table;
  lines.push(`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`);
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  if (result.targets?.length) {
    lines.push('', '| target | wanted | got | met |', '|---|---|---|---|');
    for (const t of result.targets) {
      lines.push(
        `| ${t.name} | ${t.target} | ${t.actual} | ${t.met ? 'yes' : `**no**${t.note ? `: ${t.note}` : ''}`} |`,
      );
    }
  }
  if (result.notes?.length) lines.push('', ...result.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

const started = Date.now();
if (!existsSync(join(ROOT, 'dist', 'catalyst-elements.js')) || !smoke) {
  console.log('building the script-tag bundle (vite build)…');
  execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], { cwd: ROOT, stdio: 'inherit' });
}

const results = [];
let passed = 0;
let failed = 0;
for (const name of BENCHES) {
  if (only && !only.includes(name)) continue;
  console.log(`\n=== ${name}${smoke ? ' (smoke)' : ''} ===`);
  const benchStarted = Date.now();
  try {
    const { run } = await import(`./${name}/index.mjs`);
    const result = await run({ smoke, log: (line) => console.log(`  ${line}`) });
    result.seconds = Math.round((Date.now() - benchStarted) / 1000);
    results.push({ name, ...result });
    console.log(markdown(result));
    passed++;
  } catch (error) {
    failed++;
    console.error(`${name} failed: ${error?.stack ?? error}`);
    results.push({ name, title: name, error: String(error?.message ?? error) });
  }
}

const info = machine();
const header = [
  `Measured on ${info.date}: ${info.cpu}, ${info.memory}, Node ${info.node}, ${info.chromium}.`,
  `\`npm run bench\` took ${Math.round((Date.now() - started) / 1000)} s.`,
].join(' ');
const body = results
  .map((r) => (r.error ? `### ${r.title}\n\nFailed: ${r.error}` : markdown(r)))
  .join('\n\n');
const outDir = join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
// A partial run (`--only`) never stands for the whole table.
const base = smoke ? 'smoke' : only ? 'partial' : 'latest';
writeFileSync(join(outDir, `${base}.md`), `${header}\n\n${body}\n`);
writeFileSync(
  join(outDir, `${base}.json`),
  `${JSON.stringify({ machine: info, smoke, results }, null, 2)}\n`,
);
if (!smoke && !only) {
  const readme = readFileSync(README, 'utf8');
  if (MARK.test(readme)) {
    const table = body.replace(/^### /gm, '#### ');
    writeFileSync(
      README,
      readme.replace(MARK, `<!-- bench:start -->\n\n${header}\n\n${table}\n\n<!-- bench:end -->`),
    );
  } else {
    console.error('README.md has no <!-- bench:start --> … <!-- bench:end --> region: not quoted');
  }
}
// What is kept in git stays in the house format.
if (!smoke) {
  const written = [join(outDir, `${base}.md`), join(outDir, `${base}.json`), ...(only ? [] : [README])];
  execFileSync('npx', ['prettier', '--log-level', 'warn', '--write', ...written], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
console.log(`\nwrote bench/results/${base}.md and ${base}.json`);
console.log(`Benchmarks: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
