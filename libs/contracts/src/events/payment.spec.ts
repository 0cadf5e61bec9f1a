import {
  LedgerTransferPostedV1,
  PAYMENT_EVENTS,
  PaymentAccountOpenedV1,
  PaymentCdrRecordedV1,
  Topics,
  deriveId,
  systemCatalogue,
  type Envelope,
} from '../index';
import { contractError, specEnvelope } from './spec-helpers';

const catalogue = systemCatalogue();

function envelope(type: string, payload: unknown): Envelope {
  return specEnvelope(type, 1, payload, {
    key: 'acct-1001',
    source: 'payment-service',
    id: deriveId('payment-spec', type),
  });
}

describe('payment.events v1', () => {
  it.each(PAYMENT_EVENTS.map((d) => [d.type, d] as const))('%s: the example is valid, on payment.events', (_t, def) => {
    expect(def.version).toBe(1);
    expect(def.topic).toBe(Topics.paymentEvents);
    const env = envelope(def.type, def.example);
    expect(catalogue.decode(JSON.stringify(env))).toEqual(env);
  });

  it.each(PAYMENT_EVENTS.map((d) => [d.type, d] as const))('%s: refuses an unknown field (closed)', (_t, def) => {
    const err = contractError(() => catalogue.parse(envelope(def.type, { ...def.example, surprise: 1 })));
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.field).toBe('/payload/surprise');
  });

  it.each(PAYMENT_EVENTS.map((d) => [d.type, d] as const))('%s: refuses a payload without its source', (_t, def) => {
    const { sourceEventId: _s, ...rest } = def.example as { sourceEventId: string };
    expect(contractError(() => catalogue.parse(envelope(def.type, rest))).field).toBe('/payload/sourceEventId');
  });

  it.each([
    ['a float in minor units', PaymentCdrRecordedV1, { totalInclVatMinor: '8.47' }, '/payload/totalInclVatMinor'],
    ['an amount with an exponent', PaymentCdrRecordedV1, { totalInclVat: '8e1' }, '/payload/totalInclVat'],
    ['a lower-case currency', PaymentCdrRecordedV1, { currency: 'eur' }, '/payload/currency'],
    ['a number for minor units', PaymentCdrRecordedV1, { totalInclVatMinor: 847 }, '/payload/totalInclVatMinor'],
    ['an unknown method', PaymentAccountOpenedV1, { method: { kind: 'cash' } }, '/payload/method'],
    [
      'a card without its payment method',
      PaymentAccountOpenedV1,
      { method: { kind: 'card', customerRef: 'cus_1' } },
      '/payload/method',
    ],
    [
      'a posting on an account outside the chart',
      LedgerTransferPostedV1,
      {
        postings: [
          { account: 'cash:EUR', amountMinor: '1' },
          { account: 'bank:EUR', amountMinor: '-1' },
        ],
      },
      '/payload/postings/0/account',
    ],
    [
      'a transfer of one posting',
      LedgerTransferPostedV1,
      { postings: [{ account: 'bank:EUR', amountMinor: '1' }] },
      '/payload/postings',
    ],
    ['a voided state on transfer_posted', LedgerTransferPostedV1, { state: 'voided' }, '/payload/state'],
  ])('refuses %s', (_what, def, change, field) => {
    const payload = JSON.parse(JSON.stringify({ ...def.example, ...change })) as unknown;
    const err = contractError(() => catalogue.parse(envelope(def.type, payload)));
    expect(err.code).toBe('INVALID_PAYLOAD');
    // a union (the method) reports the first branch's complaint: the field is at or under the one named
    expect(`${err.field}/`.startsWith(`${field}/`)).toBe(true);
  });
});
