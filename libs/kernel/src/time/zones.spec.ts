import fc from 'fast-check';
import { formatLocal, TimeZones } from './zones';

/**
 * Europe/Amsterdam, 2026: summer time starts Sunday 29 March 01:00 UTC (02:00 CET -> 03:00 CEST)
 * and ends Sunday 25 October 01:00 UTC (03:00 CEST -> 02:00 CET).
 */
const AMS = 'Europe/Amsterdam';

describe('local time across DST changes (Europe/Amsterdam 2026)', () => {
  const zones = new TimeZones();

  it.each<[string, string, string]>([
    ['last second of CET before spring forward', '2026-03-29T00:59:59Z', '2026-03-29T01:59:59'],
    ['first second of CEST', '2026-03-29T01:00:00Z', '2026-03-29T03:00:00'],
    ['before fall back (first 02:30)', '2026-10-25T00:30:00Z', '2026-10-25T02:30:00'],
    ['last second of CEST', '2026-10-25T00:59:59Z', '2026-10-25T02:59:59'],
    ['first second of CET (02:00 again)', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00'],
    ['after fall back (second 02:30)', '2026-10-25T01:30:00Z', '2026-10-25T02:30:00'],
    ['local midnight in summer', '2026-07-01T22:00:00Z', '2026-07-02T00:00:00'],
  ])('%s', (_name, utc, local) => {
    const parts = zones.localParts(AMS, Date.parse(utc));
    expect(zones.formatLocal(parts)).toBe(local);
    expect(formatLocal(parts)).toBe(local);
  });

  it('agrees with Intl for any instant of 2026 in several zones (offset cache included)', () => {
    const names = [
      'Europe/Amsterdam',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kolkata',
      'America/St_Johns',
      'UTC',
    ];
    const fmt = new Map(
      names.map((z) => [
        z,
        new Intl.DateTimeFormat('sv-SE', {
          timeZone: z,
          hourCycle: 'h23',
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
        }),
      ]),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1) / 1000, max: Date.UTC(2027, 0, 1) / 1000 }),
        fc.constantFrom(...names),
        (sec, zone) => {
          const ms = sec * 1000;
          expect(zones.formatLocal(zones.localParts(zone, ms))).toBe(
            fmt.get(zone)!.format(new Date(ms)).replace(' ', 'T'),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('offsets around the transitions', () => {
    expect(zones.offsetMinutes(AMS, Date.parse('2026-03-29T00:59:59Z'))).toBe(60);
    expect(zones.offsetMinutes(AMS, Date.parse('2026-03-29T01:00:00Z'))).toBe(120);
    expect(zones.offsetMinutes(AMS, Date.parse('2026-10-25T00:59:59Z'))).toBe(120);
    expect(zones.offsetMinutes(AMS, Date.parse('2026-10-25T01:00:00Z'))).toBe(60);
  });
});

describe('TimeZones', () => {
  it('weekday, date key and second of day of local parts', () => {
    const p = new TimeZones().localParts('America/New_York', Date.parse('2026-03-01T04:59:30Z')); // Saturday 23:59:30 EST
    expect(p).toMatchObject({ year: 2026, month: 2, day: 28, dateKey: 20260228, secondOfDay: 86370, weekday: 5 });
  });

  it('knows IANA names and refuses the rest', () => {
    const zones = new TimeZones();
    expect(zones.isValid('Europe/Amsterdam')).toBe(true);
    expect(zones.isValid('UTC')).toBe(true);
    expect(zones.isValid('Mars/Olympus_Mons')).toBe(false);
    expect(zones.isValid('')).toBe(false);
    expect(zones.isValid(42)).toBe(false);
  });

  it('instances share nothing, and the answer never depends on what was asked before (cache bound included)', () => {
    const probes = [
      '2026-03-29T00:59:59Z',
      '2026-03-29T01:00:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:30:00Z',
      '2026-01-01T00:00:00Z',
    ].map(Date.parse);
    const fresh = probes.map((ms) => new TimeZones().offsetMinutes(AMS, ms));
    const tiny = new TimeZones(2); // cleared every two hours cached
    const shared = new TimeZones();
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: probes.length - 1 }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(AMS, 'Asia/Kolkata'),
        (order, other) => {
          for (const i of order) {
            shared.offsetMinutes(other, probes[i] + 7 * 3_600_000);
            expect(shared.offsetMinutes(AMS, probes[i])).toBe(fresh[i]);
            expect(tiny.offsetMinutes(AMS, probes[i])).toBe(fresh[i]);
          }
        },
      ),
    );
  });
});
