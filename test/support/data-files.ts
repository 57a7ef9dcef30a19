/**
 * Reads the files `--data` leaves (version 2: JSON lines), for tests that check what a crash left
 * behind without starting a server on them.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The snapshot's lines, parsed; throws on a line that is not JSON (a half-written file). */
export function snapshotLines(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, 'utf8');
  if (!text.endsWith('\n')) throw new Error(`${path} does not end with a newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new Error(`${path} line ${i + 1} is not JSON: ${(error as Error).message}`, { cause: error });
      }
    });
}

/**
 * Why the files a crash left at `path` are damaged, or undefined: the snapshot must be whole (a
 * header first, an end line last) and every journal line whole, except the newest journal's last
 * line, which a crash may have cut.
 */
export function dataFileDamage(path: string): string | undefined {
  if (existsSync(path)) {
    let lines;
    try {
      lines = snapshotLines(path);
    } catch (error) {
      return (error as Error).message;
    }
    if (lines[0]?.kind !== 'header' || lines[0].format !== 'catalyst-dev-server-data')
      return `${path} does not start with a data file header`;
    if (lines.at(-1)?.kind !== 'end') return `${path} does not end with an end line`;
  }
  const journals = [`${path}.journal.1`, `${path}.journal`].filter((j) => existsSync(j));
  for (const journal of journals) {
    const lines = readFileSync(journal, 'utf8').split('\n');
    const last = lines.pop(); // empty after a whole append, or torn by the crash
    if (journal !== journals.at(-1) && last !== '') return `${journal} ends with a torn line`;
    for (const [i, line] of lines.entries()) {
      try {
        JSON.parse(line);
      } catch {
        return `${journal} line ${i + 1} of ${lines.length} is damaged`;
      }
    }
  }
  return undefined;
}
