/**
 * Reads a file line by line, as a stream: a data file may be far larger than one string can be
 * (V8 caps a string near 512 MiB), so it is never read whole. A line longer than `maxBytes` is
 * refused before it is gathered, with `LineTooLongError`.
 */
import { constants } from 'node:buffer';
import { createReadStream } from 'node:fs';

/** One line of a file, without its newline. */
export type Line = {
  /** The line's text. */
  text: string;
  /** 1-based. */
  number: number;
  /** Byte offset just past the line and its newline. */
  end: number;
  /** False for a last line with no newline after it (a write cut short, or an edited file). */
  terminated: boolean;
};

/** The most UTF-8 bytes a line may have: its text must fit in one string (a byte is at most one unit). */
const MAX_LINE_BYTES = constants.MAX_STRING_LENGTH;

/** A line is too long to read into a string. */
export class LineTooLongError extends Error {
  constructor(
    readonly number: number,
    readonly maxBytes: number,
  ) {
    super(`line ${number} is longer than ${maxBytes} bytes, the longest line that fits in a string`);
  }
}

const NEWLINE = 0x0a;

/** The lines of the file at `path`, in order. */
export async function* readLines(path: string, maxBytes = MAX_LINE_BYTES): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let number = 0;
  let offset = 0; // bytes of the file before the current chunk
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, start)) {
      number++;
      if (pendingBytes + at - start > maxBytes) throw new LineTooLongError(number, maxBytes);
      pending.push(chunk.subarray(start, at));
      yield { text: Buffer.concat(pending).toString('utf8'), number, end: offset + at + 1, terminated: true };
      pending = [];
      pendingBytes = 0;
      start = at + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxBytes) throw new LineTooLongError(number + 1, maxBytes);
      pending.push(chunk.subarray(start));
    }
    offset += chunk.length;
  }
  if (pendingBytes > 0) {
    yield {
      text: Buffer.concat(pending).toString('utf8'),
      number: number + 1,
      end: offset,
      terminated: false,
    };
  }
}
