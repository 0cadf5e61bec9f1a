import { BillingError } from './errors';
import {
  AssignmentScope,
  CANDIDATE_ORDER,
  TariffAssignment,
  TariffSelectionContext,
  TariffVersionRef,
  VERSION_ORDER,
  selectTariff,
} from './select-tariff';

let seq = 0;
function assign(
  tariffId: string,
  scope: AssignmentScope,
  effectiveFrom = '2026-01-01T00:00:00Z',
  extra: Partial<TariffAssignment> = {},
): TariffAssignment {
  seq += 1;
  return { assignmentId: `a-${tariffId}-${seq}`, tariffId, scope, effectiveFrom, sequence: seq, ...extra };
}
function version(tariffId: string, v: number, effectiveFrom = '2026-01-01T00:00:00Z'): TariffVersionRef {
  return { tariffId, version: v, effectiveFrom, publishedAt: '2025-12-01T00:00:00Z' };
}

const ctx: TariffSelectionContext = {
  at: '2026-03-01T10:00:00Z',
  stationId: 'CP-001',
  siteId: 'SITE-1',
  evseId: 1,
  connectorId: 2,
  tokenGroupId: 'FLEET-A',
  accountId: 'ACC-9',
};

const SCOPES: Record<string, AssignmentScope> = {
  account: { kind: 'account', accountId: 'ACC-9' },
  token_group: { kind: 'token_group', groupId: 'FLEET-A' },
  connector: { kind: 'connector', stationId: 'CP-001', evseId: 1, connectorId: 2 },
  evse: { kind: 'evse', stationId: 'CP-001', evseId: 1 },
  station: { kind: 'station', stationId: 'CP-001' },
  site: { kind: 'site', siteId: 'SITE-1' },
  default: { kind: 'default' },
};
const LEVELS = Object.keys(SCOPES);
const allVersions = LEVELS.map((l) => version(`T-${l}`, 1));

describe('selectTariff: precedence account > token_group > connector > evse > station > site > default', () => {
  // For each level: assignments at that level and every weaker one -> that level wins.
  it.each(LEVELS.map((level, i) => [level, LEVELS.slice(i)] as const))(
    '%s beats every weaker level',
    (level, present) => {
      // listed weakest first, so list order cannot be what decides
      const assignments = [...present].reverse().map((l) => assign(`T-${l}`, SCOPES[l]));
      const r = selectTariff(assignments, allVersions, ctx);
      expect(r).toEqual({
        ok: true,
        assignment: assignments[assignments.length - 1],
        version: allVersions[LEVELS.indexOf(level)],
        level,
        skipped: [],
      });
    },
  );

  it.each([
    ['account of another driver', { kind: 'account', accountId: 'ACC-1' }],
    ['another token group', { kind: 'token_group', groupId: 'FLEET-B' }],
    ['same connector id on another EVSE', { kind: 'connector', stationId: 'CP-001', evseId: 2, connectorId: 2 }],
    ['another connector', { kind: 'connector', stationId: 'CP-001', connectorId: 1 }],
    ['connector of another station', { kind: 'connector', stationId: 'CP-002', connectorId: 2 }],
    ['another EVSE', { kind: 'evse', stationId: 'CP-001', evseId: 3 }],
    ['another station', { kind: 'station', stationId: 'CP-002' }],
    ['another site', { kind: 'site', siteId: 'SITE-2' }],
  ] as const)('ignores a scope that does not match: %s', (_name, scope) => {
    const r = selectTariff([assign('T-other', scope), assign('T-station', SCOPES.station)], allVersions, ctx);
    expect(r.ok && r.level).toBe('station');
  });

  it('a connector scope without evseId matches the station connector id (OCPP 1.6 numbering)', () => {
    const r = selectTariff(
      [
        assign('T-connector', { kind: 'connector', stationId: 'CP-001', connectorId: 2 }),
        assign('T-station', SCOPES.station),
      ],
      allVersions,
      ctx,
    );
    expect(r.ok && r.level).toBe('connector');
  });

  it('context without account, token group, EVSE or site skips those levels', () => {
    const assignments = LEVELS.map((l) => assign(`T-${l}`, SCOPES[l]));
    // the connector scope names EVSE 1: a context that does not know its EVSE does not match it
    const r = selectTariff(assignments, allVersions, { at: ctx.at, stationId: 'CP-001', connectorId: 2 });
    expect(r.ok && r.level).toBe('station');
    const r1 = selectTariff(assignments, allVersions, { at: ctx.at, stationId: 'CP-001', evseId: 1, connectorId: 2 });
    expect(r1.ok && r1.level).toBe('connector');
    const r2 = selectTariff(assignments, allVersions, { at: ctx.at, stationId: 'CP-001' });
    expect(r2.ok && r2.level).toBe('station');
  });
});

describe('selectTariff: effective dating, ties and removal within a level', () => {
  const v = ['A', 'B', 'C'].map((t) => version(t, 1, '2025-01-01T00:00:00Z'));
  it.each([
    {
      name: 'greatest effectiveFrom <= at wins',
      log: [
        ['A', '2026-01-01T00:00:00Z'],
        ['B', '2026-02-01T00:00:00Z'],
        ['C', '2026-04-01T00:00:00Z'], // future: not yet in force
      ],
      expected: 'B',
    },
    {
      name: 'effectiveFrom exactly at the session start is in force',
      log: [
        ['A', '2026-01-01T00:00:00Z'],
        ['B', '2026-03-01T10:00:00Z'],
      ],
      expected: 'B',
    },
    {
      name: 'effective one millisecond after the start is not',
      log: [
        ['A', '2026-01-01T00:00:00Z'],
        ['B', '2026-03-01T10:00:00.001Z'],
      ],
      expected: 'A',
    },
    {
      name: 'offsets are compared as instants (11:00+01:00 = 10:00Z)',
      log: [
        ['A', '2026-03-01T09:00:00Z'],
        ['B', '2026-03-01T11:00:00+01:00'],
      ],
      expected: 'B',
    },
    {
      name: 'same effectiveFrom: the later entry of the log (greatest sequence) wins, whatever the list order',
      log: [
        ['A', '2026-02-01T00:00:00Z', 7],
        ['B', '2026-02-01T00:00:00Z', 9],
        ['C', '2026-02-01T00:00:00Z', 8],
      ],
      expected: 'B',
    },
    {
      name: 'a later log entry with an older effectiveFrom does not win',
      log: [
        ['A', '2026-02-01T00:00:00Z', 1],
        ['B', '2026-01-01T00:00:00Z', 2],
      ],
      expected: 'A',
    },
  ] as { name: string; log: [string, string, number?][]; expected: string }[])('$name', ({ log, expected }) => {
    const assignments = log.map(([t, from, s]) =>
      assign(t, SCOPES.station, from, s === undefined ? {} : { sequence: 1000 + s }),
    );
    const r = selectTariff(assignments, v, ctx);
    expect(r.ok && r.assignment.tariffId).toBe(expected);
  });

  it('a removal in force means the level has no tariff: the search goes on to the next level', () => {
    const r = selectTariff(
      [
        assign('A', SCOPES.station, '2026-01-01T00:00:00Z'),
        assign('A', SCOPES.station, '2026-02-01T00:00:00Z', { removed: true }),
        assign('C', SCOPES.default),
      ],
      v,
      ctx,
    );
    expect(r.ok && [r.level, r.assignment.tariffId]).toEqual(['default', 'C']);
  });

  it('a removal not yet in force, or superseded by a later assignment, removes nothing', () => {
    const notYet = selectTariff(
      [
        assign('A', SCOPES.station),
        assign('A', SCOPES.station, '2026-06-01T00:00:00Z', { removed: true }),
        assign('C', SCOPES.default),
      ],
      v,
      ctx,
    );
    expect(notYet.ok && notYet.level).toBe('station');
    const superseded = selectTariff(
      [
        assign('A', SCOPES.station),
        assign('A', SCOPES.station, '2026-02-01T00:00:00Z', { removed: true }),
        assign('B', SCOPES.station, '2026-02-15T00:00:00Z'),
        assign('C', SCOPES.default),
      ],
      v,
      ctx,
    );
    expect(superseded.ok && superseded.assignment.tariffId).toBe('B');
  });

  it('nothing in force at all: NO_ASSIGNMENT, never a free session', () => {
    const r = selectTariff(
      [
        assign('A', SCOPES.station, '2026-06-01T00:00:00Z'),
        assign('B', SCOPES.default, '2026-01-01T00:00:00Z', { removed: true }),
      ],
      v,
      ctx,
    );
    expect(r).toEqual({ ok: false, code: 'NO_ASSIGNMENT', detail: expect.stringContaining('CP-001') });
    expect(selectTariff([], v, ctx)).toMatchObject({ ok: false, code: 'NO_ASSIGNMENT' });
  });
});

describe('selectTariff: the version in force', () => {
  const a = [assign('A', SCOPES.station)];
  it.each([
    {
      name: 'greatest effectiveFrom <= at',
      versions: [
        version('A', 1, '2026-01-01T00:00:00Z'),
        version('A', 2, '2026-02-01T00:00:00Z'),
        version('A', 3, '2026-04-01T00:00:00Z'),
      ],
      expected: 2,
    },
    {
      name: 'same effectiveFrom: greatest version',
      versions: [
        version('A', 4, '2026-02-01T00:00:00Z'),
        version('A', 5, '2026-02-01T00:00:00Z'),
        version('A', 3, '2026-02-01T00:00:00Z'),
      ],
      expected: 5,
    },
    {
      name: 'a higher version effective later is not in force yet',
      versions: [version('A', 1, '2026-02-01T00:00:00Z'), version('A', 2, '2026-03-01T10:00:01Z')],
      expected: 1,
    },
    {
      name: 'versions of other tariffs are ignored',
      versions: [version('B', 9, '2026-02-01T00:00:00Z'), version('A', 1, '2026-01-01T00:00:00Z')],
      expected: 1,
    },
  ])('$name', ({ versions, expected }) => {
    const r = selectTariff(a, versions, ctx);
    expect(r.ok && r.version.version).toBe(expected);
  });

  it('no version in force: NO_VERSION_IN_FORCE (no fall-through to a weaker level)', () => {
    const r = selectTariff(
      [assign('A', SCOPES.account), assign('C', SCOPES.default)],
      [version('A', 1, '2026-04-01T00:00:00Z'), version('C', 1)],
      ctx,
    );
    expect(r).toMatchObject({
      ok: false,
      code: 'NO_VERSION_IN_FORCE',
      level: 'account',
      assignment: { tariffId: 'A' },
    });
  });

  it("carries the caller's version records through (generic)", () => {
    const versions = [
      { ...version('A', 1), tariff: { id: 'A', currency: 'EUR', start_date_time: '2026-01-01T00:00:00Z' } },
    ];
    const r = selectTariff(a, versions, ctx);
    expect(r.ok && r.version.tariff).toEqual({ id: 'A', currency: 'EUR', start_date_time: '2026-01-01T00:00:00Z' });
  });
});

describe('selectTariff: the OCPI validity window (start_date_time inclusive, end_date_time exclusive, UTC)', () => {
  // ctx.at = 2026-03-01T10:00:00Z
  const JAN = '2026-01-01T00:00:00Z';
  const FEB = '2026-02-01T00:00:00Z';
  const FEB15 = '2026-02-15T00:00:00Z';
  type W = { start?: string; end?: string };
  const windowed = (tariffId: string, v: number, effectiveFrom: string, w: W = {}): TariffVersionRef => ({
    ...version(tariffId, v, effectiveFrom),
    tariff: { ...(w.start ? { start_date_time: w.start } : {}), ...(w.end ? { end_date_time: w.end } : {}) },
  });
  type Row = {
    name: string;
    log: [tariffId: string, level: keyof typeof SCOPES, effectiveFrom: string, extra?: Partial<TariffAssignment>][];
    versions: TariffVersionRef[];
    expected: string | 'NO_VALID_TARIFF';
    skipped: [tariffId: string, reason: 'EXPIRED' | 'NOT_YET_VALID'][];
  };
  it.each<Row>([
    {
      name: 'a later assignment whose tariff has expired falls through to the earlier one (end exclusive: ends exactly at the start)',
      log: [
        ['A', 'station', JAN],
        ['B', 'station', FEB],
      ],
      versions: [windowed('A', 1, JAN), windowed('B', 1, FEB, { start: FEB, end: '2026-03-01T10:00:00Z' })],
      expected: 'A',
      skipped: [['B', 'EXPIRED']],
    },
    {
      name: 'ending one millisecond after the start: still valid',
      log: [
        ['A', 'station', JAN],
        ['B', 'station', FEB],
      ],
      versions: [windowed('A', 1, JAN), windowed('B', 1, FEB, { end: '2026-03-01T10:00:00.001Z' })],
      expected: 'B',
      skipped: [],
    },
    {
      name: 'start inclusive: starting exactly at the session start is valid',
      log: [
        ['A', 'station', JAN],
        ['B', 'station', FEB],
      ],
      versions: [windowed('A', 1, JAN), windowed('B', 1, FEB, { start: '2026-03-01T10:00:00Z' })],
      expected: 'B',
      skipped: [],
    },
    {
      name: 'not valid yet (announced ahead, OCPI start_date_time): the earlier assignment applies until then',
      log: [
        ['A', 'station', JAN],
        ['B', 'station', FEB],
      ],
      versions: [windowed('A', 1, JAN), windowed('B', 1, FEB, { start: '2026-03-01T10:00:00.001Z' })],
      expected: 'A',
      skipped: [['B', 'NOT_YET_VALID']],
    },
    {
      name: 'the window is compared as an instant (11:00+01:00 = 10:00Z: ended)',
      log: [
        ['A', 'station', JAN],
        ['B', 'station', FEB],
      ],
      versions: [windowed('A', 1, JAN), windowed('B', 1, FEB, { end: '2026-03-01T11:00:00+01:00' })],
      expected: 'A',
      skipped: [['B', 'EXPIRED']],
    },
    {
      name: 'overlapping windows, both valid: the list order decides (latest assignment first), not which window started later',
      log: [
        ['B', 'station', JAN],
        ['A', 'station', FEB],
      ],
      versions: [
        windowed('A', 1, JAN, { start: JAN, end: '2026-12-01T00:00:00Z' }),
        windowed('B', 1, JAN, { start: FEB15, end: '2026-04-01T00:00:00Z' }),
      ],
      expected: 'A',
      skipped: [],
    },
    {
      name: 'overlapping windows, same effectiveFrom: the later log entry first',
      log: [
        ['A', 'station', FEB, { sequence: 501 }],
        ['B', 'station', FEB, { sequence: 502 }],
      ],
      versions: [windowed('A', 1, JAN, { start: FEB15 }), windowed('B', 1, JAN, { start: FEB })],
      expected: 'B',
      skipped: [],
    },
    {
      name: 'several expired candidates in a level are each passed over, newest first',
      log: [
        ['A', 'station', JAN],
        ['B', 'station', FEB],
        ['C', 'station', FEB15],
      ],
      versions: [
        windowed('A', 1, JAN),
        windowed('B', 1, FEB, { end: FEB15 }),
        windowed('C', 1, FEB15, { end: '2026-02-20T00:00:00Z' }),
      ],
      expected: 'A',
      skipped: [
        ['C', 'EXPIRED'],
        ['B', 'EXPIRED'],
      ],
    },
    {
      name: 'every tariff of a level out of its window: the next level applies',
      log: [
        ['B', 'station', FEB],
        ['D', 'default', JAN],
      ],
      versions: [windowed('B', 1, FEB, { end: FEB15 }), windowed('D', 1, JAN)],
      expected: 'D',
      skipped: [['B', 'EXPIRED']],
    },
    {
      name: 'an expired contract tariff (account) gives way to the station price',
      log: [
        ['K', 'account', JAN],
        ['S', 'station', JAN],
      ],
      versions: [windowed('K', 1, JAN, { end: FEB }), windowed('S', 1, JAN)],
      expected: 'S',
      skipped: [['K', 'EXPIRED']],
    },
    {
      name: 'a removal still ends its level behind an expired newer assignment',
      log: [
        ['A', 'station', JAN],
        ['A', 'station', FEB, { removed: true }],
        ['B', 'station', FEB15],
        ['D', 'default', JAN],
      ],
      versions: [
        windowed('A', 1, JAN),
        windowed('B', 1, FEB15, { end: '2026-02-20T00:00:00Z' }),
        windowed('D', 1, JAN),
      ],
      expected: 'D',
      skipped: [['B', 'EXPIRED']],
    },
    {
      name: 'nothing valid anywhere: NO_VALID_TARIFF, never a free session',
      log: [
        ['A', 'station', JAN],
        ['D', 'default', JAN],
      ],
      versions: [windowed('A', 1, JAN, { end: FEB }), windowed('D', 1, JAN, { start: '2026-04-01T00:00:00Z' })],
      expected: 'NO_VALID_TARIFF',
      skipped: [
        ['A', 'EXPIRED'],
        ['D', 'NOT_YET_VALID'],
      ],
    },
    {
      name: 'the version in force carries the window: an older version of the same tariff is not revived',
      log: [['A', 'station', JAN]],
      versions: [windowed('A', 1, JAN), windowed('A', 2, FEB, { end: FEB15 })],
      expected: 'NO_VALID_TARIFF',
      skipped: [['A', 'EXPIRED']],
    },
    {
      name: 'a newer version without a window makes the tariff valid again',
      log: [['A', 'station', JAN]],
      versions: [
        windowed('A', 1, JAN),
        windowed('A', 2, FEB, { end: FEB15 }),
        windowed('A', 3, '2026-02-20T00:00:00Z'),
      ],
      expected: 'A',
      skipped: [],
    },
  ])('$name', ({ log, versions, expected, skipped }) => {
    const assignments = log.map(([t, level, from, extra]) => assign(t, SCOPES[level], from, extra ?? {}));
    const r = selectTariff(assignments, versions, ctx);
    if (expected === 'NO_VALID_TARIFF') {
      expect(r).toMatchObject({
        ok: false,
        code: 'NO_VALID_TARIFF',
        detail: expect.stringContaining('no assigned tariff is valid'),
      });
    } else {
      expect(r.ok && r.assignment.tariffId).toBe(expected);
    }
    const got = r.ok || r.code === 'NO_VALID_TARIFF' ? r.skipped : [];
    expect(got.map((k) => [k.tariffId, k.reason])).toEqual(skipped);
  });

  it('a skipped candidate says which assignment, version, level and window it was', () => {
    const a = [assign('A', SCOPES.station, JAN), assign('B', SCOPES.station, FEB)];
    const r = selectTariff(a, [windowed('A', 1, JAN), windowed('B', 4, FEB, { start: FEB, end: FEB15 })], ctx);
    expect(r).toMatchObject({
      ok: true,
      assignment: a[0],
      skipped: [
        {
          assignmentId: a[1].assignmentId,
          tariffId: 'B',
          version: 4,
          level: 'station',
          reason: 'EXPIRED',
          start_date_time: FEB,
          end_date_time: FEB15,
        },
      ],
    });
  });

  it('a version whose window is not RFC 3339 is invalid input', () => {
    const run = () => selectTariff([assign('A', SCOPES.station)], [windowed('A', 1, JAN, { end: 'next year' })], ctx);
    expect(run).toThrow(
      expect.objectContaining({ code: 'BILLING_INVALID_VERSION', field: 'versions[0].tariff.end_date_time' }),
    );
  });
});

describe('selectTariff: the precedence constants', () => {
  // Each key of CANDIDATE_ORDER decides before the next one: two candidates that differ in a key and,
  // the other way round, in every later key.
  it.each<[(typeof CANDIDATE_ORDER)[number], TariffAssignment[], string]>([
    [
      'level',
      [
        assign('S', SCOPES.station, '2026-02-01T00:00:00Z', { sequence: 902 }),
        assign('K', SCOPES.account, '2026-01-01T00:00:00Z', { sequence: 901 }),
      ],
      'K',
    ],
    [
      'effectiveFrom',
      [
        assign('A', SCOPES.station, '2026-02-01T00:00:00Z', { sequence: 911 }),
        assign('B', SCOPES.station, '2026-01-01T00:00:00Z', { sequence: 912 }),
      ],
      'A',
    ],
    [
      'sequence',
      [
        assign('A', SCOPES.station, '2026-02-01T00:00:00Z', { sequence: 922 }),
        assign('B', SCOPES.station, '2026-02-01T00:00:00Z', { sequence: 921 }),
      ],
      'A',
    ],
  ])('%s', (key, assignments, expected) => {
    expect(CANDIDATE_ORDER).toContain(key);
    const versions = ['A', 'B', 'K', 'S'].map((t) => version(t, 1, '2025-01-01T00:00:00Z'));
    for (const list of [assignments, [...assignments].reverse()]) {
      const r = selectTariff(list, versions, ctx);
      expect(r.ok && r.assignment.tariffId).toBe(expected);
    }
  });

  it('are, in order: level, effectiveFrom, sequence; versions by effectiveFrom, then version', () => {
    expect(CANDIDATE_ORDER).toEqual(['level', 'effectiveFrom', 'sequence']);
    expect(VERSION_ORDER).toEqual(['effectiveFrom', 'version']);
  });
});

describe('selectTariff: invalid input is a typed error', () => {
  it.each([
    ['an invalid at', () => selectTariff([], [], { ...ctx, at: 'yesterday' }), 'BILLING_INVALID_CONTEXT'],
    [
      'an invalid effectiveFrom',
      () => selectTariff([assign('A', SCOPES.station, '2026-13-01T00:00:00Z')], [], ctx),
      'BILLING_INVALID_ASSIGNMENT',
    ],
    [
      'a repeated sequence',
      () =>
        selectTariff(
          [
            assign('A', SCOPES.station, undefined, { sequence: 1 }),
            assign('B', SCOPES.site, undefined, { sequence: 1 }),
          ],
          [],
          ctx,
        ),
      'BILLING_INVALID_ASSIGNMENT',
    ],
    [
      'a non-integer sequence',
      () => selectTariff([assign('A', SCOPES.station, undefined, { sequence: 1.5 })], [], ctx),
      'BILLING_INVALID_ASSIGNMENT',
    ],
    [
      'an unknown scope',
      () => selectTariff([assign('A', { kind: 'planet' } as unknown as AssignmentScope)], [], ctx),
      'BILLING_INVALID_ASSIGNMENT',
    ],
    [
      'an invalid version date',
      () => selectTariff([assign('A', SCOPES.station)], [version('A', 1, 'soon')], ctx),
      'BILLING_INVALID_VERSION',
    ],
  ] as const)('%s', (_name, run, code) => {
    expect(run).toThrow(BillingError);
    expect(run).toThrow(expect.objectContaining({ code, retriable: false }));
  });
});
