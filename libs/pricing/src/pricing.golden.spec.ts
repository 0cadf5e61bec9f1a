import { createHash } from 'node:crypto';
import { toCanonicalJson } from './canonical-json';
import { priceSession } from './engine';
import { loadOcpiCases, toPricingSession } from './testing/ocpi-cases';
import type { OcpiTariff, PricingDimension, PricingOptions, PricingSession } from './types';
import { compileTariff } from './validate-tariff';

/**
 * Pins the engine's exact output: a SHA-256 over the CDRs (or errors) of the OCPI worked cases under
 * every option, and of seeded sessions written in every text form the input allows (leading and trailing
 * zeros, offsets, milliseconds, current and power) plus invalid ones, priced with each case's tariff.
 * Refactoring the exact arithmetic must leave it unchanged; a change of behaviour says so and updates it.
 */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const OPTIONS: PricingOptions[] = [
  {},
  { rounding: 'HALF_EVEN', parkingStepBasis: 'TOTAL' },
  { rounding: 'FLOOR', missingMeasurement: 'NOT_SATISFIED' },
  { rounding: 'UP', unpricedConsumption: 'REJECT' },
];

/** A decimal text of `units` x 10^-decimals in one of the forms the input accepts (or, rarely, not). */
function text(units: number, decimals: number, rnd: () => number): string {
  const digits = String(units).padStart(decimals + 1, '0');
  let s =
    decimals === 0 ? digits : `${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`;
  const r = rnd();
  if (r < 0.1) s = `00${s}`;
  else if (r < 0.2) s = s.includes('.') ? `${s}000` : `${s}.0`;
  else if (r < 0.203) s = `-${s}`;
  else if (r < 0.206) s = `${s}e0`;
  else if (r < 0.209) s = `${s}0000001`;
  return s;
}

function instant(ms: number, rnd: () => number): string {
  const r = rnd();
  const iso = new Date(ms).toISOString();
  if (r < 0.3) return iso;
  if (r < 0.6) return `${iso.slice(0, 19)}Z`.replace(/\.\d+Z$/, 'Z');
  const off = 120;
  const local = new Date(ms + off * 60_000).toISOString();
  return `${local.slice(0, 23)}+02:00`;
}

function aSession(seed: number, currency: string): PricingSession {
  const rnd = lcg(seed);
  const start =
    Date.UTC(2026, 0, 1) +
    Math.floor(rnd() * 365) * 86_400_000 +
    Math.floor(rnd() * 86_400) * 1000 +
    (rnd() < 0.3 ? Math.floor(rnd() * 1000) : 0);
  const n = 1 + Math.floor(rnd() * 12);
  const periods: PricingSession['charging_periods'] = [];
  let t = start;
  let mwh = 0;
  for (let p = 0; p < n; p++) {
    const ms = (60 + Math.floor(rnd() * 3600)) * 1000 + (rnd() < 0.2 ? Math.floor(rnd() * 1000) : 0);
    const dims: PricingDimension[] = [];
    const kind = rnd();
    const e = Math.floor(rnd() * 25_000_000);
    if (kind < 0.7) {
      mwh += e;
      dims.push({ type: 'ENERGY', volume: text(e, 6, rnd) });
      dims.push({ type: 'TIME', volume: text(rnd() < 0.9 ? ms : Math.floor(ms / 2), 3, rnd) });
    } else if (kind < 0.9) dims.push({ type: 'PARKING_TIME', volume: text(ms, 3, rnd) });
    else if (kind < 0.95) dims.push({ type: 'ENERGY', volume: text(e, 6, rnd) });
    if (rnd() < 0.5) dims.push({ type: 'MAX_CURRENT', volume: text(Math.floor(rnd() * 64000), 3, rnd) });
    if (rnd() < 0.3) dims.push({ type: 'MIN_CURRENT', volume: text(Math.floor(rnd() * 6000), 2, rnd) });
    if (rnd() < 0.5) dims.push({ type: 'MAX_POWER', volume: text(Math.floor(rnd() * 50000), 2, rnd) });
    if (rnd() < 0.2) dims.push({ type: 'MIN_POWER', volume: text(Math.floor(rnd() * 5000), 1, rnd) });
    if (rnd() < 0.3) dims.reverse();
    periods.push({ start_date_time: instant(t, rnd), dimensions: dims });
    t += ms;
  }
  return {
    session_id: `golden-${seed}`,
    start_date_time: instant(start, rnd),
    end_date_time: instant(t, rnd),
    time_zone: ['Europe/Amsterdam', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'][seed % 4],
    currency,
    total_energy: rnd() < 0.9 ? text(mwh, 6, rnd) : text(mwh + 1, 6, rnd),
    charging_periods: periods,
  };
}

const errorText = (e: unknown): string => {
  const err = e as { name?: string; code?: string; field?: string; message?: string };
  return `! ${err.name} ${err.code} ${err.field} ${err.message}`;
};

function priced(tariff: OcpiTariff, session: PricingSession, options: PricingOptions): string {
  try {
    return toCanonicalJson(priceSession(tariff, session, options));
  } catch (e) {
    return errorText(e);
  }
}

describe('pricing engine output (golden)', () => {
  it('prices the OCPI worked cases under every option to byte-identical CDRs', () => {
    const h = createHash('sha256');
    for (const c of loadOcpiCases()) for (const o of OPTIONS) h.update(`${priced(c.tariff, toPricingSession(c), o)}\n`);
    expect(h.digest('hex')).toBe('5ed4547bbd86ee632132452bd2287f5e60da08a1c4e252fa2a581bcc0ea52d45');
  });

  it('prices seeded sessions in every text form with every case tariff to byte-identical CDRs', () => {
    const h = createHash('sha256');
    let ok = 0;
    const cases = loadOcpiCases();
    for (let seed = 1; seed <= 400; seed++) {
      const c = cases[seed % cases.length];
      const tariff = compileTariff({ ...c.tariff, start_date_time: undefined, end_date_time: undefined });
      const out = priced(
        tariff as unknown as OcpiTariff,
        aSession(seed, c.tariff.currency),
        OPTIONS[seed % OPTIONS.length],
      );
      if (!out.startsWith('!')) ok++;
      h.update(`${out}\n`);
    }
    expect(ok).toBeGreaterThan(100);
    expect(h.digest('hex')).toBe('242ff91a12084bf9a16f567483a5d800dc387d492321613f54f4d0b2ef086c10');
  });
});
