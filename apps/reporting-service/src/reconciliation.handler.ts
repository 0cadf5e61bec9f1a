import { Gauge, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import {
  RECONCILIATION_REASONS,
  type Envelope,
  type ReconciliationBreakCleared,
  type ReconciliationBreakDetected,
  type ReconciliationBreakResolved,
  type SessionEndedV2,
} from '@csms/contracts';
import type { EventHandler } from '@csms/messaging';
import type { Static } from '@sinclair/typebox';

/**
 * Payments and reconciliation read models: the payment.events facts the payments report and the three-way
 * reconciliation read (`recon_payment_facts`, one row per event, its payload kept), each session's metered energy
 * (`recon_sessions`, the latest revision of session.ended), and the breaks queue (`recon_breaks`,
 * `recon_break_resolutions`) folded from finance.events. Every write is idempotent (keyed by the event id, the
 * session, the break), so the rows are the same whatever order the topics are read in.
 */

/** The payment.events types kept: their amount (and fee) for the payments report, their payload for reconciliation. */
export const PAYMENT_FACT_TYPES = [
  'payment.cdr_recorded',
  'payment.authorized',
  'payment.captured',
  'payment.refunded',
  'payment.receivable_opened',
  'payment.receivable_settled',
  'payment.wallet_debited',
  'payment.payout_settled',
  'ledger.transfer_posted',
  'payment.settlement_line_recorded',
  'payment.settlement_report_imported',
] as const;

interface FactPayload {
  at: string;
  currency?: string;
  amountMinor?: string;
  feeMinor?: string | null;
  [k: string]: unknown;
}

export async function applyPaymentFact(m: EntityManager, env: Envelope): Promise<void> {
  const p = env.payload as FactPayload;
  // the payments report's day is the UTC date of the event's own time (`at`: the input's, never a clock)
  const fee = env.type === 'payment.payout_settled' || env.type === 'payment.captured' ? (p.feeMinor ?? null) : null;
  await m.query(
    `insert into recon_payment_facts (event_id, type, at, day, currency, amount_minor, fee_minor, payload)
     values ($1, $2, $3, ($3::timestamptz at time zone 'UTC')::date, $4, $5, $6, $7)
     on conflict (event_id) do nothing`,
    [
      env.id,
      env.type,
      p.at,
      typeof p.currency === 'string' ? p.currency : null,
      typeof p.amountMinor === 'string' ? p.amountMinor : null,
      fee,
      JSON.stringify({ type: env.type, ...p }),
    ],
  );
}

export async function applySessionEnergy(m: EntityManager, p: Static<typeof SessionEndedV2.schema>): Promise<void> {
  await m.query(
    `insert into recon_sessions (session_id, revision, ended_at, energy_kwh) values ($1, $2, $3, $4)
     on conflict (session_id) do update set revision = excluded.revision, ended_at = excluded.ended_at,
       energy_kwh = excluded.energy_kwh, xid = pg_current_xact_id()
     where recon_sessions.revision < excluded.revision`,
    [p.sessionId, p.revision, p.endedAt, p.totals?.energyKwh ?? null],
  );
}

/**
 * A break detected: its row (the first detection's run and time stay). Detected again after a run cleared it
 * (reopened): its clearance goes. finance.events is keyed by the break id, so a break's events are read in the
 * order they were written, in a rebuild too.
 */
export async function applyBreakDetected(m: EntityManager, p: ReconciliationBreakDetected['payload']): Promise<void> {
  await m.query('delete from recon_break_clearances where break_id = $1', [p.breakId]);
  await m.query(
    `insert into recon_breaks (break_id, reason, session_id, cdr_id, payment_ref, currency, expected, actual, detail,
       run_id, detected_at, detected_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) on conflict (break_id) do nothing`,
    [
      p.breakId,
      p.reason,
      p.sessionId,
      p.cdrId,
      p.paymentRef,
      p.currency,
      p.expected,
      p.actual,
      p.detail,
      p.runId,
      p.asOf,
      p.detectedBy,
    ],
  );
}

export async function applyBreakResolved(m: EntityManager, p: ReconciliationBreakResolved['payload']): Promise<void> {
  await m.query(
    `insert into recon_break_resolutions (break_id, resolved_at, resolved_by, resolved_by_role, note)
     values ($1, $2, $3, $4, $5) on conflict (break_id) do nothing`,
    [p.breakId, p.resolvedAt, p.resolvedBy, p.resolvedByRole, p.note],
  );
}

/** A break a later run no longer found: cleared by that run (unless a person resolved it first). */
export async function applyBreakCleared(m: EntityManager, p: ReconciliationBreakCleared['payload']): Promise<void> {
  await m.query(
    `insert into recon_break_clearances (break_id, run_id, cleared_at, cleared_by)
     select $1, $2, $3, $4 where not exists (select 1 from recon_break_resolutions r where r.break_id = $1)
     on conflict (break_id) do update set run_id = excluded.run_id, cleared_at = excluded.cleared_at,
       cleared_by = excluded.cleared_by`,
    [p.breakId, p.runId, p.asOf, p.clearedBy],
  );
}

export const reconciliationHandler: EventHandler = async (event, ctx) => {
  if (event.type === 'session.ended')
    await applySessionEnergy(ctx.manager, event.payload as Static<typeof SessionEndedV2.schema>);
  else if (event.type === 'finance.reconciliation_break_detected')
    await applyBreakDetected(ctx.manager, (event as ReconciliationBreakDetected).payload);
  else if (event.type === 'finance.reconciliation_break_cleared')
    await applyBreakCleared(ctx.manager, (event as ReconciliationBreakCleared).payload);
  else if (event.type === 'finance.reconciliation_break_resolved')
    await applyBreakResolved(ctx.manager, (event as ReconciliationBreakResolved).payload);
  else if ((PAYMENT_FACT_TYPES as readonly string[]).includes(event.type)) await applyPaymentFact(ctx.manager, event);
};

/** `csms_reconciliation_breaks_open{reason}`: the open breaks of the queue, per reason (alert when above 0). */
export function registerReconciliationMetrics(registry: Registry, ds: DataSource): void {
  new Gauge({
    name: 'csms_reconciliation_breaks_open',
    help: 'reconciliation breaks detected and neither resolved nor cleared, by reason',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const rows: Array<{ reason: string; n: string }> = await ds.query(
        `select b.reason, count(*) as n from recon_breaks b
          where not exists (select 1 from recon_break_resolutions r where r.break_id = b.break_id)
            and not exists (select 1 from recon_break_clearances c where c.break_id = b.break_id) group by b.reason`,
      );
      this.reset();
      const open = new Map(rows.map((r) => [r.reason, Number(r.n)]));
      for (const reason of RECONCILIATION_REASONS) this.set({ reason }, open.get(reason) ?? 0);
    },
  });
}
