/**
 * Display helpers. Money and energy stay decimal strings as the services send them; sums for display are exact
 * (BigInt at the larger scale), never floating point.
 */

function parts(d: string): { int: bigint; scale: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(d.trim());
  if (!m) throw new Error(`not a decimal: ${d}`);
  const frac = m[3] ?? '';
  const int = BigInt(`${m[2]}${frac}` || '0');
  return { int: m[1] ? -int : int, scale: frac.length };
}

function render(int: bigint, scale: number): string {
  const neg = int < 0n;
  const digits = (neg ? -int : int).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = scale ? `.${digits.slice(digits.length - scale)}` : '';
  return `${neg ? '-' : ''}${whole}${frac}`;
}

/** Exact sum of decimal strings, at the largest scale among them. */
export function sumDecimals(values: readonly (string | null | undefined)[]): string {
  const ps = values.filter((v): v is string => typeof v === 'string' && v !== '').map(parts);
  const scale = Math.max(0, ...ps.map((p) => p.scale));
  const total = ps.reduce((acc, p) => acc + p.int * 10n ** BigInt(scale - p.scale), 0n);
  return render(total, scale);
}

/** a decimal string rounded half-up to `places` (display only) */
export function roundDecimal(value: string, places: number): string {
  const p = parts(value);
  if (p.scale <= places) return render(p.int * 10n ** BigInt(places - p.scale), places);
  const div = 10n ** BigInt(p.scale - places);
  const neg = p.int < 0n;
  const abs = neg ? -p.int : p.int;
  const q = (abs + div / 2n) / div;
  return render(neg ? -q : q, places);
}

/** Wh (integer string) as kWh with three decimals */
export function whToKwh(wh: string): string {
  return roundDecimal(render(parts(wh).int, 3), 3);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

/** "3 min ago" from an instant, against `now` */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 0) return `in ${-s} s (station clock ahead)`;
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** hours as a decimal string (OCPI total_time) → "1 h 02 min" */
export function hours(h: string | undefined): string {
  if (!h) return '—';
  const sec = Math.round(Number(h) * 3600);
  const hh = Math.floor(sec / 3600);
  const mm = Math.floor((sec % 3600) / 60);
  const ss = sec % 60;
  return hh ? `${hh} h ${String(mm).padStart(2, '0')} min` : `${mm} min ${String(ss).padStart(2, '0')} s`;
}
