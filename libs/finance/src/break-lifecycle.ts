import type { ReconciliationReason } from '@csms/contracts';
import type { ReconBreak } from './reconcile';

/**
 * The lifecycle of reconciliation breaks between runs. A run finds the breaks of the facts as they are now
 * (`reconcile`); against the queue it tells which are new, which were cleared before and are back, and which open
 * ones it no longer finds (the facts that were missing arrived: a payout, a late capture, a CDR), so they are
 * cleared by the run. A break a person resolved stays resolved: a run neither clears nor reopens it (the person
 * decided it). Pure: no clock; the caller derives the events' ids from the break and the run.
 */

export type BreakStatus = 'open' | 'resolved' | 'cleared';

export interface KnownBreak {
  breakId: string;
  reason: ReconciliationReason;
  status: BreakStatus;
}

export interface BreakChanges {
  /** found and not in the queue: `finance.reconciliation_break_detected` */
  detected: ReconBreak[];
  /** found again after a run cleared it: detected again (reopened) */
  reopened: ReconBreak[];
  /** open in the queue and not found by this run: `finance.reconciliation_break_cleared` */
  cleared: KnownBreak[];
}

/**
 * `scope`: when given, the run looked only at these breaks' subjects (an incremental run); an open break outside
 * it is not cleared (the run did not look). Every list is in break id order, whatever the input order.
 */
export function breakChanges(
  known: readonly KnownBreak[],
  found: readonly ReconBreak[],
  scope?: (b: KnownBreak) => boolean,
): BreakChanges {
  const byId = new Map(known.map((k) => [k.breakId, k]));
  const foundIds = new Set(found.map((b) => b.breakId));
  const order = <T extends { breakId: string }>(xs: T[]) =>
    xs.sort((a, b) => (a.breakId < b.breakId ? -1 : a.breakId > b.breakId ? 1 : 0));
  const detected: ReconBreak[] = [];
  const reopened: ReconBreak[] = [];
  for (const b of found) {
    const k = byId.get(b.breakId);
    if (k === undefined) detected.push(b);
    else if (k.status === 'cleared') reopened.push(b);
  }
  const cleared = known.filter((k) => k.status === 'open' && !foundIds.has(k.breakId) && (scope?.(k) ?? true));
  return { detected: order(detected), reopened: order(reopened), cleared: order([...cleared]) };
}
