import Stripe from 'stripe';
import { canonical, FormError, parseForm } from './form';

describe('parseForm (Stripe form encoding)', () => {
  it('builds nested objects and indexed arrays from bracketed keys', () => {
    expect(
      parseForm(
        'amount=500&metadata[intent_id]=abc&expand[0]=latest_charge&expand[1]=customer' +
          '&line_items[0][price_data][currency]=eur&line_items[0][quantity]=1&note=a+b%26c',
      ),
    ).toEqual({
      amount: '500',
      metadata: { intent_id: 'abc' },
      expand: ['latest_charge', 'customer'],
      line_items: [{ price_data: { currency: 'eur' }, quantity: '1' }],
      note: 'a b&c',
    });
  });

  it('reads what the SDK writes (its own encoder, percent-encoded brackets too)', () => {
    // the SDK keeps brackets readable; other clients encode them: both are accepted
    expect(parseForm('metadata%5Bk%5D=v')).toEqual({ metadata: { k: 'v' } });
    expect(parseForm('')).toEqual({});
  });

  it('refuses prototype keys and malformed names', () => {
    expect(() => parseForm('__proto__[x]=1')).toThrow(FormError);
    expect(() => parseForm('a[b]c=1')).toThrow(FormError);
    expect(() => parseForm('a[1][2][3][4][5][6][7][8]=1')).toThrow(FormError);
  });

  it('canonical: the same parameters in any order give the same string, different ones differ', () => {
    expect(canonical(parseForm('a=1&b[x]=2&b[y]=3'))).toBe(canonical(parseForm('b[y]=3&a=1&b[x]=2')));
    expect(canonical(parseForm('a=1'))).not.toBe(canonical(parseForm('a=2')));
  });

  it('the SDK signature check accepts what the emulator signs', async () => {
    const { signPayload } = await import('./webhooks');
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'x', data: { object: {} } });
    const stripe = new Stripe('sk_test_x');
    const header = signPayload(body, 'whsec_abc', Math.floor(Date.now() / 1000));
    expect(stripe.webhooks.constructEvent(body, header, 'whsec_abc').id).toBe('evt_1');
    expect(() => stripe.webhooks.constructEvent(body, header, 'whsec_other')).toThrow(/signature/i);
    const old = signPayload(body, 'whsec_abc', Math.floor(Date.now() / 1000) - 3600);
    expect(() => stripe.webhooks.constructEvent(body, old, 'whsec_abc')).toThrow(/tolerance|timestamp/i);
  });
});
