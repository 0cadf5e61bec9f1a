/**
 * Three-way reconciliation breaks (finance.events, key = the break id): a difference between the meter evidence
 * (the session), the priced CDR, the PSP's record (payment events and the imported settlement report) and the
 * ledger, found by a reconciliation run of the reporting service (rules: libs/finance `reconcile`). The break id is
 * derived from its reason and subject, so a later run finding the same break writes the same event (read once).
 * Resolving a break is an event too (who, when, a note).
 */
import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { stringEnum } from '../ocpi-location';
import { Topics } from '../topics';

export const RECONCILIATION_REASONS = [
  /** the amounts of two records of one payment differ (CDR vs payment, capture vs the PSP's line) */
  'AMOUNT_MISMATCH',
  /** a card CDR with no capture (and no receivable), or a capture the PSP's report does not have */
  'MISSING_CAPTURE',
  /** more than one capture of one payment (ours or the PSP's) */
  'DOUBLE_CAPTURE',
  /** a session ended (meter evidence) without a CDR */
  'MISSING_CDR',
  /** a refund (ours or the PSP's) for a session without a credit CDR */
  'REFUND_WITHOUT_CREDIT',
  /** the CDRs' energy differs from the session's metered energy */
  'ENERGY_MISMATCH',
  /** a PSP charge not paid out N days after it was booked (by the latest settlement report's time) */
  'UNSETTLED_AFTER_N_DAYS',
  /** a ledger transfer missing for a payment event, or of another amount */
  'LEDGER_MISMATCH',
  /** a settlement line of a payment this system does not know */
  'UNKNOWN_PSP_PAYMENT',
] as const;
export type ReconciliationReason = (typeof RECONCILIATION_REASONS)[number];

const Id = Type.String({ minLength: 1, maxLength: 200 });
const NullableId = Type.Union([Id, Type.Null()]);
const Role = Type.Union([
  Type.Literal('operator'),
  Type.Literal('finance'),
  Type.Literal('integration'),
  Type.Literal('admin'),
]);

export const ReconciliationBreakDetectedV1 = defineEvent({
  type: 'finance.reconciliation_break_detected',
  version: 1,
  topic: Topics.financeEvents,
  description: 'a reconciliation run found a break between the session, the CDR, the PSP and the ledger',
  schema: closed({
    breakId: Type.String({ format: 'uuid' }),
    reason: stringEnum(RECONCILIATION_REASONS),
    sessionId: NullableId,
    cdrId: NullableId,
    paymentRef: NullableId,
    currency: Type.Union([Type.String({ pattern: '^[A-Z]{3}$' }), Type.Null()]),
    /** what one record says and what the other says (amounts in minor units, energy in kWh), when amounts differ */
    expected: Type.Union([Type.String({ maxLength: 60 }), Type.Null()]),
    actual: Type.Union([Type.String({ maxLength: 60 }), Type.Null()]),
    detail: Type.String({ maxLength: 500 }),
    /** the run: its id and the event time it reconciled as of (the latest settlement report's end) */
    runId: Type.String({ format: 'uuid' }),
    asOf: Type.String({ format: 'date-time' }),
    detectedBy: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  example: {
    breakId: '3f1b2c4d-5e6f-5a7b-8c9d-0e1f2a3b4c5d',
    reason: 'MISSING_CAPTURE',
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    cdrId: 'CDR0001',
    paymentRef: 'pi_123',
    currency: 'EUR',
    expected: '847',
    actual: null,
    detail: 'captured, but no charge of this payment in the settlement report',
    runId: '4a2c3d5e-6f7a-5b8c-9d0e-1f2a3b4c5d6e',
    asOf: '2026-03-02T00:00:00.000Z',
    detectedBy: 'api-key:finance-desk',
  },
});
export type ReconciliationBreakDetected = EventOf<typeof ReconciliationBreakDetectedV1>;

export const ReconciliationBreakResolvedV1 = defineEvent({
  type: 'finance.reconciliation_break_resolved',
  version: 1,
  topic: Topics.financeEvents,
  description: 'a finance user resolved a reconciliation break (who, when, why)',
  schema: closed({
    breakId: Type.String({ format: 'uuid' }),
    resolvedAt: Type.String({ format: 'date-time' }),
    resolvedBy: Type.String({ minLength: 1, maxLength: 200 }),
    resolvedByRole: Role,
    note: Type.String({ minLength: 1, maxLength: 2000 }),
  }),
  example: {
    breakId: '3f1b2c4d-5e6f-5a7b-8c9d-0e1f2a3b4c5d',
    resolvedAt: '2026-03-03T09:00:00.000Z',
    resolvedBy: 'api-key:finance-desk',
    resolvedByRole: 'finance',
    note: 'PSP confirmed the capture was lost; captured again manually',
  },
});
export type ReconciliationBreakResolved = EventOf<typeof ReconciliationBreakResolvedV1>;

/**
 * A later run no longer finds an open break: the facts that were missing arrived (the settlement's payout, a late
 * capture, a CDR). Closed by the run, not by a person (a resolution is the person's), and only while nobody has
 * resolved it. Its id is derived from the break and the run; its time is the run's `asOf` (event time).
 */
export const ReconciliationBreakClearedV1 = defineEvent({
  type: 'finance.reconciliation_break_cleared',
  version: 1,
  topic: Topics.financeEvents,
  description: 'a reconciliation run no longer finds an open break: later facts healed it',
  schema: closed({
    breakId: Type.String({ format: 'uuid' }),
    reason: stringEnum(RECONCILIATION_REASONS),
    /** the run that no longer found it, and the event time it reconciled as of */
    runId: Type.String({ format: 'uuid' }),
    asOf: Type.String({ format: 'date-time' }),
    clearedBy: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  example: {
    breakId: '3f1b2c4d-5e6f-5a7b-8c9d-0e1f2a3b4c5d',
    reason: 'UNSETTLED_AFTER_N_DAYS',
    runId: '5b3d4e6f-7a8b-5c9d-8e0f-2a3b4c5d6e7f',
    asOf: '2026-03-09T00:00:00.000Z',
    clearedBy: 'reconciliation-scheduler',
  },
});
export type ReconciliationBreakCleared = EventOf<typeof ReconciliationBreakClearedV1>;

export const RECONCILIATION_EVENTS = [
  ReconciliationBreakDetectedV1,
  ReconciliationBreakResolvedV1,
  ReconciliationBreakClearedV1,
] as const;
