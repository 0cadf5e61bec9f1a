import { createHash } from 'node:crypto';
import { toCanonicalJson } from '@csms/pricing';
import {
  systemCatalogue,
  type CdrAudit,
  type Envelope,
  type OcpiCdr,
  type OcpiTariffDocument,
  type RegistryEvse,
  type SessionEndedEvent,
} from '@csms/contracts';
import { loadOcpiCases } from '../../pricing/src/testing/ocpi-cases';
import { randomStationCommands, run } from '../../sessions/src/spec-helpers';
import { billingDecider, type BillingEvent, type BillingState } from './billing-decider';
import type { StationFacts, StoredVersion, TokenFacts } from './facts';
import type { TariffAssignment } from './select-tariff';

/**
 * Pins the bytes of every cdr.created (and session.pricing_failed) the pricing emits for a fixed corpus, so
 * that moving the billing rules cannot change a CDR unnoticed.
 *
 * The corpus:
 * - sessions: every session.ended the session decider emits for the seeded station workloads 1-40 of its
 *   golden replay (libs/sessions: `randomStationCommands(seed)` folded by `run`): 1,423 session.ended of 40
 *   stations CS-G1..CS-G40, both protocols, with revisions (corrected sessions: credit CDRs), sessions without
 *   a token, sessions with a station clock in 2001 (before every assignment: NO_ASSIGNMENT), in the order emitted,
 *   at offsets 0, 1, 2, … of partition 0 of session.events;
 * - tariffs: OCPI worked cases of libs/pricing/src/testing/fixtures (start fee + parking steps, a max price, a
 *   complex time-of-day tariff, parking free after 20h, time and parking, min/max duration grace, an hourly dynamic
 *   price), under ids of their own; one with an OCPI validity window that ends inside the corpus (skipped candidates);
 * - assignments at every scope: default (two versions, the second from 2026-03-10), station CS-G2, site of
 *   CS-G3, connector 2 of CS-G5, token group of TOKEN, account of TAG1 (from 2026-03-12), a station assignment of
 *   CS-G6 that is withdrawn;
 * - registry: CS-G1 with a full location and connector types, CS-G2 with a location but no connector types,
 *   CS-G3 in New York on a site, the others unknown (default time zone, LOCATION_INCOMPLETE); token TAG1 with a
 *   billing account, TOKEN in a group without one, other tokens unknown.
 *
 * It is run the way the pricing consumer runs it: each revision priced once, a later revision of a session
 * with CDRs first credits each CDR not credited yet, then emits its own.
 *
 * The first digest was pinned on the code before the billing rules moved into this library (the tariff
 * service's cdr-builder, settle and pricing handler); the rules are unchanged as long as it holds. It is taken
 * over the payloads without `billingAccountId`, the field cdr.created v3 added; the second digest pins the
 * payloads as v3 emits them (pinned when the field was added). Both were re-pinned when CDRs began to carry OCPI
 * signed_data and the audit's signedMeterValues (cdr.created v4): only the 161 CDRs (and their credit CDRs) of the
 * corpus sessions with signed values changed; the third digest, pinned before that change over the events of the
 * sessions without signed values, still holds.
 */
const catalogue = systemCatalogue();
// the worked cases' tariffs are valid OCPI Tariff objects (libs/pricing validates them in its own specs)
const cases = new Map(loadOcpiCases().map((c) => [c.name, c.tariff as OcpiTariffDocument]));
/** A worked case's tariff under another id, without the case's own validity window (some end in 2019). */
function tariffOf(id: string, name: string, extra: Partial<OcpiTariffDocument> = {}): OcpiTariffDocument {
  const { start_date_time: _from, end_date_time: _to, ...rest } = cases.get(name)!;
  return { ...rest, id, ...extra };
}

const tariffs = {
  defaultV1: tariffOf('T-DEFAULT', 'energy-start-fee-parking-15min-steps'),
  defaultV2: tariffOf('T-DEFAULT', 'complex-monday-16A'),
  station: tariffOf('T-STATION', 'max-price-caps-total'),
  site: tariffOf('T-SITE', 'step-size-parking-becomes-free-at-20h'),
  connector: tariffOf('T-CONNECTOR', 'grace-period-parking-min-max-duration'),
  group: tariffOf('T-GROUP', 'time-3-per-hour-parking-5-per-hour', {
    start_date_time: '2026-01-01T00:00:00Z',
    end_date_time: '2026-03-08T00:00:00Z',
  }),
  account: tariffOf('T-ACCOUNT', 'real-world-hourly-dynamic-price-amsterdam'),
  withdrawn: tariffOf('T-WITHDRAWN', 'min-price-applies-below-2kwh'),
};

const version = (tariff: OcpiTariffDocument, v: number, effectiveFrom: string): StoredVersion => ({
  tariffId: tariff.id,
  version: v,
  effectiveFrom,
  publishedAt: '2025-12-01T00:00:00.000Z',
  contentHash: createHash('sha256').update(toCanonicalJson(tariff)).digest('hex'),
  tariff,
});

const versions: StoredVersion[] = [
  version(tariffs.defaultV1, 1, '2026-01-01T00:00:00.000Z'),
  version(tariffs.defaultV2, 2, '2026-03-10T00:00:00.000Z'),
  version(tariffs.station, 1, '2026-01-01T00:00:00.000Z'),
  version(tariffs.site, 1, '2026-01-01T00:00:00.000Z'),
  version(tariffs.connector, 1, '2026-01-01T00:00:00.000Z'),
  version(tariffs.group, 1, '2026-01-01T00:00:00.000Z'),
  version(tariffs.account, 1, '2026-01-01T00:00:00.000Z'),
  version(tariffs.withdrawn, 1, '2026-01-01T00:00:00.000Z'),
];

let sequence = 0;
const assign = (
  tariffId: string,
  scope: TariffAssignment['scope'],
  effectiveFrom: string,
  removed = false,
): TariffAssignment => ({
  assignmentId: `asg-${++sequence}`,
  tariffId,
  scope,
  effectiveFrom,
  sequence,
  removed,
});
const assignments: TariffAssignment[] = [
  assign('T-DEFAULT', { kind: 'default' }, '2026-01-01T00:00:00.000Z'),
  assign('T-STATION', { kind: 'station', stationId: 'CS-G2' }, '2026-01-01T00:00:00.000Z'),
  assign('T-SITE', { kind: 'site', siteId: 'site-nyc' }, '2026-01-01T00:00:00.000Z'),
  assign('T-CONNECTOR', { kind: 'connector', stationId: 'CS-G5', connectorId: 2 }, '2026-01-01T00:00:00.000Z'),
  assign('T-GROUP', { kind: 'token_group', groupId: 'fleet' }, '2026-01-01T00:00:00.000Z'),
  assign('T-ACCOUNT', { kind: 'account', accountId: 'acct-1' }, '2026-03-12T00:00:00.000Z'),
  assign('T-WITHDRAWN', { kind: 'station', stationId: 'CS-G6' }, '2026-01-01T00:00:00.000Z'),
  assign('T-WITHDRAWN', { kind: 'station', stationId: 'CS-G6' }, '2026-03-03T00:00:00.000Z', true),
];

const t2 = {
  standard: 'IEC_62196_T2',
  format: 'SOCKET',
  power_type: 'AC_3_PHASE',
  max_voltage: 400,
  max_amperage: 32,
  max_electric_power: 22000,
} as const;
const evses: RegistryEvse[] = [
  { evseId: 1, emi3EvseId: 'NL*CSM*E001*1', connectors: [{ connectorId: 1, ...t2 }] },
  {
    evseId: 2,
    connectors: [
      { connectorId: 1, standard: 'IEC_62196_T2_COMBO', format: 'CABLE', power_type: 'DC' },
      { connectorId: 2, ...t2 },
    ],
  },
];
const amsterdam = {
  id: 'LOC-AMS-1',
  name: 'Stadhuis garage',
  address: 'Amstel 1',
  city: 'Amsterdam',
  postal_code: '1011 PN',
  country: 'NLD',
  coordinates: { latitude: '52.367030', longitude: '4.900840' },
};
const stations = new Map<string, StationFacts>([
  ['CS-G1', { siteId: 'site-ams', timeZone: 'Europe/Amsterdam', location: amsterdam, evses }],
  [
    'CS-G2',
    {
      siteId: null,
      timeZone: 'Europe/Berlin',
      location: { ...amsterdam, id: 'LOC-BER-1' },
      evses: [{ evseId: 1, connectors: [{ connectorId: 1 }] }],
    },
  ],
  ['CS-G3', { siteId: 'site-nyc', timeZone: 'America/New_York', location: null, evses: [] }],
]);
const tokens = new Map<string, TokenFacts>([
  ['TAG1', { groupId: null, accountId: 'acct-1' }],
  ['TOKEN', { groupId: 'fleet', accountId: null }],
]);

/** The corpus's session.ended events, in the order the decider emitted them. */
function corpusSessions(seeds = 40): SessionEndedEvent[] {
  const out: SessionEndedEvent[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    for (const e of run(randomStationCommands(seed)).events) {
      if (e.type === 'session.ended') out.push({ ...(e as unknown as SessionEndedEvent), source: 'session-service' });
    }
  }
  return out;
}

/**
 * Runs the corpus through the billing decider as the pricing consumer does (load the session's state, decide,
 * evolve, save); returns what it emits, in order.
 */
function priceCorpus(): BillingEvent[] {
  const decider = billingDecider({ catalogue, source: 'tariff-service', maxEventBytes: 1_000_000 });
  const states = new Map<string, BillingState>();
  const emitted: BillingEvent[] = [];
  corpusSessions().forEach((event, i) => {
    const s = event.payload;
    const state = states.get(s.sessionId) ?? decider.initialState();
    const events = decider.decide(
      {
        type: 'PriceEndedSession',
        event,
        source: { eventId: event.id, topic: 'session.events', partition: 0, offset: String(i) },
        facts: {
          station: stations.get(s.stationId),
          token: s.idToken ? tokens.get(s.idToken.idToken) : undefined,
          assignments,
          versions,
          cpo: { countryCode: 'NL', partyId: 'CSM' },
          defaultTimeZone: 'UTC',
          rounding: 'HALF_UP',
        },
      },
      state,
    );
    states.set(s.sessionId, events.reduce(decider.evolve, state));
    emitted.push(...events);
  });
  return emitted;
}

/** SHA-256 over `<type> <id> <JSON of the payload>` lines. */
function digestOf(events: readonly Envelope[], payloadOf: (e: Envelope) => unknown = (e) => e.payload): string {
  const h = createHash('sha256');
  for (const e of events) h.update(`${e.type} ${e.id} ${JSON.stringify(payloadOf(e))}\n`);
  return h.digest('hex');
}

describe('CDRs of the replay corpus (golden)', () => {
  const events = priceCorpus();

  it('covers CDRs, credit CDRs and pricing failures', () => {
    const cdrs = events.filter((e) => e.type === 'cdr.created') as Array<Envelope<{ cdr: OcpiCdr; audit: CdrAudit }>>;
    const count = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});
    const summary = {
      cdrs: cdrs.filter((e) => !e.payload.cdr.credit).length,
      credits: cdrs.filter((e) => e.payload.cdr.credit).length,
      failures: count(
        events.filter((e) => e.type === 'session.pricing_failed').map((e) => (e.payload as { code: string }).code),
      ),
      tariffs: count(
        cdrs
          .filter((e) => !e.payload.cdr.credit)
          .map((e) => `${e.payload.audit.tariffId} v${e.payload.audit.tariffVersion}`),
      ),
      locationIncomplete: cdrs.filter((e) => e.payload.audit.dataQuality !== undefined).length,
      withSkipped: cdrs.filter((e) => 'skipped' in e.payload.audit.assignment).length,
      signed: count(
        cdrs
          .filter((e) => !e.payload.cdr.credit && e.payload.audit.signedMeterValues)
          .map(
            (e) => `${e.payload.audit.signedMeterValues!.result} ${e.payload.audit.signedMeterValues!.flags.join('+')}`,
          ),
      ),
    };
    expect(summary).toEqual({
      cdrs: 1251,
      credits: 754,
      failures: { NO_ASSIGNMENT: 18 },
      tariffs: {
        'T-DEFAULT v1': 547,
        'T-DEFAULT v2': 126,
        'T-STATION v1': 39,
        'T-SITE v1': 32,
        'T-CONNECTOR v1': 6,
        'T-GROUP v1': 401,
        'T-ACCOUNT v1': 76,
        'T-WITHDRAWN v1': 24,
      },
      locationIncomplete: 1950,
      withSkipped: 59,
      // the corpus's signed values are placeholders (`OCMF|sig3`, `sig3`): each CDR says they could not be read
      signed: { 'FAILED SIGNED_DATA_MALFORMED+PAIRING_FAILED': 161 },
    });
  });

  it("names the billing account that pays: the token registry's account of TAG1, null for TOKEN (none), unknown tokens and no token", () => {
    const cdrs = events.filter((e): e is Extract<BillingEvent, { type: 'cdr.created' }> => e.type === 'cdr.created');
    for (const e of cdrs) {
      expect(e.version).toBe(4);
      expect(e.payload.billingAccountId).toBe(e.payload.cdr.cdr_token.uid === 'TAG1' ? 'acct-1' : null);
    }
    expect(cdrs.filter((e) => e.payload.billingAccountId === 'acct-1').length).toBeGreaterThan(500);
  });

  it('emits byte-identical cdr.created and session.pricing_failed payloads', () => {
    // computed on the pricing path as it was before the billing rules moved into libs/billing (re-pinned with signed_data)
    const withoutAccount = (e: Envelope) => {
      if (e.type !== 'cdr.created') return e.payload;
      const { billingAccountId: _a, ...rest } = e.payload as { billingAccountId: unknown };
      return rest;
    };
    expect(digestOf(events, withoutAccount)).toBe('54bed4aab724236aa55af500d34023d30ebb34a08b0038c9ae78774be869bbae');
    // cdr.created v3: the same payloads with the paying billing account (TAG1's acct-1, null for the others)
    expect(digestOf(events)).toBe('3bf2741ab1652fbd84871190012802d3310fc1d668ac90e0f998f04ed7d372b1');
  });

  it('emits byte-identical events for the sessions without signed meter values', () => {
    // pinned before CDRs carried signed_data: the events of sessions with no signed value never change with it
    const signed = new Set(
      corpusSessions()
        .filter((e) => e.payload.signedMeterValues.length > 0 || e.payload.signedMeterValuesOmitted > 0)
        .map((e) => e.payload.sessionId),
    );
    const unsigned = events.filter(
      (e) =>
        !signed.has(
          (e.payload as { sessionId?: string; cdr?: { session_id: string } }).cdr?.session_id ??
            (e.payload as { sessionId: string }).sessionId,
        ),
    );
    expect(signed.size).toBeGreaterThan(50);
    expect(unsigned.length).toBeGreaterThan(1000);
    expect(digestOf(unsigned)).toBe('fa3d56287749dd545861fdd77b9ceb40f3f5b9424c89980d1a7f4d2ecefd70df');
  });
});
