import { deriveId, type ReconciliationReason } from '@csms/contracts';
import type { ReconCdr, ReconPaymentFact, ReconSession } from './reconcile';

/**
 * The scope of an incremental reconciliation run. `reconcile` joins facts by their subjects (a session, a CDR, a
 * payment reference, a ledger transfer's account and causing event, a settlement balance transaction); a run that
 * gives it whole histories of some subjects (every fact linked to them, transitively) gets exactly the breaks a full
 * run finds of those subjects. Which open breaks it may clear is then the breaks it could have found: every id
 * `reconcile` can derive from the subjects present in its input, whatever the facts say. Pure.
 */
export function reconcileScope(input: {
  sessions: readonly ReconSession[];
  cdrs: readonly ReconCdr[];
  payments: readonly ReconPaymentFact[];
}): Set<string> {
  const ids = new Set<string>();
  const add = (reasons: readonly ReconciliationReason[], subject: string) => {
    for (const r of reasons) ids.add(deriveId('reconciliation-break', r, subject));
  };
  const session = (s: string) => {
    add(['MISSING_CDR', 'ENERGY_MISMATCH'], s);
    add(['AMOUNT_MISMATCH'], `paid:session:${s}`);
    add(['REFUND_WITHOUT_CREDIT'], `session:${s}`);
  };
  const cdr = (c: string) => {
    add(['AMOUNT_MISMATCH', 'LEDGER_MISMATCH', 'MISSING_CAPTURE', 'DOUBLE_CAPTURE'], `cdr:${c}`);
    add(['AMOUNT_MISMATCH'], `paid:cdr:${c}`);
  };
  const ref = (r: string) => {
    add(['MISSING_CAPTURE', 'DOUBLE_CAPTURE', 'AMOUNT_MISMATCH'], `psp:${r}`);
    add(['REFUND_WITHOUT_CREDIT'], `session:${r}`);
  };
  for (const s of input.sessions) session(s.sessionId);
  for (const c of input.cdrs) {
    cdr(c.cdrId);
    session(c.sessionId);
  }
  for (const f of input.payments) {
    if ('sessionId' in f && f.sessionId) session(f.sessionId);
    if ('cdrId' in f && f.cdrId) cdr(f.cdrId);
    if ('paymentRef' in f && f.paymentRef) ref(f.paymentRef);
    if (f.type === 'payment.captured') add(['LEDGER_MISMATCH'], `capture:${f.intentId}`);
    if (f.type === 'payment.settlement_line_recorded')
      add(['UNKNOWN_PSP_PAYMENT', 'UNSETTLED_AFTER_N_DAYS'], `line:${f.balanceTransactionId}`);
  }
  return ids;
}
