/** Instants of the decider: ISO-8601 text to epoch ms and back (UTC; DST needs nothing special). */

function digits(iso: string, a: number, b: number): number {
  let v = 0;
  for (let i = a; i < b; i++) v = v * 10 + iso.charCodeAt(i) - 48;
  return v;
}

/** Epoch ms of an instant; read by arithmetic for the canonical `YYYY-MM-DDTHH:mm:ss.sssZ` the normaliser emits. */
export function parseInstantMs(iso: string): number {
  if (iso.length === 24 && iso.charCodeAt(23) === 90 /* Z */ && iso.charCodeAt(10) === 84 /* T */) {
    const y = digits(iso, 0, 4);
    const mo = digits(iso, 5, 7);
    const d = digits(iso, 8, 10);
    const h = digits(iso, 11, 13);
    const mi = digits(iso, 14, 16);
    const sec = digits(iso, 17, 19);
    const f = digits(iso, 20, 23);
    if (y >= 100 && y <= 9999 && mo >= 1 && mo <= 12) return utcMs(y, mo, d, h, mi, sec, f);
    return Date.UTC(y, mo - 1, d, h, mi, sec, f);
  }
  return Date.parse(iso);
}

/**
 * Date.UTC(y, mo - 1, d, h, mi, s, f) for years 100..9999 and months 1..12 (the other fields may be any
 * integers: Date.UTC is linear in them), in plain arithmetic instead of a call into the runtime.
 * Days from the civil date: H. Hinnant's algorithm (proleptic Gregorian, as ECMAScript's MakeDay).
 */
export function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, f: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146_097 + doe - 719_468;
  return days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + f;
}

/** `YYYY-MM-DDTHH:mm:ss.sssZ` of an epoch ms. */
export const isoOf = (ms: number): string => new Date(ms).toISOString();

/** parseInstantMs that remembers the last instant read (a fact's time is read several times in a row). */
export function instantReader(): (iso: string) => number {
  let lastIso = '';
  let lastMs = 0;
  return (iso) => {
    if (iso !== lastIso) {
      lastMs = parseInstantMs(iso);
      lastIso = iso;
    }
    return lastMs;
  };
}
