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
  // the subjects first (a session is named by many facts), then each one's ids once
  const sessions = new Set<string>();
  const cdrs = new Set<string>();
  const refs = new Set<string>();
  const captures = new Set<string>();
  const lines = new Set<string>();
  for (const s of input.sessions) sessions.add(s.sessionId);
  for (const c of input.cdrs) {
    cdrs.add(c.cdrId);
    sessions.add(c.sessionId);
  }
  for (const f of input.payments) {
    if ('sessionId' in f && f.sessionId) sessions.add(f.sessionId);
    if ('cdrId' in f && f.cdrId) cdrs.add(f.cdrId);
    if ('paymentRef' in f && f.paymentRef) refs.add(f.paymentRef);
    if (f.type === 'payment.captured') captures.add(f.intentId);
    if (f.type === 'payment.settlement_line_recorded') lines.add(f.balanceTransactionId);
  }
  const ids = new Set<string>();
  const add = (reasons: readonly ReconciliationReason[], subject: string) => {
    for (const r of reasons) ids.add(deriveId('reconciliation-break', r, subject));
  };
  for (const s of sessions) {
    add(['MISSING_CDR', 'ENERGY_MISMATCH'], s);
    add(['AMOUNT_MISMATCH'], `paid:session:${s}`);
    add(['REFUND_WITHOUT_CREDIT'], `session:${s}`);
  }
  for (const c of cdrs) {
    add(['AMOUNT_MISMATCH', 'LEDGER_MISMATCH', 'MISSING_CAPTURE', 'DOUBLE_CAPTURE'], `cdr:${c}`);
    add(['AMOUNT_MISMATCH'], `paid:cdr:${c}`);
  }
  for (const r of refs) {
    add(['MISSING_CAPTURE', 'DOUBLE_CAPTURE', 'AMOUNT_MISMATCH'], `psp:${r}`);
    add(['REFUND_WITHOUT_CREDIT'], `session:${r}`);
  }
  for (const i of captures) add(['LEDGER_MISMATCH'], `capture:${i}`);
  for (const b of lines) add(['UNKNOWN_PSP_PAYMENT', 'UNSETTLED_AFTER_N_DAYS'], `line:${b}`);
  return ids;
}
