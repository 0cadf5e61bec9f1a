import { givenCommands } from '@csms/kernel';
import { paymentDecider } from './payment-decider';
import { at, holdOf, ofType, open, outcome, psp, started, typesOf } from './spec-helpers';
import type { PaymentCommand } from './types';

const A = 'acct-cap';
const S = 'sess-cap';
const H = holdOf(S);

const authorised = (hold: bigint, policy: 'increase' | 'stop' = 'increase'): PaymentCommand[] => [
  open(A, undefined, { policy: { onHoldNearlyUsed: policy } }),
  started(A, S, hold),
  outcome(A, H, psp({ amountAuthorizedMinor: hold }), 'psp-auth'),
];
const cost = (c: string, source: string, max: string | null) =>
  ({
    type: 'running_cost',
    accountId: A,
    sourceEventId: source,
    at: at(30),
    sessionId: S,
    costInclVat: c,
    maxCostInclVat: max,
  }) as const;

describe("card: the running cost against a tariff's max_price", () => {
  it('a hold that covers the max_price is neither raised nor stops the session, however near the cost', () => {
    for (const policy of ['increase', 'stop'] as const)
      givenCommands(paymentDecider, authorised(1000n, policy))
        .when(cost('9.50', 'u1', '10.00'), cost('10.00', 'u2', '10.00'))
        .thenCheck((events) =>
          expect(typesOf(events)).toEqual(['payment.session_cost_updated', 'payment.session_cost_updated']),
        );
  });

  it('a hold below the max_price (the default was smaller) is raised to the max_price, not beyond', () => {
    givenCommands(paymentDecider, authorised(1000n))
      .when(cost('8.50', 'u1', '15.00'))
      .thenCheck((events) =>
        expect(ofType(events, 'payment.increase_requested')[0]).toMatchObject({ amountMinor: '1500' }),
      );
  });

  it('no max_price: raised by a hold at a time (as before)', () => {
    givenCommands(paymentDecider, authorised(1000n))
      .when(cost('8.50', 'u1', null))
      .thenCheck((events) =>
        expect(ofType(events, 'payment.increase_requested')[0]).toMatchObject({ amountMinor: '2000' }),
      );
  });

  it('stop policy with a hold below the max_price: stopped', () => {
    givenCommands(paymentDecider, authorised(1000n, 'stop'))
      .when(cost('8.50', 'u1', '15.00'))
      .thenCheck((events) => expect(typesOf(events)).toContain('payment.session_stop_requested'));
  });
});
