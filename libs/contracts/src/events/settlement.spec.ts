import {
  RECONCILIATION_EVENTS,
  ReconciliationBreakDetectedV1,
  SETTLEMENT_EVENTS,
  SettlementLineRecordedV1,
  Topics,
  deriveId,
  systemCatalogue,
  type Envelope,
} from '../index';
import { contractError, specEnvelope } from './spec-helpers';

const catalogue = systemCatalogue();
const envelope = (type: string, payload: unknown): Envelope =>
  specEnvelope(type, 1, payload, { key: 'platform', source: 'spec', id: deriveId('settlement-spec', type) });

describe('settlement (payment.events) and reconciliation (finance.events) events v1', () => {
  const all = [...SETTLEMENT_EVENTS, ...RECONCILIATION_EVENTS].map((d) => [d.type, d] as const);

  it.each(all)('%s: the example is valid and registered', (_t, def) => {
    expect(def.version).toBe(1);
    const env = envelope(def.type, def.example);
    expect(catalogue.decode(JSON.stringify(env))).toEqual(env);
  });

  it.each(all)('%s: refuses an unknown field (closed)', (_t, def) => {
    const err = contractError(() => catalogue.parse(envelope(def.type, { ...def.example, surprise: 1 })));
    expect(err.field).toBe('/payload/surprise');
  });

  it('settlement lines are on payment.events, breaks on finance.events', () => {
    for (const d of SETTLEMENT_EVENTS) expect(d.topic).toBe(Topics.paymentEvents);
    for (const d of RECONCILIATION_EVENTS) expect(d.topic).toBe(Topics.financeEvents);
  });

  it.each([
    ['a decimal gross', SettlementLineRecordedV1, { grossMinor: '8.47' }, '/payload/grossMinor'],
    ['an unknown category', SettlementLineRecordedV1, { category: 'payout' }, '/payload/category'],
    ['an unknown reason', ReconciliationBreakDetectedV1, { reason: 'OOPS' }, '/payload/reason'],
  ])('refuses %s', (_what, def, patch, field) => {
    const err = contractError(() => catalogue.parse(envelope(def.type, { ...def.example, ...patch })));
    expect(err.field).toBe(field);
  });
});
