import fc from 'fast-check';
import {
  API_INSTANT,
  epochMsOf,
  formatUtc,
  isInstant,
  OCPP_DATE_TIME,
  parseInstant,
  parseRfc3339,
  RFC3339,
  toIsoString,
} from './instant';

/** Date-time-like texts: every field and separator sometimes out of range or malformed. */
const dateTimeText = fc
  .record({
    y: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 99, 100, 1970, 2024, 9999)),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 24 }),
    mi: fc.integer({ min: 0, max: 60 }),
    s: fc.integer({ min: 0, max: 60 }),
    sep: fc.constantFrom('T', 't', ' ', 'x'),
    frac: fc.constantFrom('', '', '.', '.5', '.123', '.1234', '.1230', '.000000000', '.1230000000', '.99999'),
    off: fc.constantFrom(
      '',
      'Z',
      'z',
      'Z',
      '+01:00',
      '-15:59',
      '+16:00',
      '+23:59',
      '+24:00',
      '+0100',
      '-0530',
      '+01:60',
      '+99:99',
      '+1:00',
      'Zz',
      '+01:00Z',
    ),
  })
  .map(({ y, mo, d, h, mi, s, sep, frac, off }) => {
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${p(y, 4)}-${p(mo)}-${p(d)}${sep}${p(h)}:${p(mi)}:${p(s)}${frac}${off}`;
  });

/** The API parser as it was written with a regular expression: the reference the scanner must agree with. */
function apiReference(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(
    text,
  );
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  if (
    day < 1 ||
    day >
      new Date(Date.UTC(2000, month, 0)).getUTCDate() +
        (month === 2 && !((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0) ? -1 : 0)
  )
    return null;
  const fraction = m[7] ?? '';
  if (/[1-9]/.test(fraction.slice(3))) return null;
  let offset = 0;
  if (!m[8]) {
    if (Number(m[11]) > 59 || Number(m[10]) > 15) return null;
    offset = (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, '0')));
  const ms = d.getTime() - offset * 60_000;
  return ms < -62135596800000 || ms > 253402300799999 ? null : ms;
}

/** The OCPP parser as the normaliser wrote it (regular expression + Date.UTC round trip): the reference. */
function ocppReference(text: string): { iso: string; offsetMissing: boolean } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number((frac + '00').slice(0, 3)) : 0;
  let offsetMinutes = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return null;
  return { iso: new Date(local - offsetMinutes * 60_000).toISOString(), offsetMissing: zone === undefined };
}

describe('API_INSTANT (the default): the one RFC 3339 instant of every API date input', () => {
  it.each([
    ['2026-03-01T00:00:00Z', Date.UTC(2026, 2, 1)],
    ['2026-03-01t10:15:30.250+01:00', Date.UTC(2026, 2, 1, 9, 15, 30, 250)],
    ['2026-03-01T10:15:30.250000000-15:59', Date.UTC(2026, 2, 2, 2, 14, 30, 250)],
    ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['9999-12-31T23:59:59.999Z', 253402300799999],
  ])('accepts %s', (text, epochMs) => {
    expect(parseInstant(text)).toEqual({ ok: true, epochMs, offsetMissing: false });
  });

  it.each([
    ['0000-01-01T00:00:00Z', 'year'],
    ['0001-01-01T00:00:00+01:00', 'UTC'],
    ['9999-12-31T23:59:59-00:01', 'UTC'],
    ['2026-01-01T00:00:00+23:59', '15:59'],
    ['2026-01-01T00:00:00+16:00', '15:59'],
    ['2026-01-01T00:00:00+01:60', 'offset minutes'],
    ['2026-12-31T23:59:60Z', 'leap'],
    ['2026-02-29T00:00:00Z', 'does not exist'],
    ['2026-13-01T00:00:00Z', 'month'],
    ['2026-01-01T24:00:00Z', 'hour'],
    ['2026-01-01T00:60:00Z', 'minute'],
    ['2026-01-01T00:00:00.0001Z', 'millisecond'],
    ['2026-01-01T00:00:00', 'RFC 3339'],
    ['2026-01-01 00:00:00Z', 'RFC 3339'],
    ['+012026-01-01T00:00:00Z', 'RFC 3339'],
    ['2026-01-01T00:00:00.1234567890Z', 'RFC 3339'],
    ['', 'RFC 3339'],
  ])('refuses %s (%s)', (text, why) => {
    const r = parseInstant(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(why);
  });

  it('refuses what is not a string', () => {
    expect(isInstant(20260101)).toBe(false);
    expect(isInstant(null)).toBe(false);
    expect(parseInstant(undefined)).toEqual({ ok: false, reason: 'must be a string', shape: true });
  });

  it('agrees with the regular-expression reference on any date-time-like text', () => {
    fc.assert(
      fc.property(dateTimeText, (text) => {
        const r = parseInstant(text, API_INSTANT);
        expect(r.ok ? r.epochMs : null).toBe(apiReference(text));
        expect(isInstant(text)).toBe(r.ok);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('RFC3339 (parseRfc3339): tariffs and priced sessions', () => {
  it.each([
    ['2024-01-16T15:00:00Z', Date.UTC(2024, 0, 16, 15)],
    ['2024-01-16t16:00:00.250+01:00', Date.UTC(2024, 0, 16, 15, 0, 0, 250)],
    ['2024-01-16T15:00:00.250000000000z', Date.UTC(2024, 0, 16, 15, 0, 0, 250)],
    ['2024-01-16T00:00:00+23:59', Date.UTC(2024, 0, 15, 0, 1)],
    ['0000-03-01T00:00:00Z', -62162035200000], // year 0000 (1 BC): what ISO 8601 and Date.parse make of it
  ])('accepts %s', (text, epochMs) => {
    expect(parseRfc3339(text)).toBe(epochMs);
  });

  it.each([
    '2024-01-16T15:00:00',
    '2024-01-16 15:00:00Z',
    '2024-01-16T15:00:00.0001Z',
    '2024-01-16T15:00:00+0100',
    '2024-01-16T15:00:60Z',
    '2023-02-29T00:00:00Z',
    '2024-01-16T15:00:00.Z',
    '2024-01-16T15:00:00+24:00',
    '2024-01-16T15:00Z',
    '',
  ])('refuses %j', (text) => {
    expect(parseRfc3339(text)).toBeNull();
    expect(parseInstant(text, RFC3339).ok).toBe(false);
  });

  it('agrees with Date.parse wherever the text is RFC 3339 (the process time zone plays no part: every text has an offset)', () => {
    fc.assert(
      fc.property(dateTimeText, (text) => {
        const ms = parseRfc3339(text);
        if (ms !== null) expect(ms).toBe(Date.parse(text.replace('t', 'T').replace('z', 'Z')));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('OCPP_DATE_TIME: what stations send', () => {
  it.each([
    ['2026-03-29T01:30:00Z', '2026-03-29T01:30:00.000Z', false],
    ['2026-03-29 02:30:00+0100', '2026-03-29T01:30:00.000Z', false],
    ['2026-03-29T01:30:00', '2026-03-29T01:30:00.000Z', true],
    ['2026-03-29T01:30:00.123456789', '2026-03-29T01:30:00.123Z', true],
    ['2026-03-29T03:30:00.5+02:00', '2026-03-29T01:30:00.500Z', false],
  ])('reads %s as %s (offset missing: %s)', (text, iso, offsetMissing) => {
    const r = parseInstant(text, OCPP_DATE_TIME);
    expect(r).toEqual({ ok: true, epochMs: Date.parse(iso), offsetMissing });
    expect(r.ok && toIsoString(r.epochMs)).toBe(iso);
  });

  it.each([
    ['0099-01-01T00:00:00Z', false],
    ['2026-02-30T00:00:00Z', false],
    ['2026-01-01T00:00:60Z', false],
    ['2026-01-01T00:00Z', true],
    ['2026-01-01T00:00:00+1:00', true],
    ['2026-01-01T00:00:00.Z', true],
  ])('refuses %s (not even the shape: %s)', (text, shape) => {
    const r = parseInstant(text, OCPP_DATE_TIME);
    expect(r).toMatchObject({ ok: false, shape });
  });

  it('agrees with the normaliser reference (regular expression and Date.UTC) on any date-time-like text', () => {
    fc.assert(
      fc.property(dateTimeText, (text) => {
        const r = parseInstant(text, OCPP_DATE_TIME);
        const ref = ocppReference(text);
        expect(r.ok ? { iso: toIsoString(r.epochMs), offsetMissing: r.offsetMissing } : null).toEqual(ref);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('epochMsOf: the canonical form fast, anything else through the RFC 3339 scanner', () => {
  it('reads the canonical form and any RFC 3339 text as Date.parse does; NaN otherwise', () => {
    expect(epochMsOf('2026-03-01T10:00:00.250Z')).toBe(Date.UTC(2026, 2, 1, 10, 0, 0, 250));
    expect(epochMsOf('2026-03-01T11:00:00.250+01:00')).toBe(Date.UTC(2026, 2, 1, 10, 0, 0, 250));
    expect(epochMsOf('0050-03-01T00:00:00.000Z')).toBe(new Date('0050-03-01T00:00:00.000Z').getTime());
    expect(epochMsOf('2026-02-30T00:00:00.000Z')).toBeNaN();
    expect(epochMsOf('2026-03-01T10:00:00')).toBeNaN();
    fc.assert(
      fc.property(fc.integer({ min: -62167219200000, max: 253402300799999 }), (ms) => {
        expect(epochMsOf(new Date(ms).toISOString())).toBe(ms);
      }),
    );
  });
});

describe('UTC formatting', () => {
  it('formatUtc writes milliseconds only when there are some', () => {
    expect(formatUtc(Date.UTC(2024, 0, 16, 15))).toBe('2024-01-16T15:00:00Z');
    expect(formatUtc(Date.UTC(2024, 0, 16, 15, 0, 0, 5))).toBe('2024-01-16T15:00:00.005Z');
    expect(formatUtc(Date.UTC(1969, 11, 31, 23, 59, 59, 999))).toBe('1969-12-31T23:59:59.999Z');
  });

  it('toIsoString equals Date#toISOString, inside and outside years 0000-9999; formatUtc reads back', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62167219200000 - 1e12, max: 253402300799999 + 1e12 }), (ms) => {
        expect(toIsoString(ms)).toBe(new Date(ms).toISOString());
        if (ms >= -62167219200000 && ms <= 253402300799999) expect(parseRfc3339(formatUtc(ms))).toBe(ms);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the fast path of the two canonical shapes', () => {
  it('gives what the general scanner gives, for any text of those shapes (valid or not)', () => {
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.constantFrom('', '.000', '.999', '.05x', '.1234'),
        (y, mo, d, h, mi, s, frac) => {
          const text = `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}${frac}Z`;
          const general = parseInstant(text, RFC3339);
          expect(parseRfc3339(text)).toBe(general.ok ? general.epochMs : null);
          expect(epochMsOf(text)).toBe(general.ok ? general.epochMs : NaN);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
