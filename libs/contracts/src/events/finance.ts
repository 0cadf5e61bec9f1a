import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';

/**
 * A finance user closed a reporting period, a civil month (topic finance.events, key = the period). The close
 * is a cut in billing.events: the CDRs at or before `billingEvents` (per partition, the last offset the
 * reporting service had folded when it closed) belong to the month they were issued in; a CDR of that month
 * after the cut lands in the next open period. Because the cut is a position and not a reading order, a
 * rebuild from the topics puts every CDR where it was, and `revenueReportSha256` (the SHA-256 of the closed
 * month's revenue report as CSV) says that it did. One close per period: the event id is derived from it.
 */
export const PeriodClosedV1 = defineEvent({
  type: 'finance.period_closed',
  version: 1,
  topic: Topics.financeEvents,
  description: 'a reporting period (civil month) was closed: its reports never change again',
  schema: closed({
    period: Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$' }),
    billingEvents: Type.Array(
      closed({
        partition: Type.Integer({ minimum: 0 }),
        /** the last offset folded (-1: none of this partition) */
        offset: Type.String({ pattern: '^(-1|[0-9]{1,19})$' }),
      }),
      { maxItems: 10000 },
    ),
    revenueReportSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    closedAt: Type.String({ format: 'date-time' }),
    /** who: `api-key:<name>` */
    closedBy: Type.String({ minLength: 1, maxLength: 200 }),
    closedByRole: Type.Union([
      Type.Literal('operator'),
      Type.Literal('finance'),
      Type.Literal('integration'),
      Type.Literal('admin'),
    ]),
  }),
  example: {
    period: '2026-02',
    billingEvents: [
      { partition: 0, offset: '41' },
      { partition: 1, offset: '-1' },
    ],
    revenueReportSha256: 'aa97426dec509285fb92fd359a5ac1d4280477eac0b1bcefc391a941b65c3e34',
    closedAt: '2026-03-02T09:00:00.000Z',
    closedBy: 'api-key:finance-desk',
    closedByRole: 'finance',
  },
});
export type PeriodClosed = EventOf<typeof PeriodClosedV1>;
