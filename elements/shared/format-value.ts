/**
 * Turns a record value into display text, as `data-format` asks. The result is always plain text
 * (it goes into `textContent`), never markup.
 *
 * Formats:
 *
 * | `data-format` | shows | with |
 * |---|---|---|
 * | (none) | strings as they are, numbers with `String()`, objects and arrays as JSON | |
 * | `number` | `1,234.5` | `Intl.NumberFormat` |
 * | `integer` | `1,235` (rounded) | `Intl.NumberFormat` |
 * | `percent` | `12%` for `0.12` | `Intl.NumberFormat` |
 * | `currency:EUR` | `€1,234.50` (any ISO 4217 code) | `Intl.NumberFormat` |
 * | `date` | `Mar 5, 2025` | `Intl.DateTimeFormat` `dateStyle: medium` |
 * | `datetime` | `Mar 5, 2025, 2:07 PM` | `dateStyle: medium, timeStyle: short` |
 * | `time` | `2:07 PM` | `timeStyle: short` |
 * | `relative` | `3 minutes ago`, `in 2 days` | `Intl.RelativeTimeFormat` `numeric: auto` |
 *
 * Dates are ISO 8601 strings or epoch milliseconds. A value the format cannot read (text where a
 * number is expected, an unknown currency, an unknown format) is shown unformatted rather than
 * hidden; `null` and missing values show as empty text. Formatters are built once per
 * (locale, format) and reused: a list of 10 000 rows does not build 10 000 of them.
 */

type Formatter = (value: unknown, now: number) => string | undefined;

const cache = new Map<string, Formatter | null>();

/** Text for `value` in `format` (see the table above), for `locale` (`undefined`: the browser's). */
export function formatValue(
  value: unknown,
  format: string | undefined,
  locale: string | undefined,
  now: number = Date.now(),
): string {
  if (value === null || value === undefined) return '';
  if (format) {
    const formatter = formatterFor(format, locale);
    const text = formatter?.(value, now);
    if (text !== undefined) return text;
  }
  return plainText(value);
}

/** Whether text in `format` changes as time passes (and so needs refreshing). */
export function isTimeRelative(format: string | undefined): boolean {
  return format === 'relative';
}

/** A value as text without any format. */
function plainText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value) ?? '';
  return String(value);
}

function formatterFor(format: string, locale: string | undefined): Formatter | undefined {
  const key = `${locale ?? ''}\u0000${format}`;
  let formatter = cache.get(key);
  if (formatter === undefined) {
    try {
      formatter = createFormatter(format, locale);
    } catch {
      formatter = null; // an unknown locale or currency code: show values unformatted
    }
    cache.set(key, formatter);
  }
  return formatter ?? undefined;
}

/** The `Intl.NumberFormat` options of each number format but `currency`. */
const NUMBER_FORMATS: Readonly<Record<string, Intl.NumberFormatOptions>> = {
  number: {},
  integer: { maximumFractionDigits: 0 },
  percent: { style: 'percent' },
};

/** The `Intl.DateTimeFormat` options of each date format. */
const DATE_FORMATS: Readonly<Record<string, Intl.DateTimeFormatOptions>> = {
  date: { dateStyle: 'medium' },
  datetime: { dateStyle: 'medium', timeStyle: 'short' },
  time: { timeStyle: 'short' },
};

function createFormatter(format: string, locale: string | undefined): Formatter | null {
  const [name, argument] = splitFormat(format);
  if (name === 'currency') {
    return argument
      ? formatter(toNumber, new Intl.NumberFormat(locale, { style: 'currency', currency: argument }))
      : null;
  }
  if (Object.hasOwn(NUMBER_FORMATS, name)) {
    return formatter(toNumber, new Intl.NumberFormat(locale, NUMBER_FORMATS[name]));
  }
  if (Object.hasOwn(DATE_FORMATS, name))
    return formatter(toTime, new Intl.DateTimeFormat(locale, DATE_FORMATS[name]));
  return name === 'relative'
    ? relativeFormatter(new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }))
    : null;
}

function splitFormat(format: string): [string, string | undefined] {
  const colon = format.indexOf(':');
  if (colon < 0) return [format.trim().toLowerCase(), undefined];
  return [
    format.slice(0, colon).trim().toLowerCase(),
    format
      .slice(colon + 1)
      .trim()
      .toUpperCase(),
  ];
}

/** A finite number as it is; `undefined` for anything else. */
function finite(value: unknown): number | undefined {
  return Number.isFinite(value) ? (value as number) : undefined;
}

function toNumber(value: unknown): number | undefined {
  return typeof value === 'string' && value.trim() !== '' ? finite(Number(value)) : finite(value);
}

function toTime(value: unknown): number | undefined {
  return typeof value === 'string' ? finite(Date.parse(value)) : finite(value);
}

/** Formats what `read` makes of a value with `format`; `undefined` when it makes nothing. */
function formatter(
  read: (value: unknown) => number | undefined,
  format: { format(x: number): string },
): Formatter {
  return (value) => {
    const x = read(value);
    return x === undefined ? undefined : format.format(x);
  };
}

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['week', 7 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
  ['second', 1000],
];

function relativeFormatter(format: Intl.RelativeTimeFormat): Formatter {
  return (value, now) => {
    const time = toTime(value);
    if (time === undefined) return undefined;
    const delta = time - now;
    for (const [unit, ms] of UNITS) {
      if (Math.abs(delta) >= ms || unit === 'second') return format.format(Math.round(delta / ms), unit);
    }
    return undefined;
  };
}
