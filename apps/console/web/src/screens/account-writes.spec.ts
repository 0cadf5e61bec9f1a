import { methodBody, previousMonth, walletBalanceMinor } from './account-writes';

const bal = (chart: string, postedMinor: string) => ({
  account: `${chart}:EUR:w-1`,
  chart,
  currency: 'EUR',
  billingAccountId: 'w-1',
  postedMinor,
  pendingMinor: '0',
  debitsPostedMinor: '0',
  creditsPostedMinor: '0',
});

describe('the console’s payment writes', () => {
  it('sends only the fields of the kind of method chosen', () => {
    const f = { customerRef: ' cus_1 ', paymentMethodRef: 'pm_1', creditLimitMinor: '50000' };
    expect(methodBody({ kind: 'card', ...f })).toEqual({
      kind: 'card',
      customerRef: 'cus_1',
      paymentMethodRef: 'pm_1',
    });
    expect(methodBody({ kind: 'wallet', ...f })).toEqual({ kind: 'wallet' });
    expect(methodBody({ kind: 'invoice', ...f })).toEqual({ kind: 'invoice', creditLimitMinor: '50000' });
  });

  it('reads the wallet’s balance as the credit of its wallet_liability account, exactly', () => {
    expect(walletBalanceMinor([bal('customer_receivable', '0'), bal('wallet_liability', '-2500')])).toBe('2500');
    expect(walletBalanceMinor([bal('wallet_liability', '-900719925474099312345')])).toBe('900719925474099312345');
    expect(walletBalanceMinor([bal('customer_receivable', '10')])).toBeUndefined();
    expect(walletBalanceMinor(undefined)).toBeUndefined();
  });

  it('issues statements for the month before', () => {
    expect(previousMonth('2026-12-05')).toBe('2026-11');
    expect(previousMonth('2027-01-01')).toBe('2026-12');
  });
});
