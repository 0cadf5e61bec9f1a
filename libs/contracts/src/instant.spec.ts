import { isInstant, parseInstant } from './instant';

describe('parseInstant: the one RFC 3339 instant of every API date input', () => {
  it.each([
    ['2026-03-01T00:00:00Z', Date.UTC(2026, 2, 1)],
    ['2026-03-01t10:15:30.250+01:00', Date.UTC(2026, 2, 1, 9, 15, 30, 250)],
    ['2026-03-01T10:15:30.250000000-15:59', Date.UTC(2026, 2, 2, 2, 14, 30, 250)],
    ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['9999-12-31T23:59:59.999Z', 253402300799999],
  ])('accepts %s', (text, epochMs) => {
    expect(parseInstant(text)).toEqual({ ok: true, epochMs });
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
    ['', 'RFC 3339'],
  ])('refuses %s (%s)', (text, why) => {
    const r = parseInstant(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(why);
  });

  it('refuses what is not a string', () => {
    expect(isInstant(20260101)).toBe(false);
    expect(isInstant(null)).toBe(false);
  });
});
