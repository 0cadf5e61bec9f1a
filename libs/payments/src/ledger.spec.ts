import fc from 'fast-check';
import {
  LedgerJournal,
  PostingRules,
  assertBalanced,
  balancesOf,
  ledgerAccount,
  makeTransfer,
  parseLedgerAccount,
  transferEvent,
  transferIdOf,
  transferOf,
  type PostingContext,
  type Transfer,
} from './ledger';

const ctx = (source = 'src-1', currency = 'EUR'): PostingContext => ({
  billingAccountId: 'acct-1',
  currency,
  sourceEventId: source,
  at: '2026-03-01T10:00:00Z',
});
const sum = (t: Transfer) => t.postings.reduce((a, p) => a + p.amountMinor, 0n);
const lines = (t: Transfer | null) => Object.fromEntries((t?.postings ?? []).map((p) => [p.account, p.amountMinor]));

describe('ledger accounts', () => {
  it('names accounts <chart>:<currency>[:<billing account>] and reads them back', () => {
    expect(ledgerAccount('customer_receivable', 'EUR', 'acct-1')).toBe('customer_receivable:EUR:acct-1');
    expect(ledgerAccount('bank', 'EUR')).toBe('bank:EUR');
    expect(parseLedgerAccount('wallet_liability:JPY:adhoc:qr-1')).toEqual({
      chart: 'wallet_liability',
      currency: 'JPY',
      billingAccountId: 'adhoc:qr-1',
    });
    expect(() => parseLedgerAccount('cash:EUR')).toThrow(expect.objectContaining({ code: 'LEDGER_INVALID_TRANSFER' }));
  });
});

describe('posting rules', () => {
  it('a CDR: receivable incl. VAT against revenue net and VAT payable', () => {
    const t = PostingRules.cdr(ctx(), 'CDR1', 847n, 700n)!;
    expect(lines(t)).toEqual({
      'customer_receivable:EUR:acct-1': 847n,
      'revenue_net:EUR': -700n,
      'vat_payable:EUR': -147n,
    });
    expect(t.state).toBe('posted');
    expect(t.transferId).toBe(transferIdOf('src-1', 'cdr:CDR1'));
  });

  it('a credit CDR reverses; no VAT line when there is no VAT; nothing for zero', () => {
    expect(lines(PostingRules.cdr(ctx(), 'CDR1-C', -847n, -700n))).toEqual({
      'customer_receivable:EUR:acct-1': -847n,
      'revenue_net:EUR': 700n,
      'vat_payable:EUR': 147n,
    });
    expect(PostingRules.cdr(ctx(), 'CDR2', 500n, 500n)!.postings).toHaveLength(2);
    expect(PostingRules.cdr(ctx(), 'CDR3', 0n, 0n)).toBeNull();
  });

  it('capture, refund, wallet, payout', () => {
    expect(lines(PostingRules.capture(ctx(), 'h1', 847n, null))).toEqual({
      'psp_clearing:EUR': 847n,
      'customer_receivable:EUR:acct-1': -847n,
    });
    expect(lines(PostingRules.refund(ctx(), 'i1', 100n))).toEqual({
      'customer_receivable:EUR:acct-1': 100n,
      'psp_clearing:EUR': -100n,
    });
    expect(lines(PostingRules.walletTopUp(ctx(), 't1', 2000n, 'bank'))).toEqual({
      'bank:EUR': 2000n,
      'wallet_liability:EUR:acct-1': -2000n,
    });
    expect(lines(PostingRules.walletDebit(ctx(), 'CDR1', 847n))).toEqual({
      'wallet_liability:EUR:acct-1': 847n,
      'customer_receivable:EUR:acct-1': -847n,
    });
    expect(lines(PostingRules.walletCredit(ctx(), 'CDR1-C', 847n))).toEqual({
      'customer_receivable:EUR:acct-1': 847n,
      'wallet_liability:EUR:acct-1': -847n,
    });
    expect(lines(PostingRules.payout(ctx(), 'po1', 99000n, 1000n))).toEqual({
      'bank:EUR': 99000n,
      'psp_fees:EUR': 1000n,
      'psp_clearing:EUR': -100000n,
    });
    expect(PostingRules.payout(ctx(), 'po2', 5000n, 0n)!.postings).toHaveLength(2);
  });

  it('a hold is pending; a capture posts it, a release voids it', () => {
    const hold = PostingRules.hold(ctx('auth'), 'h1', 5000n, 1)!;
    expect(hold.state).toBe('pending');
    const capture = PostingRules.capture(ctx('cap'), 'h1', 847n, hold.transferId)!;
    expect(capture.pendingId).toBe(hold.transferId);
    const j = new LedgerJournal();
    j.apply(hold);
    expect(j.balances().pending.get('psp_clearing:EUR')).toBe(5000n);
    j.apply(capture);
    expect(j.balances().pending.size).toBe(0);
    expect(j.balances().posted.get('psp_clearing:EUR')).toBe(847n);
    // resolved once: a second post or a void is refused
    expect(() => j.apply(PostingRules.void(ctx('rel'), hold, 'hold_released'))).toThrow(/already resolved/);
    const other = PostingRules.hold(ctx('auth2'), 'h2', 5000n, 1)!;
    j.apply(other);
    j.apply(PostingRules.void(ctx('rel2'), other, 'hold_released'));
    expect(j.balances().pending.size).toBe(0);
    expect(() => j.apply(PostingRules.capture(ctx('cap3'), 'h3', 6000n, other.transferId)!)).toThrow();
  });

  it('a post for more than the pending amount is refused', () => {
    const hold = PostingRules.hold(ctx('auth'), 'h1', 5000n, 1)!;
    const j = new LedgerJournal();
    j.apply(hold);
    expect(() => j.apply(PostingRules.capture(ctx('cap'), 'h1', 5001n, hold.transferId)!)).toThrow(/exceeds/);
  });

  it('assertBalanced refuses an unbalanced, one-line, zero-line or mixed-currency transfer', () => {
    const base: Transfer = {
      transferId: 't',
      currency: 'EUR',
      state: 'posted',
      pendingId: null,
      postings: [],
      sourceEventId: 's',
      reason: 'r',
      at: '2026-03-01T10:00:00Z',
    };
    const code = (t: Transfer) => {
      try {
        assertBalanced(t);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(
      code({
        ...base,
        postings: [
          { account: 'bank:EUR', amountMinor: 1n },
          { account: 'psp_clearing:EUR', amountMinor: -2n },
        ],
      }),
    ).toBe('LEDGER_UNBALANCED');
    expect(code({ ...base, postings: [{ account: 'bank:EUR', amountMinor: 0n }] })).toBe('LEDGER_INVALID_TRANSFER');
    expect(
      code({
        ...base,
        postings: [
          { account: 'bank:EUR', amountMinor: 1n },
          { account: 'psp_clearing:EUR', amountMinor: 0n },
          { account: 'psp_fees:EUR', amountMinor: -1n },
        ],
      }),
    ).toBe('LEDGER_INVALID_TRANSFER');
    expect(
      code({
        ...base,
        postings: [
          { account: 'bank:EUR', amountMinor: 1n },
          { account: 'bank:USD', amountMinor: -1n },
        ],
      }),
    ).toBe('LEDGER_UNBALANCED');
    expect(
      code({
        ...base,
        state: 'voided',
        postings: [
          { account: 'bank:EUR', amountMinor: 1n },
          { account: 'psp_clearing:EUR', amountMinor: -1n },
        ],
      }),
    ).toBe('LEDGER_INVALID_TRANSFER');
    expect(
      code({
        ...base,
        postings: [
          { account: 'bank:EUR', amountMinor: 1n },
          { account: 'psp_clearing:EUR', amountMinor: -1n },
        ],
      }),
    ).toBe('ok');
  });

  it('replays the same transfer as a duplicate; the same id with other content is refused', () => {
    const t = PostingRules.cdr(ctx(), 'CDR1', 847n, 700n)!;
    const j = new LedgerJournal();
    expect(j.apply(t)).toBe('applied');
    expect(j.apply(PostingRules.cdr(ctx(), 'CDR1', 847n, 700n)!)).toBe('duplicate');
    expect(() => j.apply({ ...t, postings: PostingRules.cdr(ctx(), 'CDR1', 900n, 700n)!.postings })).toThrow(/reused/);
  });

  it('a transfer goes to its event and back unchanged', () => {
    const t = PostingRules.payout(ctx(), 'po1', 99000n, 1000n)!;
    const e = transferEvent(t, 'platform');
    expect(e.type).toBe('ledger.transfer_posted');
    expect(e.postings[0]).toEqual({ account: 'bank:EUR', amountMinor: '99000' });
    expect(transferOf(e)).toEqual(t);
    const hold = PostingRules.hold(ctx(), 'h1', 10n, 1)!;
    const v = transferEvent(PostingRules.void(ctx('x'), hold, 'hold_released'), 'acct-1');
    expect(v.type).toBe('ledger.transfer_voided');
  });
});

describe('ledger properties', () => {
  const currency = fc.constantFrom('EUR', 'JPY', 'KWD');
  const amount = fc.bigInt({ min: 1n, max: 10n ** 15n });
  /** one step of a random book: a rule applied to random amounts */
  const step = fc.oneof(
    fc.tuple(fc.constant('cdr' as const), amount, fc.bigInt({ min: 0n, max: 10n ** 14n }), fc.boolean()),
    fc.tuple(fc.constant('hold' as const), amount, fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.boolean()),
    fc.tuple(fc.constant('refund' as const), amount, fc.constant(0n), fc.boolean()),
    fc.tuple(fc.constant('wallet' as const), amount, amount, fc.boolean()),
    fc.tuple(fc.constant('payout' as const), amount, fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.boolean()),
  );

  it('every transfer of any sequence is balanced, and the balances are the sums of the postings', () => {
    fc.assert(
      fc.property(currency, fc.array(step, { maxLength: 40 }), (cur, steps) => {
        const j = new LedgerJournal();
        steps.forEach(([kind, a, b, flag], i) => {
          const c = ctx(`s${i}`, cur);
          const ts: (Transfer | null)[] = [];
          if (kind === 'cdr') ts.push(PostingRules.cdr(c, `CDR${i}`, flag ? -(a + b) : a + b, flag ? -a : a));
          if (kind === 'hold') {
            const h = PostingRules.hold(c, `h${i}`, a, 1)!;
            ts.push(h);
            // capture part (b <= a) or release
            ts.push(
              flag
                ? PostingRules.capture(c, `h${i}`, b > a ? a : b === 0n ? 1n : b, h.transferId)
                : PostingRules.void(c, h, 'x'),
            );
          }
          if (kind === 'refund') ts.push(PostingRules.refund(c, `r${i}`, a));
          if (kind === 'wallet') {
            ts.push(PostingRules.walletTopUp(c, `t${i}`, a, flag ? 'psp' : 'bank'));
            ts.push(flag ? PostingRules.walletDebit(c, `CDR${i}`, b) : PostingRules.walletCredit(c, `CDR${i}`, b));
          }
          if (kind === 'payout') ts.push(PostingRules.payout(c, `po${i}`, a, b));
          for (const t of ts) {
            if (!t) continue;
            assertBalanced(t);
            expect(sum(t)).toBe(0n);
            j.apply(t);
          }
        });
        const all = j.all();
        const { posted, pending } = balancesOf(all);
        // the books balance: posted and pending balances each sum to zero
        expect([...posted.values()].reduce((x, y) => x + y, 0n)).toBe(0n);
        expect([...pending.values()].reduce((x, y) => x + y, 0n)).toBe(0n);
        // every posted balance is the plain sum of the posted transfers' postings
        const expected = new Map<string, bigint>();
        for (const t of all.filter((x) => x.state === 'posted'))
          for (const p of t.postings) expected.set(p.account, (expected.get(p.account) ?? 0n) + p.amountMinor);
        expect(posted).toEqual(expected);
        // derived in any order, the balances are the same
        expect(balancesOf([...all].reverse())).toEqual({ posted, pending });
      }),
    );
  });

  it('makeTransfer adds lines per account and drops zeros, or refuses an unbalanced set', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('bank:EUR', 'psp_fees:EUR', 'psp_clearing:EUR'),
            fc.bigInt({ min: -1000n, max: 1000n }),
          ),
          { maxLength: 8 },
        ),
        (raw) => {
          const total = raw.reduce((a, [, x]) => a + x, 0n);
          const postings = [
            ...raw.map(([account, amountMinor]) => ({ account, amountMinor })),
            { account: 'revenue_net:EUR', amountMinor: -total },
          ];
          const t = makeTransfer(
            {
              purpose: 'p',
              reason: 'r',
              currency: 'EUR',
              state: 'posted',
              pendingId: null,
              sourceEventId: 's',
              at: '2026-03-01T10:00:00Z',
            },
            postings,
          );
          if (t) {
            expect(sum(t)).toBe(0n);
            expect(t.postings.every((p) => p.amountMinor !== 0n)).toBe(true);
          }
        },
      ),
    );
  });
});
