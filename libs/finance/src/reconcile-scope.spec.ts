import { factKeys, reconHistory, seeded, type HistoryItem } from './recon-history.fixture';
import { reconcile, reconciliationAsOf, type ReconPaymentFact } from './reconcile';
import { reconcileScope } from './reconcile-scope';

const keysOf = (i: HistoryItem): string[] =>
  i.kind === 'session'
    ? [`s:${i.session.sessionId}`]
    : i.kind === 'cdr'
      ? [`c:${i.cdr.cdrId}`, `s:${i.cdr.sessionId}`]
      : factKeys(i.fact);

function input(items: readonly HistoryItem[]) {
  // a session's latest revision, as the read model keeps it
  const sessions = new Map<string, Extract<HistoryItem, { kind: 'session' }>['session']>();
  for (const i of items)
    if (i.kind === 'session' && (sessions.get(i.session.sessionId)?.revision ?? 0) < i.session.revision)
      sessions.set(i.session.sessionId, i.session);
  // in the order the service reads them (a CDR's position decides which id an ENERGY_MISMATCH names)
  const byte = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return {
    sessions: [...sessions.values()]
      .sort((a, b) => byte(a.sessionId, b.sessionId))
      .map(({ sessionId, endedAt, energyKwh }) => ({ sessionId, endedAt, energyKwh })),
    cdrs: items.flatMap((i) => (i.kind === 'cdr' ? [i.cdr] : [])).sort((a, b) => byte(a.cdrId, b.cdrId)),
    payments: items
      .flatMap((i) => (i.kind === 'fact' ? [i] : []))
      .sort((a, b) => byte(a.id, b.id))
      .map((i) => i.fact),
  };
}

/** Every item linked to the seed keys, transitively (what the service's run gathers with its GIN index). */
function gather(items: readonly HistoryItem[], seed: Iterable<string>): HistoryItem[] {
  const keys = new Set(seed);
  const taken = new Set<HistoryItem>();
  for (let grew = true; grew;) {
    grew = false;
    for (const i of items) {
      if (taken.has(i)) continue;
      const ks = keysOf(i);
      if (!ks.some((k) => keys.has(k))) continue;
      taken.add(i);
      grew = true;
      for (const k of ks) keys.add(k);
    }
  }
  return [...taken];
}

const opts = (asOf: string) => ({ asOf, unsettledDays: 3, graceSeconds: 3600 });
const isReport = (f: ReconPaymentFact) => f.type === 'payment.settlement_report_imported';

describe('the scope of an incremental reconciliation run', () => {
  it('random histories: every break a full run finds is in the scope of its input', () => {
    let breaks = 0;
    for (let seed = 1; seed <= 15; seed++) {
      const batches = reconHistory(seed);
      const seen: HistoryItem[] = [];
      for (const b of batches) {
        seen.push(...b);
        const w = input(seen);
        const asOf = reconciliationAsOf(w.payments);
        if (!asOf) continue;
        const scope = reconcileScope(w);
        const found = reconcile(w, opts(asOf));
        breaks += found.length;
        for (const f of found) expect(scope.has(f.breakId)).toBe(true);
      }
    }
    expect(breaks).toBeGreaterThan(150); // the histories do have breaks, of many kinds
  });

  it("random histories: the whole histories of some subjects give exactly the full run's breaks of those subjects", () => {
    const reasons = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = seeded(seed * 7919);
      const all = reconHistory(seed).flat();
      const w = input(all);
      const asOf = reconciliationAsOf(w.payments)!;
      const full = reconcile(w, opts(asOf));
      for (const f of full) reasons.add(f.reason);
      for (let trial = 0; trial < 5; trial++) {
        const seedKeys = all.filter(() => rnd() < 0.15).flatMap(keysOf);
        const part = input(gather(all, seedKeys));
        part.payments.push(...w.payments.filter(isReport));
        const scope = reconcileScope(part);
        const found = reconcile(part, opts(asOf));
        expect(found).toEqual(full.filter((b) => scope.has(b.breakId)));
      }
    }
    // every reason the histories can produce was met
    expect([...reasons].sort()).toEqual(
      [
        'AMOUNT_MISMATCH',
        'DOUBLE_CAPTURE',
        'ENERGY_MISMATCH',
        'LEDGER_MISMATCH',
        'MISSING_CAPTURE',
        'MISSING_CDR',
        'REFUND_WITHOUT_CREDIT',
        'UNKNOWN_PSP_PAYMENT',
        'UNSETTLED_AFTER_N_DAYS',
      ].sort(),
    );
  });

  it('a subject outside the input is outside the scope', () => {
    const all = reconHistory(3).flat();
    const one = all.find((i) => i.kind === 'session')!;
    const part = input(gather(all, keysOf(one)));
    const full = reconcile(input(all), opts(reconciliationAsOf(input(all).payments)!));
    const scope = reconcileScope(part);
    const outside = full.filter((b) => b.sessionId !== null && !part.sessions.some((s) => s.sessionId === b.sessionId));
    expect(outside.length).toBeGreaterThan(0);
    for (const b of outside) expect(scope.has(b.breakId)).toBe(false);
  });
});
