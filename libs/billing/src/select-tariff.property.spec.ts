import fc from 'fast-check';
import { parseRfc3339 } from '@csms/kernel';
import {
  SCOPE_PRECEDENCE,
  TariffIndex,
  selectTariff,
  type AssignmentScope,
  type TariffAssignment,
  type TariffSelection,
  type TariffSelectionContext,
  type TariffVersionRef,
} from './select-tariff';

/**
 * The selection rule written as the plainest scan of the whole catalogue (the way selectTariff was written before
 * the index): filter the assignments that match and are in force, order them, walk them. The index must give the
 * same answer — the same objects, the same skipped list and texts — or throw the same error (code and field), for
 * any catalogue, including broken ones, and whatever number of selections it served before.
 */
type Outcome = TariffSelection | { thrown: string };

function reference(
  assignments: TariffAssignment[],
  versions: TariffVersionRef[],
  ctx: TariffSelectionContext,
): Outcome {
  const bad = (code: string, field: string): Outcome => ({ thrown: `${code} ${field}` });
  const ms = (t: unknown) => (typeof t === 'string' ? parseRfc3339(t) : null);
  const at = ms(ctx.at);
  if (at === null) return bad('BILLING_INVALID_CONTEXT', 'at');
  if (typeof ctx.stationId !== 'string' || ctx.stationId === '') return bad('BILLING_INVALID_CONTEXT', 'stationId');
  const seen: number[] = [];
  for (const [i, a] of assignments.entries()) {
    if (!Number.isSafeInteger(a.sequence) || seen.includes(a.sequence))
      return bad('BILLING_INVALID_ASSIGNMENT', `assignments[${i}].sequence`);
    seen.push(a.sequence);
    if (!SCOPE_PRECEDENCE.includes(a.scope?.kind))
      return bad('BILLING_INVALID_ASSIGNMENT', `assignments[${i}].scope.kind`);
    if (ms(a.effectiveFrom) === null) return bad('BILLING_INVALID_ASSIGNMENT', `assignments[${i}].effectiveFrom`);
  }
  const hits = (s: AssignmentScope): boolean =>
    s.kind === 'default' ||
    (s.kind === 'account' && s.accountId === ctx.accountId) ||
    (s.kind === 'token_group' && s.groupId === ctx.tokenGroupId) ||
    (s.kind === 'site' && s.siteId === ctx.siteId) ||
    (s.kind === 'station' && s.stationId === ctx.stationId) ||
    (s.kind === 'evse' && s.stationId === ctx.stationId && s.evseId === ctx.evseId) ||
    (s.kind === 'connector' &&
      s.stationId === ctx.stationId &&
      s.connectorId === ctx.connectorId &&
      (s.evseId === undefined || s.evseId === ctx.evseId));
  const rank = (a: TariffAssignment) => SCOPE_PRECEDENCE.indexOf(a.scope.kind);
  const ordered = assignments
    .filter((a) => ms(a.effectiveFrom)! <= at && hits(a.scope))
    .sort((x, y) => rank(x) - rank(y) || ms(y.effectiveFrom)! - ms(x.effectiveFrom)! || y.sequence - x.sequence);
  const skipped: NonNullable<Extract<TariffSelection, { skipped: unknown }>['skipped']>[number][] = [];
  const removed: string[] = [];
  const ended = new Set<number>();
  for (const a of ordered) {
    const level = SCOPE_PRECEDENCE[rank(a)];
    if (ended.has(rank(a))) continue;
    if (a.removed === true) {
      removed.push(`${level} (removed by ${a.assignmentId})`);
      ended.add(rank(a));
      continue;
    }
    let chosen: { v: TariffVersionRef; i: number } | null = null;
    for (const [i, v] of versions.entries()) {
      if (v.tariffId !== a.tariffId) continue;
      if (!Number.isSafeInteger(v.version)) return bad('BILLING_INVALID_VERSION', `versions[${i}].version`);
      const from = ms(v.effectiveFrom);
      if (from === null) return bad('BILLING_INVALID_VERSION', `versions[${i}].effectiveFrom`);
      if (from > at) continue;
      const best = chosen === null ? null : ms(chosen.v.effectiveFrom)!;
      if (best === null || from > best || (from === best && v.version > chosen!.v.version)) chosen = { v, i };
    }
    if (chosen === null)
      return {
        ok: false,
        code: 'NO_VERSION_IN_FORCE',
        detail: `tariff ${a.tariffId} (assignment ${a.assignmentId}, level ${level}) has no version with effectiveFrom <= ${ctx.at}`,
        assignment: a,
        level,
      };
    const w = chosen.v.tariff ?? {};
    let reason: 'NOT_YET_VALID' | 'EXPIRED' | null = null;
    if (w.start_date_time !== undefined) {
      const start = ms(w.start_date_time);
      if (start === null) return bad('BILLING_INVALID_VERSION', `versions[${chosen.i}].tariff.start_date_time`);
      if (at < start) reason = 'NOT_YET_VALID';
    }
    if (reason === null && w.end_date_time !== undefined) {
      const end = ms(w.end_date_time);
      if (end === null) return bad('BILLING_INVALID_VERSION', `versions[${chosen.i}].tariff.end_date_time`);
      if (at >= end) reason = 'EXPIRED';
    }
    if (reason === null) return { ok: true, assignment: a, version: chosen.v, level, skipped };
    skipped.push({
      assignmentId: a.assignmentId,
      tariffId: a.tariffId,
      version: chosen.v.version,
      level,
      reason,
      ...(w.start_date_time !== undefined ? { start_date_time: w.start_date_time } : {}),
      ...(w.end_date_time !== undefined ? { end_date_time: w.end_date_time } : {}),
    });
  }
  const tail = removed.length > 0 ? `; removed: ${removed.join(', ')}` : '';
  if (skipped.length === 0)
    return {
      ok: false,
      code: 'NO_ASSIGNMENT',
      detail: `no tariff assignment in force at ${ctx.at} for station ${ctx.stationId}${tail}`,
    };
  const list = skipped.map(
    (k) =>
      `${k.tariffId} v${k.version} (${k.level}, ${k.reason === 'EXPIRED' ? `ended ${k.end_date_time}` : `starts ${k.start_date_time}`})`,
  );
  return {
    ok: false,
    code: 'NO_VALID_TARIFF',
    detail: `no assigned tariff is valid at ${ctx.at} for station ${ctx.stationId}: ${list.join(', ')}${tail}`,
    skipped,
  };
}

function outcome(f: () => TariffSelection): Outcome {
  try {
    return f();
  } catch (e) {
    const err = e as { code?: string; field?: string };
    return { thrown: `${err.code} ${err.field}` };
  }
}

// small domains, so that scopes match, instants tie and versions compete; a few broken values among them
const INSTANTS = [
  '2026-01-01T00:00:00Z',
  '2026-02-01T00:00:00Z',
  '2026-02-01T00:00:00+01:00',
  '2026-03-01T10:00:00Z',
  '2026-04-01T00:00:00Z',
];
const instantArb = fc.oneof(
  { arbitrary: fc.constantFrom(...INSTANTS), weight: 150 },
  { arbitrary: fc.constant('2026-13-01'), weight: 1 },
);
const station = fc.constantFrom('CP-1', 'CP-2');
const small = fc.integer({ min: 1, max: 2 });
const scopeArb: fc.Arbitrary<AssignmentScope> = fc.oneof(
  fc.record({ kind: fc.constant('account' as const), accountId: fc.constantFrom('ACC-1', 'ACC-2') }),
  fc.record({ kind: fc.constant('token_group' as const), groupId: fc.constantFrom('G-1', 'G-2') }),
  fc.record(
    { kind: fc.constant('connector' as const), stationId: station, evseId: small, connectorId: small },
    { requiredKeys: ['kind', 'stationId', 'connectorId'] },
  ),
  fc.record({ kind: fc.constant('evse' as const), stationId: station, evseId: small }),
  fc.record({ kind: fc.constant('station' as const), stationId: station }),
  fc.record({ kind: fc.constant('site' as const), siteId: fc.constantFrom('SITE-1', 'SITE-2') }),
  fc.constant({ kind: 'default' as const }),
);
const tariffId = fc.constantFrom('T1', 'T2', 'T3', 'T4');
const catalogueArb = fc.record({
  assignments: fc
    .array(
      fc.record({
        tariffId,
        scope: fc.oneof(
          { arbitrary: scopeArb, weight: 200 },
          { arbitrary: fc.constant({ kind: 'planet' } as unknown as AssignmentScope), weight: 1 },
        ),
        effectiveFrom: instantArb,
        removed: fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 6 },
          { arbitrary: fc.constant(true), weight: 1 },
        ),
        // unique positions in the log but now and then a repeated or a fractional one
        sequence: fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 200 },
          { arbitrary: fc.constantFrom(10, 2.5), weight: 1 },
        ),
      }),
      { maxLength: 12 },
    )
    .map((list) =>
      list.map((a, i): TariffAssignment => ({
        assignmentId: `a${i}`,
        tariffId: a.tariffId,
        scope: a.scope,
        effectiveFrom: a.effectiveFrom,
        sequence: a.sequence ?? 10 * (i + 1),
        ...(a.removed ? { removed: true } : {}),
      })),
    ),
  versions: fc.array(
    fc.record(
      {
        tariffId: fc.constantFrom('T1', 'T2', 'T3', 'T4', 'T5'),
        version: fc.oneof(
          { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 40 },
          { arbitrary: fc.constant(1.5), weight: 1 },
        ),
        effectiveFrom: instantArb,
        publishedAt: fc.constant('2025-12-01T00:00:00Z'),
        tariff: fc.oneof(
          { arbitrary: fc.constant({}), weight: 1 },
          {
            arbitrary: fc.record({ start_date_time: instantArb, end_date_time: instantArb }, { requiredKeys: [] }),
            weight: 1,
          },
        ),
      },
      { requiredKeys: ['tariffId', 'version', 'effectiveFrom', 'publishedAt'] },
    ),
    { maxLength: 10 },
  ),
});
const contextArb: fc.Arbitrary<TariffSelectionContext> = fc.record(
  {
    at: instantArb,
    stationId: station,
    siteId: fc.constantFrom('SITE-1', 'SITE-2'),
    evseId: small,
    connectorId: small,
    tokenGroupId: fc.constantFrom('G-1', 'G-2'),
    accountId: fc.constantFrom('ACC-1', 'ACC-2'),
  },
  { requiredKeys: ['at', 'stationId'] },
);

describe('TariffIndex: the selection rule over an indexed catalogue', () => {
  it('gives what a scan of the whole catalogue gives, for every session it is asked about, in any order', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(
        catalogueArb,
        fc.array(contextArb, { minLength: 1, maxLength: 8 }),
        ({ assignments, versions }, contexts) => {
          const index = new TariffIndex(assignments, versions);
          for (const ctx of contexts) {
            const expected = reference(assignments, versions, ctx);
            expect(outcome(() => index.select(ctx))).toEqual(expected);
            expect(outcome(() => selectTariff(assignments, versions, ctx))).toEqual(expected);
            const kind =
              'thrown' in expected
                ? 'thrown'
                : expected.ok
                  ? expected.skipped.length > 0
                    ? 'ok after skipping'
                    : 'ok'
                  : expected.code;
            seen.set(kind, (seen.get(kind) ?? 0) + 1);
          }
        },
      ),
      { numRuns: 3000 },
    );
    // every kind of answer was compared, not only failures
    expect([...seen.keys()].sort()).toEqual(
      ['NO_ASSIGNMENT', 'NO_VALID_TARIFF', 'NO_VERSION_IN_FORCE', 'ok', 'ok after skipping', 'thrown'].sort(),
    );
    expect(Math.min(...[...seen.values()])).toBeGreaterThan(100);
  });

  it("the answer is the catalogue's own objects (not copies)", () => {
    const assignments: TariffAssignment[] = [
      {
        assignmentId: 'a1',
        tariffId: 'T1',
        scope: { kind: 'site', siteId: 'S' },
        effectiveFrom: INSTANTS[0],
        sequence: 1,
      },
    ];
    const versions: TariffVersionRef[] = [
      { tariffId: 'T1', version: 1, effectiveFrom: INSTANTS[0], publishedAt: INSTANTS[0] },
    ];
    const r = new TariffIndex(assignments, versions).select({ at: INSTANTS[3], stationId: 'CP-1', siteId: 'S' });
    expect(r.ok && r.assignment === assignments[0] && r.version === versions[0]).toBe(true);
  });
});
