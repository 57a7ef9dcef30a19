/**
 * Log sequence numbers (PostgreSQL's WAL positions). They come in two text forms that do not
 * compare as strings (`0/153C6D8` and `00000000/0153C888`), so the source holds them as BigInt
 * and writes them in PostgreSQL's own form.
 */

/** An LSN's text (either form) as a number. */
export function parseLsn(text: string): bigint {
  const slash = text.indexOf('/');
  if (slash < 1) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${text.slice(0, slash)}`) << 32n) | BigInt(`0x${text.slice(slash + 1)}`);
}

/** An LSN in PostgreSQL's text form (`0/1A2B3C8`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
