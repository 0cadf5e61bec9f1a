import {
  SessionEndedV2,
  deriveId,
  sessionStationOf,
  systemCatalogue,
  type OcpiTariffDocument,
  type SessionStation,
  type StationAsAnswered,
  type TokenAsAnswered,
} from '@csms/contracts';
import { givenCommands } from '@csms/kernel';
import {
  billingDecider,
  type BillingDeciderConfig,
  type BillingEvent,
  type PriceEndedSession,
} from './billing-decider';
import { buildCdr, cdrIdOf } from './cdr';
import type { PricingFacts, StationFacts } from './facts';
import type { SessionEndedPayload } from './to-pricing-session';

const catalogue = systemCatalogue();
const tariff: OcpiTariffDocument = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'AC-1',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
  last_updated: '2026-01-01T00:00:00Z',
};
const free: OcpiTariffDocument = {
  ...tariff,
  id: 'FREE',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0, vat: 21, step_size: 1 }] }],
};

const facts = (
  t: OcpiTariffDocument = tariff,
  token: PricingFacts['token'] = { groupId: null, accountId: 'acct-7' },
): PricingFacts => ({
  token,
  assignments: [
    {
      assignmentId: 'asg-default',
      tariffId: t.id,
      scope: { kind: 'default' },
      effectiveFrom: '2026-01-01T00:00:00Z',
      sequence: 1,
      removed: false,
    },
  ],
  versions: [
    {
      tariffId: t.id,
      version: 1,
      effectiveFrom: '2026-01-01T00:00:00Z',
      publishedAt: '2026-01-01T00:00:00Z',
      contentHash: 'a'.repeat(64),
      tariff: t,
    },
  ],
  cpo: { countryCode: 'NL', partyId: 'CSM' },
  defaultTimeZone: 'UTC',
  rounding: 'HALF_UP',
});

const example = SessionEndedV2.example as SessionEndedPayload;
/** session.ended of the contract's example session at `revision` (20 kWh; a later revision adds `extraWh`). */
function ended(revision: number, extraWh = 0, f: PricingFacts = facts()): PriceEndedSession {
  const wh = (20000 + extraWh).toString();
  const payload: SessionEndedPayload = {
    ...example,
    revision,
    totals: { ...example.totals, energyWh: wh, energyKwh: (Number(wh) / 1000).toString() },
    chargingPeriods: example.chargingPeriods.map((p, i) => (i === 0 ? { ...p, energyWh: wh } : p)),
    energyTimeline: [
      example.energyTimeline[0],
      ...example.energyTimeline.slice(1).map((p) => ({ ...p, cumulativeWh: wh })),
    ],
  };
  const id = deriveId('session-ended', example.sessionId, revision);
  return {
    type: 'PriceEndedSession',
    event: { id, correlationId: example.sessionId, payload },
    source: { eventId: id, topic: 'session.events', partition: 0, offset: String(revision) },
    facts: f,
  };
}

/** The command with the registry's facts of the session's token as the gateway answered (on its id token). */
function answered(cmd: PriceEndedSession, registry: TokenAsAnswered): PriceEndedSession {
  const p = cmd.event.payload;
  const idToken = { ...(p.idToken ?? { idToken: 'ABC123', type: 'ISO14443' }), registry };
  return { ...cmd, event: { ...cmd.event, payload: { ...p, idToken } } };
}

/** The command with the registry's facts of the station as the gateway answered the start (on the session). */
function answeredStation(cmd: PriceEndedSession, station: SessionStation): PriceEndedSession {
  return { ...cmd, event: { ...cmd.event, payload: { ...cmd.event.payload, station } } };
}

/** given/when/then (the kernel's givenCommands): `given` decides the history in turn; `when` returns only what the new command decides. */
function given(...history: PriceEndedSession[]) {
  const scenario = (cfg: Partial<BillingDeciderConfig>) =>
    givenCommands(billingDecider({ catalogue, source: 'tariff-service', maxEventBytes: 1_000_000, ...cfg }), history);
  return {
    state: scenario({}).state,
    when: (cmd: PriceEndedSession, cfg: Partial<BillingDeciderConfig> = {}) => scenario(cfg).when(cmd),
  };
}

/** what an event says, in a line: `cdr <id> <total excl> <account>` / `credit <id> of <ref> <total excl> <account>` / `failed <code>` */
function said(e: BillingEvent): string {
  if (e.type === 'session.pricing_failed') {
    const p = e.payload as { code: string; sessionRevision: number };
    return `failed r${p.sessionRevision} ${p.code}`;
  }
  const p = (e as Extract<BillingEvent, { type: 'cdr.created' }>).payload;
  const r = `r${p.audit.sessionRevision}`;
  return p.cdr.credit
    ? `credit ${r} of ${p.cdr.credit_reference_id === cdrIdOf(p.audit.sessionId, p.audit.sessionRevision) ? r : p.cdr.credit_reference_id} ${p.cdr.total_cost.excl_vat} ${p.billingAccountId}`
    : `cdr ${r} ${p.cdr.total_cost.excl_vat} ${p.billingAccountId}`;
}
const cdrOf = (revision: number) =>
  buildCdr({ ...facts(), session: ended(revision).event.payload, source: ended(revision).source });
const throwing = () => {
  throw new RangeError('[DecimalError] Invalid argument: NaN');
};

describe('billing decider: session.ended + the CDRs issued for the session -> CDR | credit CDR + CDR | pricing failure', () => {
  it.each<[string, PriceEndedSession[], PriceEndedSession, Partial<BillingDeciderConfig>, string[]]>([
    ["the first revision: one CDR, billed to the token's account", [], ended(1), {}, ['cdr r1 6.00 acct-7']],
    ['the same revision again (re-delivered, re-emitted): nothing', [ended(1)], ended(1), {}, []],
    [
      'a corrected session (revision 2): the credit CDR of revision 1, then the new CDR',
      [ended(1)],
      ended(2, 5000),
      {},
      ['credit r1 of r1 -6.00 acct-7', 'cdr r2 7.50 acct-7'],
    ],
    [
      'corrected twice: only the CDR not credited yet is credited',
      [ended(1), ended(2, 5000)],
      ended(3, 10000),
      {},
      ['credit r2 of r2 -7.50 acct-7', 'cdr r3 9.00 acct-7'],
    ],
    [
      'a revision older than one priced (out of order): priced, nothing credited',
      [ended(2, 5000)],
      ended(1),
      {},
      ['cdr r1 6.00 acct-7'],
    ],
    [
      'a token the registry does not know: no billing account',
      [],
      ended(1, 0, { ...facts(), token: undefined }),
      {},
      ['cdr r1 6.00 null'],
    ],
    [
      "the token as the gateway's registry had it when the station was answered beats the registry copy of now",
      [],
      answered(ended(1), { revision: 4, groupId: null, billingAccountId: 'acct-9' }),
      {},
      ['cdr r1 6.00 acct-9'],
    ],
    [
      'a token the registry did not know when the station was answered (a remote start grant): the copy decides',
      [],
      answered(ended(1), { revision: null, groupId: null, billingAccountId: null }),
      {},
      ['cdr r1 6.00 acct-7'],
    ],
    [
      'a credit keeps the account the CDR was billed to',
      [ended(1)],
      ended(2, 0, facts(tariff, { groupId: null, accountId: 'acct-8' })),
      {},
      ['credit r1 of r1 -6.00 acct-7', 'cdr r2 6.00 acct-8'],
    ],
    [
      'a zero total is credited as zero, never "-0.00"',
      [ended(1, 0, facts(free))],
      ended(2, 0, facts(free)),
      {},
      ['credit r1 of r1 0.00 acct-7', 'cdr r2 0.00 acct-7'],
    ],
    [
      'no tariff assigned: a pricing failure, never a free CDR',
      [],
      ended(1, 0, { ...facts(), assignments: [] }),
      {},
      ['failed r1 NO_ASSIGNMENT'],
    ],
    ['a failed revision is not priced again', [ended(1, 0, { ...facts(), assignments: [] })], ended(1), {}, []],
    [
      'after a failure, the corrected revision gets its CDR and nothing is credited',
      [ended(1, 0, { ...facts(), assignments: [] })],
      ended(2),
      {},
      ['cdr r2 6.00 acct-7'],
    ],
    [
      'a correction that cannot be priced: the failure only, the earlier CDR stands',
      [ended(1)],
      ended(2, 0, { ...facts(), assignments: [] }),
      {},
      ['failed r2 NO_ASSIGNMENT'],
    ],
    ['the engine throws: ENGINE_ERROR', [], ended(1), { price: throwing }, ['failed r1 ENGINE_ERROR']],
    [
      'the CDR breaks the cdr.created contract: CDR_CONTRACT_VIOLATION',
      [],
      ended(1),
      {
        price: (ctx) => {
          const out = buildCdr(ctx);
          return out.kind === 'priced' ? { ...out, cdr: { ...out.cdr, currency: 'EURO' } } : out;
        },
      },
      ['failed r1 CDR_CONTRACT_VIOLATION'],
    ],
    [
      'the cdr.created would be larger than a record may be: CDR_TOO_LARGE',
      [],
      ended(1),
      { maxEventBytes: 1_000 },
      ['failed r1 CDR_TOO_LARGE'],
    ],
  ])('%s', (_what, history, cmd, cfg, expected) => {
    expect(
      given(...history)
        .when(cmd, cfg)
        .events.map(said),
    ).toEqual(expected);
  });

  it('the credit CDR is the CDR it cancels with its own id, credit, the reference, total_cost negated and the time of the correction', () => {
    const [credit, cdr] = given(ended(1)).when(ended(2, 5000)).events as Array<
      Extract<BillingEvent, { type: 'cdr.created' }>
    >;
    const original = cdrOf(1);
    if (original.kind !== 'priced') throw new Error('not priced');
    const c = credit.payload;
    expect(c.cdr).toEqual({
      ...original.cdr,
      id: `${original.cdr.id}-C`,
      total_cost: { excl_vat: '-6.00', incl_vat: '-7.26' },
      credit: true,
      credit_reference_id: original.cdr.id,
      last_updated: ended(2).event.payload.endedAt,
    });
    // the audit is the original's, read from the correcting session.ended, with the credit CDR's own content hash
    expect(c.audit).toEqual({
      ...original.audit,
      sourceEvent: ended(2).source,
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(c.audit.contentHash).not.toBe(original.audit.contentHash);
    expect(credit.id).toBe(deriveId('cdr-created', c.cdr.id));
    expect(cdr.payload.cdr.id).not.toBe(original.cdr.id);
    expect([credit.causationId, cdr.causationId]).toEqual([ended(2).event.id, ended(2).event.id]);
  });

  it('evolve: the state says which revisions were settled and which CDRs are open', () => {
    const { state } = given(ended(1), ended(2, 5000), ended(3, 0, { ...facts(), assignments: [] }));
    expect(state.settled).toEqual([1, 2, 3]);
    expect(state.cdrs.map((c) => [c.audit.sessionRevision, c.credited, c.billingAccountId])).toEqual([
      [1, true, 'acct-7'],
      [2, false, 'acct-7'],
    ]);
  });

  it('the same command and state give the same bytes', () => {
    const a = given(ended(1)).when(ended(2, 5000)).events;
    const b = given(ended(1)).when(ended(2, 5000)).events;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('an infrastructure failure of the pricing is thrown on (the consumer retries), not recorded as a failure', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const price = () => {
      throw down;
    };
    expect(
      given().when(ended(1), { price, infrastructure: (e) => (e as { code?: unknown }).code === 'ECONNREFUSED' }).error,
    ).toBe(down);
  });
});

describe("billingDecider: the CDR's token and contract tariff follow the token as answered", () => {
  const contract: OcpiTariffDocument = {
    ...tariff,
    id: 'CONTRACT-9',
    elements: [{ price_components: [{ type: 'ENERGY', price: 0.1, vat: 21, step_size: 1 }] }],
  };
  const withContract = (): PricingFacts => {
    const f = facts();
    return {
      ...f,
      assignments: [
        ...f.assignments,
        {
          assignmentId: 'asg-acct-9',
          tariffId: contract.id,
          scope: { kind: 'account', accountId: 'acct-9' },
          effectiveFrom: '2026-01-01T00:00:00Z',
          sequence: 2,
          removed: false,
        },
      ],
      versions: [...f.versions, { ...f.versions[0], tariffId: contract.id, tariff: contract }],
    };
  };

  it.each([
    ['the copy (no facts recorded): acct-7, the default tariff', undefined, 'acct-7', 'AC-1', '6.00'],
    [
      'recorded acct-9: its contract tariff',
      { revision: 4, groupId: null, billingAccountId: 'acct-9' },
      'acct-9',
      'CONTRACT-9',
      '2.00',
    ],
    [
      'recorded: not known then, the copy',
      { revision: null, groupId: null, billingAccountId: null },
      'acct-7',
      'AC-1',
      '6.00',
    ],
    ['recorded: known, no account', { revision: 2, groupId: null, billingAccountId: null }, undefined, 'AC-1', '6.00'],
  ] as const)('%s', (_, registry, account, tariffId, excl) => {
    const cmd = ended(1, 0, withContract());
    const [e] = given().when(registry === undefined ? cmd : answered(cmd, registry)).events;
    const p = (e as Extract<BillingEvent, { type: 'cdr.created' }>).payload;
    expect(p.billingAccountId).toBe(account ?? null);
    expect(p.cdr.tariffs?.[0].id).toBe(tariffId);
    expect(p.cdr.total_cost.excl_vat).toBe(excl);
    expect(p.cdr.cdr_token.contract_id).toBe(account ?? p.cdr.cdr_token.uid);
  });
});

describe('billingDecider: the site tariff, the time zone and cdr_location follow the station as answered at the start', () => {
  const priced = (id: string, price: number): OcpiTariffDocument => ({
    ...tariff,
    id,
    elements: [{ price_components: [{ type: 'ENERGY', price, vat: 21, step_size: 1 }] }],
  });
  const tariffs = [tariff, priced('SITE-1', 0.2), priced('SITE-2', 0.4)];
  const t2 = { standard: 'IEC_62196_T2', format: 'SOCKET', power_type: 'AC_3_PHASE' } as const;
  const ccs = { standard: 'IEC_62196_T2_COMBO', format: 'CABLE', power_type: 'DC' } as const;
  // L1: where the station was when the session started (site S1, Amsterdam time), its EVSE 1 a Type 2 socket
  const atStart: StationAsAnswered = {
    revision: 3,
    siteId: 'S1',
    timeZone: 'Europe/Amsterdam',
    location: {
      id: 'LOC-1',
      address: 'Amstel 1',
      city: 'Amsterdam',
      postal_code: '1011 PN',
      country: 'NLD',
      coordinates: { latitude: '52.367030', longitude: '4.900840' },
    },
    evses: [
      { evseId: 1, emi3EvseId: 'NL*CSM*E001*1', connectors: [{ connectorId: 1, ...t2 }] },
      { evseId: 2, emi3EvseId: 'NL*CSM*E001*2', connectors: [{ connectorId: 1, ...ccs }] },
    ],
  };
  // L2: the registry copy of now (moved to site S2, New York time, EVSE 1 re-registered as a CCS cable)
  const now: StationFacts = {
    siteId: 'S2',
    timeZone: 'America/New_York',
    location: {
      id: 'LOC-2',
      address: 'Coolsingel 40',
      city: 'Rotterdam',
      country: 'NLD',
      coordinates: { latitude: '51.922890', longitude: '4.479170' },
    },
    evses: [{ evseId: 1, emi3EvseId: 'NL*CSM*E002*1', connectors: [{ connectorId: 1, ...ccs }] }],
  };
  const site = (n: number, siteId: string) => ({
    assignmentId: `asg-site-${siteId}`,
    tariffId: `SITE-${n}`,
    scope: { kind: 'site' as const, siteId },
    effectiveFrom: '2026-01-01T00:00:00Z',
    sequence: 1 + n,
    removed: false,
  });
  const withSites = (station: StationFacts | undefined): PricingFacts => {
    const f = facts();
    return {
      ...f,
      station,
      assignments: [...f.assignments, site(1, 'S1'), site(2, 'S2')],
      versions: tariffs.map((t) => ({ ...f.versions[0], tariffId: t.id, tariff: t })),
    };
  };
  // the example session: OCPP 1.6 connector 1, i.e. EVSE 1 connector 1
  const recorded = sessionStationOf(atStart, example);
  const cdrCreated = (cmd: PriceEndedSession) => {
    const [e] = given().when(cmd).events;
    expect(e.type).toBe('cdr.created');
    return (e as Extract<BillingEvent, { type: 'cdr.created' }>).payload;
  };

  it('the session carries only its EVSE and connector', () => {
    expect(recorded.evses).toEqual([atStart.evses[0]]);
  });

  it.each<[string, SessionStation | undefined, StationFacts | undefined, Record<string, unknown>]>([
    [
      'recorded S1 / Amsterdam / L1 beat the copy S2 / New York / L2',
      recorded,
      now,
      {
        tariffId: 'SITE-1',
        excl: '4.00',
        scope: { kind: 'site', siteId: 'S1' },
        timeZone: 'Europe/Amsterdam',
        location: {
          id: 'LOC-1',
          address: 'Amstel 1',
          city: 'Amsterdam',
          postal_code: '1011 PN',
          coordinates: { latitude: '52.367030', longitude: '4.900840' },
          evse_id: 'NL*CSM*E001*1',
          connector_id: '1',
          connector_standard: 'IEC_62196_T2',
          connector_format: 'SOCKET',
          connector_power_type: 'AC_3_PHASE',
        },
      },
    ],
    [
      'not recorded (a session of before): the copy decides, S2 / New York / L2',
      undefined,
      now,
      {
        tariffId: 'SITE-2',
        excl: '8.00',
        scope: { kind: 'site', siteId: 'S2' },
        timeZone: 'America/New_York',
        location: {
          id: 'LOC-2',
          address: 'Coolsingel 40',
          city: 'Rotterdam',
          coordinates: { latitude: '51.922890', longitude: '4.479170' },
          evse_id: 'NL*CSM*E002*1',
          connector_id: '1',
          connector_standard: 'IEC_62196_T2_COMBO',
          connector_format: 'CABLE',
          connector_power_type: 'DC',
        },
      },
    ],
    [
      'recorded, and the registry copy no longer knows the station (deleted since): the recorded facts',
      recorded,
      undefined,
      {
        tariffId: 'SITE-1',
        excl: '4.00',
        scope: { kind: 'site', siteId: 'S1' },
        timeZone: 'Europe/Amsterdam',
        location: { id: 'LOC-1', address: 'Amstel 1', evse_id: 'NL*CSM*E001*1', connector_standard: 'IEC_62196_T2' },
      },
    ],
    [
      'recorded without a site nor a location: no site tariff and no address, the copy is not consulted',
      { ...recorded, siteId: null, location: null },
      now,
      {
        tariffId: 'AC-1',
        excl: '6.00',
        scope: { kind: 'default' },
        timeZone: 'Europe/Amsterdam',
        location: { id: 'CP-001', evse_id: 'NL*CSM*E001*1', connector_standard: 'IEC_62196_T2' },
        incomplete: ['address', 'city', 'country', 'coordinates'],
      },
    ],
  ])('%s', (_what, station, copy, want) => {
    const cmd = ended(1, 0, withSites(copy));
    const p = cdrCreated(station === undefined ? cmd : answeredStation(cmd, station));
    expect(p.cdr.tariffs?.[0].id).toBe(want.tariffId);
    expect(p.audit.tariffId).toBe(want.tariffId);
    expect(p.cdr.total_cost.excl_vat).toBe(want.excl);
    expect(p.audit.assignment).toMatchObject({ scope: want.scope });
    expect(p.audit.timeZone).toBe(want.timeZone);
    expect(p.audit.timeZoneSource).toBe('registry');
    expect(p.cdr.cdr_location).toMatchObject(want.location as object);
    if (want.incomplete === undefined) expect(p.audit.dataQuality).toBeUndefined();
    else
      expect(p.audit.dataQuality).toEqual({
        flags: ['LOCATION_INCOMPLETE'],
        missingLocationFields: expect.arrayContaining(want.incomplete as string[]),
      });
  });

  it('time-of-day rules take the recorded time zone (10:00-11:00Z: 11:00 in Amsterdam, 05:00 in New York)', () => {
    // 0.50/kWh from 09:00 to 13:00 local time, 0.10 otherwise
    const dayNight: OcpiTariffDocument = {
      ...tariff,
      id: 'DAY-NIGHT',
      elements: [
        {
          price_components: [{ type: 'ENERGY', price: 0.5, vat: 21, step_size: 1 }],
          restrictions: { start_time: '09:00', end_time: '13:00' },
        },
        { price_components: [{ type: 'ENERGY', price: 0.1, vat: 21, step_size: 1 }] },
      ],
    };
    const cmd = ended(1, 0, { ...facts(dayNight), station: now });
    const live = cdrCreated(answeredStation(cmd, recorded));
    const copy = cdrCreated(cmd);
    expect([live.audit.timeZone, live.cdr.total_cost.excl_vat]).toEqual(['Europe/Amsterdam', '10.00']);
    expect([copy.audit.timeZone, copy.cdr.total_cost.excl_vat]).toEqual(['America/New_York', '2.00']);
  });

  it('the same session with recorded facts prices and describes the same whatever the copy says (a rebuild)', () => {
    const cmd = (copy: StationFacts | undefined) => answeredStation(ended(1, 0, withSites(copy)), recorded);
    const a = cdrCreated(cmd(now));
    const b = cdrCreated(cmd(undefined));
    const c = cdrCreated(cmd({ ...now, siteId: 'S1', timeZone: 'Europe/Amsterdam' }));
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });
});
