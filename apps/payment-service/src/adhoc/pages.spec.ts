import { errorPage, esc, startPage, statusPage, type StatusPageInput } from './pages';

const base: StatusPageInput = {
  stationId: 'CP-1',
  evseId: 2,
  stage: 'starting',
  currency: 'EUR',
  holdAmount: '50.00',
  checkoutUrl: 'https://psp.example/checkout/cs_1',
  startUrl: '/pay/CP-1/2',
  receipt: null,
};

describe('ad-hoc payment pages', () => {
  it('escapes every value', () => {
    expect(esc(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
    const html = startPage({
      stationId: 'CP-<1>',
      evseId: 1,
      tariffLines: [{ kind: 'energy', text: 'Energy: <script>alert(1)</script>' }],
      tariffId: 'T"1',
      currency: 'EUR',
      holdText: '50.00 EUR is reserved',
      holdAmount: '50.00',
      action: '/pay/CP-1/1?attempt=a&b',
      lastPaymentUrl: null,
      qrSvgUrl: '/q.svg',
      qrPngUrl: '/q.png',
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('Energy: &lt;script&gt;');
    expect(html).toContain('action="/pay/CP-1/1?attempt=a&amp;b"');
    expect(html).toContain('Tariff T&quot;1');
    expect(html).not.toContain('id="last-payment"');
  });

  it.each([
    ['awaiting_payment', true],
    ['starting', true],
    ['charging', true],
    ['payment_failed', false],
    ['not_started', false],
  ] as const)('%s: refreshes itself while in progress (%s)', (stage, refreshes) => {
    const html = statusPage({ ...base, stage });
    expect(html).toContain(`data-status="${stage}"`);
    expect(html.includes('http-equiv="refresh"')).toBe(refreshes);
    expect(html.includes('id="continue"')).toBe(stage === 'awaiting_payment');
    expect(html.includes('id="again"')).toBe(stage === 'payment_failed' || stage === 'not_started');
  });

  it('the receipt: energy, times, totals, what the card was charged', () => {
    const html = statusPage({
      ...base,
      stage: 'completed',
      receipt: {
        cdrId: 'CDR-1',
        totalInclVat: '4.84',
        totalExclVat: '4.00',
        vat: '0.84',
        energyKwh: '12',
        start: '2026-03-01T10:00:00.000Z',
        end: '2026-03-01T10:02:00.000Z',
        captured: null,
      },
    });
    expect(html).not.toContain('http-equiv="refresh"');
    for (const [id, text] of [
      ['total', '4.84 EUR'],
      ['total-excl', '4.00 EUR'],
      ['vat', '0.84 EUR'],
      ['energy', '12 kWh'],
      ['start', '2026-03-01T10:00:00.000Z'],
      ['captured', 'being charged'],
    ])
      expect(html).toContain(`id="${id}">${text}<`);
  });

  it('an error page names its code', () => {
    expect(errorPage(404, 'PAY_EVSE_UNKNOWN', 'no <such> EVSE')).toContain('data-code="PAY_EVSE_UNKNOWN"');
    expect(errorPage(404, 'PAY_EVSE_UNKNOWN', 'no <such> EVSE')).toContain('no &lt;such&gt; EVSE');
  });
});
