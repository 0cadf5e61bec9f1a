import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  ReconciliationBreakClearedV1,
  ReconciliationBreakDetectedV1,
  deriveId,
  type EventCatalogue,
} from '@csms/contracts';
import {
  breakChanges,
  reconcile,
  reconciliationAsOf,
  type KnownBreak,
  type ReconCdr,
  type ReconPaymentFact,
  type ReconSession,
} from '@csms/finance';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import type { Logger } from '@csms/platform';
import { applyBreakCleared, applyBreakDetected, PAYMENT_FACT_TYPES } from './reconciliation.handler';

export interface RunDeps {
  catalogue: EventCatalogue;
  relay: OutboxRelay;
  unsettledDays: number;
  graceSeconds: number;
}

export interface RunResult {
  runId: string | null;
  asOf: string | null;
  breaks: number;
  newBreaks: number;
  reopenedBreaks: number;
  clearedBreaks: number;
  items: Array<{ breakId: string; reason: string; new: boolean }>;
  cleared: Array<{ breakId: string; reason: string }>;
}

/** The run lock (one run at a time, across every instance of the service; resolutions take it too). */
export const RUN_LOCK_SQL = `select pg_advisory_xact_lock(hashtextextended('reconciliation-run', 7303))`;
const TRY_RUN_LOCK_SQL = `select pg_try_advisory_xact_lock(hashtextextended('reconciliation-run', 7303)) as locked`;

async function readFacts(m: EntityManager) {
  const facts = (
    (await m.query(`select payload from recon_payment_facts where type = any($1::text[]) order by event_id`, [
      [...PAYMENT_FACT_TYPES],
    ])) as Array<{ payload: ReconPaymentFact }>
  ).map((r) => r.payload);
  const sessionRows = (await m.query(
    `select session_id, revision, to_char(ended_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ended_at,
         energy_kwh::text from recon_sessions order by session_id`,
  )) as Array<{ session_id: string; revision: number; ended_at: string; energy_kwh: string | null }>;
  // a session corrected (a later revision) changes no count: the revisions' sum says it changed
  const revisions = sessionRows.reduce((a, r) => a + r.revision, 0);
  const sessions: ReconSession[] = sessionRows.map((r) => ({
    sessionId: r.session_id,
    endedAt: r.ended_at,
    energyKwh: r.energy_kwh,
  }));
  const cdrs: ReconCdr[] = (
    (await m.query(
      `select cdr_id, session_id, credit, currency, energy_kwh::text, gross::text from finance_cdrs
        order by cdr_id collate "C"`,
    )) as Array<{
      cdr_id: string;
      session_id: string;
      credit: boolean;
      currency: string;
      energy_kwh: string;
      gross: string;
    }>
  ).map((r) => ({
    cdrId: r.cdr_id,
    sessionId: r.session_id,
    credit: r.credit,
    currency: r.currency,
    energyKwh: r.energy_kwh,
    gross: r.gross,
  }));
  return { facts, sessions, cdrs, revisions };
}

/**
 * One reconciliation run: under the run lock, reads every fact, asks libs/finance `reconcile` for the breaks as of
 * the latest settlement report's end (event time), and writes through the outbox, in the same transaction as the
 * rows: each new break (`finance.reconciliation_break_detected`), each cleared one found again (detected again:
 * reopened), and each open one it no longer finds (`finance.reconciliation_break_cleared`, by this run). The run's
 * id is derived from its asOf and what it read (how many facts, sessions and their revisions, and CDRs; every
 * table only grows), never from a clock: the same inputs are the same run. `wait`: a request waits for a run in progress; the scheduler (`skip`) does not, and
 * gets null when another instance holds the lock.
 */
export async function runReconciliation(
  ds: DataSource,
  deps: RunDeps,
  by: string,
  mode: 'wait' | 'skip',
): Promise<RunResult | null> {
  const result = await ds.transaction(async (m: EntityManager): Promise<RunResult | null> => {
    if (mode === 'wait') await m.query(RUN_LOCK_SQL);
    else if (!((await m.query(TRY_RUN_LOCK_SQL)) as Array<{ locked: boolean }>)[0].locked) return null;
    const { facts, sessions, cdrs, revisions } = await readFacts(m);
    const asOf = reconciliationAsOf(facts);
    if (asOf === null)
      return {
        runId: null,
        asOf: null,
        breaks: 0,
        newBreaks: 0,
        reopenedBreaks: 0,
        clearedBreaks: 0,
        items: [],
        cleared: [],
      };
    const found = reconcile(
      { sessions, cdrs, payments: facts },
      { asOf, unsettledDays: deps.unsettledDays, graceSeconds: deps.graceSeconds },
    );
    const runId = deriveId('reconciliation-run', asOf, facts.length, sessions.length, revisions, cdrs.length);
    const known: KnownBreak[] = (
      (await m.query(
        `select b.break_id, b.reason,
           case when r.break_id is not null then 'resolved' when c.break_id is not null then 'cleared' else 'open' end
             as status
         from recon_breaks b left join recon_break_resolutions r using (break_id)
           left join recon_break_clearances c using (break_id)
         order by b.break_id`,
      )) as Array<{ break_id: string; reason: KnownBreak['reason']; status: KnownBreak['status'] }>
    ).map((r) => ({ breakId: r.break_id, reason: r.reason, status: r.status }));
    const changes = breakChanges(known, found);
    const detections = [
      ...changes.detected.map((b) => ({ b, id: deriveId('reconciliation-break-detected', b.breakId) })),
      // found again after a run cleared it: another detection, its id derived from the break and this run
      ...changes.reopened.map((b) => ({ b, id: deriveId('reconciliation-break-detected', b.breakId, runId) })),
    ].map(({ b, id }) =>
      deps.catalogue.create(ReconciliationBreakDetectedV1, {
        id,
        key: b.breakId,
        occurredAt: asOf,
        source: 'reporting-service',
        payload: { ...b, runId, asOf, detectedBy: by },
      }),
    );
    const clearances = changes.cleared.map((k) =>
      deps.catalogue.create(ReconciliationBreakClearedV1, {
        id: deriveId('reconciliation-break-cleared', k.breakId, runId),
        key: k.breakId,
        occurredAt: asOf,
        source: 'reporting-service',
        payload: { breakId: k.breakId, reason: k.reason, runId, asOf, clearedBy: by },
      }),
    );
    for (const e of detections) await applyBreakDetected(m, e.payload);
    for (const e of clearances) await applyBreakCleared(m, e.payload);
    await appendToOutbox(m, deps.catalogue, [...detections, ...clearances], {
      maxMessageBytes: deps.relay.maxMessageBytes,
    });
    const fresh = new Set(changes.detected.map((b) => b.breakId));
    return {
      runId,
      asOf,
      breaks: found.length,
      newBreaks: changes.detected.length,
      reopenedBreaks: changes.reopened.length,
      clearedBreaks: changes.cleared.length,
      items: found.map((b) => ({ breakId: b.breakId, reason: b.reason, new: fresh.has(b.breakId) })),
      cleared: changes.cleared.map((k) => ({ breakId: k.breakId, reason: k.reason })),
    };
  });
  deps.relay.nudge();
  return result;
}

export const RECONCILIATION_SCHEDULE = Symbol('RECONCILIATION_SCHEDULE');
export interface ReconciliationSchedule {
  deps: RunDeps;
  /** seconds between runs; 0: no scheduled runs */
  intervalSeconds: number;
  logger: Logger;
}

/**
 * Runs the reconciliation every `RECONCILIATION_INTERVAL_S` seconds. Each instance has its timer; the run lock
 * (tried, not waited for) makes one of them run and the others skip, so two runs never overlap across instances.
 * A run still going when the timer fires again is not started twice here either.
 */
@Injectable()
export class ReconciliationScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(RECONCILIATION_SCHEDULE) private readonly schedule: ReconciliationSchedule,
  ) {}

  onApplicationBootstrap(): void {
    if (this.schedule.intervalSeconds <= 0) return;
    this.timer = setInterval(() => this.tick(), this.schedule.intervalSeconds * 1000);
    this.timer.unref();
  }

  private tick(): void {
    if (this.running) return;
    this.running = runReconciliation(this.ds, this.schedule.deps, 'reconciliation-scheduler', 'skip')
      .then((r) => {
        if (r && (r.newBreaks || r.reopenedBreaks || r.clearedBreaks))
          this.schedule.logger.info(
            { runId: r.runId, asOf: r.asOf, new: r.newBreaks, reopened: r.reopenedBreaks, cleared: r.clearedBreaks },
            'scheduled reconciliation run',
          );
      })
      .catch((e: unknown) => this.schedule.logger.warn({ err: e }, 'scheduled reconciliation run failed'))
      .finally(() => {
        this.running = undefined;
      });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
