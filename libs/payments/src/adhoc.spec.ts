import type { OcpiTariffDocument } from '@csms/contracts';
import {
  adhocHoldIdOf,
  adhocPaymentIdOf,
  adhocPaymentOf,
  holdInWords,
  oneTimeTokenOf,
  remoteStartIdOf,
  remoteStartRequest,
  restrictionsInWords,
  startResultVerdict,
  tariffInWords,
} from './adhoc';
import { adhocAccountId } from './envelopes';

describe('ad-hoc payment ids', () => {
  it('one attempt on one EVSE is one payment (double click, reload); another attempt or EVSE another', () => {
    const p = adhocPaymentIdOf('CP-1', 1, 'attempt-1');
    expect(adhocPaymentIdOf('CP-1', 1, 'attempt-1')).toBe(p);
    expect(adhocPaymentIdOf('CP-1', 1, 'attempt-2')).not.toBe(p);
    expect(adhocPaymentIdOf('CP-1', 2, 'attempt-1')).not.toBe(p);
    expect(adhocPaymentIdOf('CP-2', 1, 'attempt-1')).not.toBe(p);
    expect(adhocHoldIdOf(p)).toBe(adhocHoldIdOf(p));
    expect(adhocHoldIdOf(p)).not.toBe(p);
  });

  it('reads the payment id back from its account, and nothing from other accounts', () => {
    expect(adhocPaymentOf(adhocAccountId('abc'))).toBe('abc');
    expect(adhocPaymentOf('acct-1')).toBeNull();
    expect(adhocPaymentOf('adhoc:')).toBeNull();
  });

  it('the one-time token fits an OCPP 1.6 idTag, is stable for one authorisation and differs for another', () => {
    const t = oneTimeTokenOf('hold-1', 'pi_1');
    expect(t).toMatch(/^QR[0-9A-F]{18}$/);
    expect(oneTimeTokenOf('hold-1', 'pi_1')).toBe(t);
    expect(oneTimeTokenOf('hold-1', 'pi_2')).not.toBe(t);
    expect(oneTimeTokenOf('hold-2', 'pi_1')).not.toBe(t);
  });
});

describe('remote start', () => {
  it('RemoteStartTransaction for 1.6 (the EVSE is the connector), RequestStartTransaction for 2.0.1', () => {
    expect(remoteStartRequest('ocpp1.6', { evseId: 2, token: 'QR1', holdId: 'h' })).toEqual({
      action: 'RemoteStartTransaction',
      payload: { connectorId: 2, idTag: 'QR1' },
    });
    const r = remoteStartRequest('ocpp2.0.1', { evseId: 2, token: 'QR1', holdId: 'h' });
    expect(r).toEqual({
      action: 'RequestStartTransaction',
      payload: { evseId: 2, remoteStartId: remoteStartIdOf('h'), idToken: { idToken: 'QR1', type: 'Central' } },
    });
    expect(remoteStartIdOf('h')).toBeGreaterThan(0);
    expect(remoteStartIdOf('h')).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it.each([
    ['accepted', 'wait'],
    ['timed_out', 'wait'],
    ['interrupted', 'wait'],
    ['invalid_response', 'wait'],
    ['rejected', 'release'],
    ['offline', 'release'],
    ['expired', 'release'],
    ['error', 'release'],
    ['invalid_request', 'release'],
    ['not_supported', 'other_protocol'],
  ])('a start %s means %s for the hold', (status, verdict) => {
    expect(startResultVerdict(status)).toBe(verdict);
  });
});

describe('the tariff in plain words', () => {
  const tariff: OcpiTariffDocument = {
    id: 'T',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: 1.0, vat: 21.0, step_size: 1 },
          { type: 'ENERGY', price: '0.30', vat: 21, step_size: 1 },
          { type: 'TIME', price: 2.4, vat: 21, step_size: 60 },
        ],
      },
      {
        price_components: [{ type: 'ENERGY', price: 0.45, vat: 21, step_size: 100 }],
        restrictions: { start_time: '18:00', end_time: '22:00', day_of_week: ['MONDAY', 'FRIDAY'] },
      },
      {
        price_components: [{ type: 'PARKING_TIME', price: 6, step_size: 60 }],
        restrictions: { min_duration: 7200 },
      },
    ],
    max_price: { excl_vat: 40, incl_vat: 48.4 },
  };

  it('states each price with its VAT and conditions, exactly', () => {
    expect(tariffInWords(tariff).map((l) => [l.kind, l.text])).toEqual([
      ['start_fee', 'Start fee: 1.00 EUR + 21 % VAT = 1.21 EUR'],
      ['energy', 'Energy: 0.30 EUR per kWh + 21 % VAT = 0.363 EUR'],
      [
        'time',
        'Charging time: 2.40 EUR per hour + 21 % VAT = 2.904 EUR (0.0484 EUR per minute with VAT), billed per 1 min',
      ],
      ['energy', 'Energy: 0.45 EUR per kWh + 21 % VAT = 0.5445 EUR, billed per 0.1 kWh (Mon, Fri, 18:00–22:00)'],
      [
        'parking',
        'Parking (idle) time: 6.00 EUR per hour (VAT not stated) (0.10 EUR per minute), billed per 1 min (after 2 h)',
      ],
      ['cap', 'Maximum price: 48.40 EUR with VAT (40.00 EUR without) per session'],
    ]);
  });

  it('restrictions read as conditions', () => {
    expect(restrictionsInWords(undefined)).toBe('');
    expect(restrictionsInWords({ min_kwh: 10, max_power: '22' })).toBe('above 10 kWh, below 22 kW');
  });

  it('the hold in the currency’s minor unit', () => {
    expect(holdInWords(5000n, 'EUR')).toMatch(/^50\.00 EUR is reserved/);
    expect(holdInWords(7000n, 'JPY')).toMatch(/^7000 JPY is reserved/);
  });
});
