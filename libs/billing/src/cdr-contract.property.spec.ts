import fc from 'fast-check';
import {
  CdrCreatedV4,
  SessionEndedV1,
  SessionEndedV2,
  deriveId,
  systemCatalogue,
  type CdrAudit,
  type EventOf,
  type OcpiCdr,
  type OcpiTariffDocument,
} from '@csms/contracts';
import { Dec } from '@csms/money';
import { TARIFF_LIMITS, tariffIssues, type OcpiPrice, type OcpiPriceComponent } from '@csms/pricing';
import { buildCdr, creditCdrOf, type PricingContext } from './cdr';
import type { SessionEndedPayload } from './to-pricing-session';

/**
 * The invariant behind the tariff bounds (libs/pricing TARIFF_LIMITS): any tariff that validates, priced
 * over any session.ended the contract allows (up to 10^9 kWh, the most the engine reads, and any span of
 * RFC 3339 time: year 0000 to 9999), gives a cdr.created (and its credit CDR) that validates against the
 * contract. The generators lean on the extremes: the largest price, VAT 100 %, the largest step, the
 * longest session, the most energy.
 */
const catalogue = systemCatalogue();
const MINOR: Record<string, number> = { EUR: 2, JPY: 0, KWD: 3, CLF: 4 };
const LARGEST_INT = 999_999_999n; // below TARIFF_LIMITS.amountBelow

function amountArb(minor: number): fc.Arbitrary<string> {
  const decimals = minor + TARIFF_LIMITS.amountExtraDecimals;
  const largest = `${LARGEST_INT}.${'9'.repeat(decimals)}`;
  const random = fc
    .tuple(fc.bigInt(0n, LARGEST_INT), fc.integer({ min: 0, max: decimals }))
    .chain(([int, d]) =>
      fc
        .bigInt(0n, 10n ** BigInt(d) - 1n)
        .map((frac) => (d === 0 ? `${int}` : `${int}.${frac.toString().padStart(d, '0')}`)),
    );
  return fc.oneof(
    { arbitrary: fc.constant(largest), weight: 2 },
    { arbitrary: random, weight: 3 },
    { arbitrary: fc.constant('0'), weight: 1 },
  );
}

const vatArb = fc.option(
  fc.oneof(
    fc.constant('100'),
    fc.constant('0'),
    fc.integer({ min: 0, max: 1_000_000 }).map((n) => new Dec(n).dividedBy(10_000).toFixed()),
  ),
  { nil: undefined },
);
const stepArb = fc.oneof(
  fc.constant(1),
  fc.constant(TARIFF_LIMITS.stepSizeAtMost),
  fc.integer({ min: 1, max: TARIFF_LIMITS.stepSizeAtMost }),
);

function componentsArb(minor: number): fc.Arbitrary<OcpiPriceComponent[]> {
  return fc
    .subarray(['FLAT', 'ENERGY', 'TIME', 'PARKING_TIME'] as const, { minLength: 1 })
    .chain((types) =>
      fc.tuple(
        ...types.map((type) =>
          fc
            .record({ price: amountArb(minor), vat: vatArb, step: stepArb })
            .map(({ price, vat, step }) => ({ type, price, step_size: step, ...(vat === undefined ? {} : { vat }) })),
        ),
      ),
    );
}

function limitsArb(minor: number): fc.Arbitrary<{ min_price?: OcpiPrice; max_price?: OcpiPrice }> {
  const price = fc.record({ excl: amountArb(minor), incl: fc.option(amountArb(minor), { nil: undefined }) });
  return fc
    .record({ min: fc.option(price, { nil: undefined }), max: fc.option(price, { nil: undefined }) })
    .map(({ min, max }) => {
      const out: { min_price?: OcpiPrice; max_price?: OcpiPrice } = {};
      const asPrice = (p: { excl: string; incl?: string }): OcpiPrice => ({
        excl_vat: p.excl,
        ...(p.incl === undefined ? {} : { incl_vat: p.incl }),
      });
      if (min) out.min_price = asPrice(min);
      if (max) out.max_price = asPrice(max);
      if (min && max) {
        // min <= max on each side given on both (else the tariff does not validate)
        const [lo, hi] = [min.excl, max.excl].sort((a, b) => new Dec(a).comparedTo(b));
        out.min_price = { ...out.min_price, excl_vat: lo };
        out.max_price = { ...out.max_price, excl_vat: hi };
        if (min.incl !== undefined && max.incl !== undefined) {
          const [li, hiIncl] = [min.incl, max.incl].sort((a, b) => new Dec(a).comparedTo(b));
          out.min_price = { ...out.min_price, incl_vat: li };
          out.max_price = { ...out.max_price, incl_vat: hiIncl };
        }
      }
      return out;
    });
}

const tariffArb: fc.Arbitrary<OcpiTariffDocument> = fc.constantFrom(...Object.keys(MINOR)).chain((currency) =>
  fc
    .record({
      // earlier elements restricted by session age, so that several FLAT fees can add up
      elements: fc.array(
        fc.record({ comps: componentsArb(MINOR[currency]), minDuration: fc.constantFrom(undefined, 0, 60, 3600) }),
        { minLength: 1, maxLength: 4 },
      ),
      limits: limitsArb(MINOR[currency]),
    })
    .map(({ elements, limits }) => ({
      id: 'BOUNDS',
      currency,
      elements: elements.map((e) =>
        e.minDuration === undefined
          ? { price_components: e.comps }
          : { price_components: e.comps, restrictions: { min_duration: e.minDuration } },
      ),
      ...limits,
    })),
);

const EARLIEST = Date.parse('0000-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/^\+0*(\d{4})/, '$1');

/** The generator writes v1 sessions (every field a v1 could hold); the service reads them through the v1 -> v2 upcaster. */
type V1Payload = EventOf<typeof SessionEndedV1>['payload'];

const sessionArb = fc
  .record({
    start: fc.oneof(
      fc.constant(EARLIEST),
      fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') }),
    ),
    span: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 1_000, max: 3 * 86_400_000 })),
    parkingShare: fc.constantFrom(0, 0.25),
    wh: fc.oneof(
      fc.constant('999999999999.999'),
      fc.constant('0'),
      fc.integer({ min: 0, max: 200_000_000 }).map((n) => new Dec(n).dividedBy(1000).toFixed()),
    ),
  })
  .map(({ start, span, parkingShare, wh }): V1Payload => {
    const end = Math.min(LATEST, start + span);
    const mid = parkingShare === 0 ? end : end - Math.floor((end - start) * parkingShare);
    const base = SessionEndedV1.example as V1Payload;
    const seconds = (a: number, b: number) => new Dec(b - a).dividedBy(1000).toFixed();
    const period = (from: number, to: number, charging: boolean): V1Payload['chargingPeriods'][number] => ({
      startDateTime: iso(from),
      endDateTime: iso(to),
      chargingState: charging ? 'Charging' : 'SuspendedEV',
      category: charging ? 'CHARGING' : 'PARKING',
      energyWh: charging ? wh : '0',
      durationSeconds: seconds(from, to),
      dimensions: [],
    });
    const periods = [period(start, mid, true), ...(mid < end ? [period(mid, end, false)] : [])];
    return {
      ...base,
      startedAt: iso(start),
      endedAt: iso(end),
      totals: {
        energyWh: wh,
        energyKwh: new Dec(wh).dividedBy(1000).toFixed(),
        timeSeconds: seconds(start, end),
        chargingTimeSeconds: seconds(start, mid),
        parkingTimeSeconds: seconds(mid, end),
      },
      chargingPeriods: periods,
      energyTimeline: [
        { at: iso(start), cumulativeWh: '0' },
        { at: iso(mid), cumulativeWh: wh },
      ],
    };
  });

function contextOf(session: SessionEndedPayload, tariff: OcpiTariffDocument): PricingContext {
  return {
    session,
    source: { eventId: deriveId('src'), topic: 'session.events', partition: 0, offset: '1' },
    assignments: [
      {
        assignmentId: 'asg',
        tariffId: tariff.id,
        scope: { kind: 'default' },
        effectiveFrom: '0000-01-01T00:00:00Z',
        sequence: 1,
        removed: false,
      },
    ],
    versions: [
      {
        tariffId: tariff.id,
        version: 1,
        effectiveFrom: '0000-01-01T00:00:00Z',
        publishedAt: '2026-01-01T00:00:00Z',
        contentHash: 'a'.repeat(64),
        tariff,
      },
    ],
    cpo: { countryCode: 'NL', partyId: 'CSM' },
    defaultTimeZone: 'UTC',
    rounding: 'UP',
  };
}

const emit = (cdr: OcpiCdr, audit: CdrAudit) =>
  catalogue.create(CdrCreatedV4, {
    id: deriveId('cdr-created', 'x'),
    key: 'k',
    occurredAt: '2026-01-01T00:00:00Z',
    source: 'test',
    payload: { cdr, audit, billingAccountId: null },
  });

describe('cdr.created contract holds for every valid tariff over every valid session (fast-check)', () => {
  it('any tariff that validates, priced over any session.ended, gives a CDR and a credit CDR that validate', () => {
    fc.assert(
      fc.property(tariffArb, sessionArb, (tariff, session) => {
        expect(tariffIssues(tariff)).toEqual([]);
        // the session is one the session contract allows
        const v1 = catalogue.create(SessionEndedV1, {
          id: deriveId('s', session.sessionId),
          key: session.sessionId,
          occurredAt: session.endedAt,
          source: 'test',
          payload: session,
        });
        // as the tariff service reads it: decoded through the v1 -> v2 upcaster
        const v2 = catalogue.decode(catalogue.encode(v1)).payload as SessionEndedPayload;
        const out = buildCdr(contextOf(v2, tariff));
        if (out.kind !== 'priced') throw new Error(`not priced: ${out.code} ${out.detail}`);
        emit(out.cdr, out.audit);
        const credit = creditCdrOf(out.cdr, out.audit, v2.endedAt);
        emit(credit.cdr, credit.audit);
      }),
      { numRuns: 150 },
    );
  });

  it('without the bounds it would not: a price of 1e308 is refused where it used to give a CDR that breaks the contract', () => {
    const huge: OcpiTariffDocument = {
      id: 'HUGE',
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: 1e308, step_size: 1 }] }],
    };
    expect(tariffIssues(huge)).toEqual([
      expect.objectContaining({ code: 'TARIFF_NUMBER_TOO_LARGE', field: 'elements[0].price_components[0].price' }),
    ]);
    const session = SessionEndedV2.example as SessionEndedPayload;
    // priced anyway (as a stored tariff would be on replay): an explicit failure, never a CDR for the dead-letter topic
    expect(buildCdr(contextOf(session, huge))).toMatchObject({
      kind: 'failed',
      code: 'TARIFF_NUMBER_TOO_LARGE',
      field: 'elements[0].price_components[0].price',
    });
  });
});
