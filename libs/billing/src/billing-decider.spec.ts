import {
  SessionEndedV2,
  deriveId,
  systemCatalogue,
  type OcpiTariffDocument,
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
import type { PricingFacts } from './facts';
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
