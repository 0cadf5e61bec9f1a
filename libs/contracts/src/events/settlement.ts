/**
 * The PSP's settlement report, imported by the payment service (`POST /api/v1/settlements`): modelled on Stripe's
 * itemized payout reconciliation report (one line per balance transaction: a captured charge or a refund, with its
 * gross, fee, net and the automatic payout that settled it). On `payment.events`, key `platform` (the account of
 * the PSP's payouts). Money in minor units as integer strings. Ids are derived from the report id and the line, the
 * time is the report's (never a clock): importing the same report again changes nothing.
 */
import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { stringEnum } from '../ocpi-location';
import { Topics } from '../topics';

const Instant = Type.String({ format: 'date-time' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const Minor = Type.String({ pattern: '^-?\\d+$', maxLength: 30 });
const Id = Type.String({ minLength: 1, maxLength: 200 });
const NullableId = Type.Union([Id, Type.Null()]);

/** The kinds of balance transaction a settlement line can be (Stripe's `reporting_category`, the ones imported). */
export const SETTLEMENT_LINE_CATEGORIES = ['charge', 'refund'] as const;
export type SettlementLineCategory = (typeof SETTLEMENT_LINE_CATEGORIES)[number];

export const SettlementLineRecordedV1 = defineEvent({
  type: 'payment.settlement_line_recorded',
  version: 1,
  topic: Topics.paymentEvents,
  description: "one line of the PSP's settlement report: a captured charge or a refund as the PSP booked it",
  schema: closed({
    /** always `platform` (the key of the PSP's records) */
    accountId: Type.String({ minLength: 1, maxLength: 100 }),
    /** the report and line this came from (the id of the input) */
    sourceEventId: Id,
    /** the line's balance transaction time (`created_utc`) */
    at: Instant,
    reportId: Id,
    /** the line number in the uploaded file (the header is line 1) */
    line: Type.Integer({ minimum: 2 }),
    /** the PSP's balance transaction id: one line per balance transaction, across every report */
    balanceTransactionId: Id,
    category: stringEnum(SETTLEMENT_LINE_CATEGORIES),
    /** the payment intent the line belongs to (our `paymentRef`) */
    paymentRef: NullableId,
    /** the charge or refund id (`source_id`) */
    sourceId: NullableId,
    currency: Currency,
    /** signed: a refund is negative */
    grossMinor: Minor,
    feeMinor: Minor,
    netMinor: Minor,
    availableOn: Type.Union([Instant, Type.Null()]),
    /** the automatic payout that settled it; null while it is not paid out */
    payoutRef: NullableId,
    payoutEffectiveAt: Type.Union([Instant, Type.Null()]),
  }),
  example: {
    accountId: 'platform',
    sourceEventId: '0b6f8a52-3f7d-5d0e-9f38-2c2a6f0b1d11',
    at: '2026-03-01T10:05:00.000Z',
    reportId: 'frr_2026-03-01',
    line: 2,
    balanceTransactionId: 'txn_1',
    category: 'charge',
    paymentRef: 'pi_123',
    sourceId: 'ch_123',
    currency: 'EUR',
    grossMinor: '847',
    feeMinor: '37',
    netMinor: '810',
    availableOn: '2026-03-03T00:00:00.000Z',
    payoutRef: 'po_1',
    payoutEffectiveAt: '2026-03-03T00:00:00.000Z',
  },
});
export type SettlementLineRecorded = EventOf<typeof SettlementLineRecordedV1>;

export const SettlementReportImportedV1 = defineEvent({
  type: 'payment.settlement_report_imported',
  version: 1,
  topic: Topics.paymentEvents,
  description: 'a PSP settlement report was imported: its interval, its lines and the payouts it settled',
  schema: closed({
    accountId: Type.String({ minLength: 1, maxLength: 100 }),
    sourceEventId: Id,
    /** the end of the report's interval: how far the PSP's record is known (reconciliation measures age against it) */
    at: Instant,
    reportId: Id,
    intervalStart: Instant,
    intervalEnd: Instant,
    /** lines in the file, and how many were not recorded by an earlier report */
    lines: Type.Integer({ minimum: 0 }),
    linesNew: Type.Integer({ minimum: 0 }),
    /** the payouts of the report's lines: what reached the bank (net) and the fees, per payout */
    payouts: Type.Array(
      closed({ payoutRef: Id, currency: Currency, amountMinor: Minor, feeMinor: Minor, grossMinor: Minor }),
      { maxItems: 10000 },
    ),
    /** the report file's SHA-256 */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** who: `api-key:<name>` */
    importedBy: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  example: {
    accountId: 'platform',
    sourceEventId: '1c7e9b63-4a8e-5e1f-8a49-3d3b7a1c2e22',
    at: '2026-03-02T00:00:00.000Z',
    reportId: 'frr_2026-03-01',
    intervalStart: '2026-03-01T00:00:00.000Z',
    intervalEnd: '2026-03-02T00:00:00.000Z',
    lines: 1,
    linesNew: 1,
    payouts: [{ payoutRef: 'po_1', currency: 'EUR', amountMinor: '810', feeMinor: '37', grossMinor: '847' }],
    sha256: 'aa97426dec509285fb92fd359a5ac1d4280477eac0b1bcefc391a941b65c3e34',
    importedBy: 'api-key:finance-desk',
  },
});
export type SettlementReportImported = EventOf<typeof SettlementReportImportedV1>;

/** The settlement events (payment.events, version 1). */
export const SETTLEMENT_EVENTS = [SettlementLineRecordedV1, SettlementReportImportedV1] as const;
