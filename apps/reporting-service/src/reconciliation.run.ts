import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
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
  reconcileScope,
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
  metrics?: RunMetrics;
}

/** What a run costs, for operators: its time and the rows it read, by scope (incremental or full). */
export interface RunMetrics {
  observe(result: RunResult, seconds: number): void;
}

/**
 * `csms_reconciliation_run_seconds{scope}` (histogram: a run's wall time, the lock wait included) and
 * `csms_reconciliation_rows_read_total{scope}` (facts, sessions and CDRs read): a full run where incremental ones were
 * expected, or incremental runs reading ever more, show here.
 */
export function reconciliationRunMetrics(registry: Registry): RunMetrics {
  const seconds = new Histogram({
    name: 'csms_reconciliation_run_seconds',
    help: 'reconciliation runs: wall time of a run (its transaction, the run lock included), by scope',
    labelNames: ['scope'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const read = new Counter({
    name: 'csms_reconciliation_rows_read_total',
    help: 'facts, sessions and CDRs read by reconciliation runs, by scope',
    labelNames: ['scope'],
    registers: [registry],
  });
  return {
    observe(r, s) {
      seconds.observe({ scope: r.scope }, s);
      read.inc({ scope: r.scope }, r.read);
    },
  };
}

export interface RunResult {
  runId: string | null;
  asOf: string | null;
  /** incremental: only the subjects that changed or fell due since the run before were read (see below) */
  scope: 'full' | 'incremental';
  /** facts, sessions and CDRs the run read */
  read: number;
  /** the open breaks of the queue after the run */
  breaks: number;
  newBreaks: number;
  reopenedBreaks: number;
  clearedBreaks: number;
  /** the breaks the run found among the subjects it looked at (all of them in a full run) */
  items: Array<{ breakId: string; reason: string; new: boolean }>;
  cleared: Array<{ breakId: string; reason: string }>;
}

/** The run lock (one run at a time, across every instance of the service; resolutions take it too). */
export const RUN_LOCK_SQL = `select pg_advisory_xact_lock(hashtextextended('reconciliation-run', 7303))`;
const TRY_RUN_LOCK_SQL = `select pg_try_advisory_xact_lock(hashtextextended('reconciliation-run', 7303)) as locked`;

const SESSION_COLUMNS = `session_id::text, revision,
  to_char(ended_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ended_at, energy_kwh::text`;
const CDR_COLUMNS = 'cdr_id, session_id::text, credit, currency, energy_kwh::text, gross::text';
type SessionRow = { session_id: string; revision: number; ended_at: string; energy_kwh: string | null };
type CdrRow = {
  cdr_id: string;
  session_id: string;
  credit: boolean;
  currency: string;
  energy_kwh: string;
  gross: string;
};
type FactRow = { event_id: string; payload: ReconPaymentFact; keys: string[] };
const toSession = (r: SessionRow): ReconSession => ({
  sessionId: r.session_id,
  endedAt: r.ended_at,
  energyKwh: r.energy_kwh,
});
const toCdr = (r: CdrRow): ReconCdr => ({
  cdrId: r.cdr_id,
  sessionId: r.session_id,
  credit: r.credit,
  currency: r.currency,
  energyKwh: r.energy_kwh,
  gross: r.gross,
});
type ReconInput = { sessions: ReconSession[]; cdrs: ReconCdr[]; payments: ReconPaymentFact[] };

/** Every fact, session and CDR (a full run), in the order `reconcile` is given them in every run. */
async function readAll(m: EntityManager): Promise<ReconInput> {
  const facts = (await m.query(
    `select payload from recon_payment_facts where type = any($1::text[]) order by event_id`,
    [[...PAYMENT_FACT_TYPES]],
  )) as Array<{ payload: ReconPaymentFact }>;
  const sessions = (await m.query(`select ${SESSION_COLUMNS} from recon_sessions order by session_id`)) as SessionRow[];
  const cdrs = (await m.query(`select ${CDR_COLUMNS} from finance_cdrs order by cdr_id collate "C"`)) as CdrRow[];
  return { payments: facts.map((r) => r.payload), sessions: sessions.map(toSession), cdrs: cdrs.map(toCdr) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const byte = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const ofKind = (keys: Iterable<string>, kind: 's' | 'c') => {
  const out: string[] = [];
  for (const k of keys) if (k.startsWith(`${kind}:`)) out.push(k.slice(2));
  return kind === 's' ? out.filter((x) => UUID.test(x)) : out;
};
/** rows written by transactions the run before did not see (its snapshot): new or changed since */
const SINCE = (alias = '') =>
  `${alias}xid >= pg_snapshot_xmin($1::pg_snapshot) and not pg_visible_in_snapshot(${alias}xid, $1::pg_snapshot)`;

/**
 * The facts that carry any of the keys in $1: one GIN probe per key. Written as this join, with nothing else in it
 * (a filter goes outside, over the rows found): `keys && $1` with thousands of keys, a correlated `not exists`, or a
 * type filter in the same join is planned as a scan of every fact (of that type) once the table is large.
 */
const FACTS_BY_KEY = 'unnest($1::text[]) k join recon_payment_facts f on f.keys @> array[k]';

interface RunState {
  snapshot: string;
  asOf: string;
  unsettledDays: number;
  graceSeconds: number;
}

/**
 * The subjects an incremental run must look at (as the facts' `keys` column names them: `s:` session, `c:` CDR, `r:`
 * payment, `t:` ledger source, `b:` balance transaction): those with a fact, session revision or CDR the run before
 * did not see; those whose time-driven checks fell due between its asOf and this one (a session or card CDR past the
 * grace: MISSING_CDR, MISSING_CAPTURE; a capture past the grace: MISSING_CAPTURE at the PSP; a PSP charge past
 * `unsettledDays`: UNSETTLED_AFTER_N_DAYS); and the captures a newly imported settlement report covers.
 */
async function changedSubjects(m: EntityManager, prev: RunState, asOf: string, deps: RunDeps): Promise<Set<string>> {
  const keys = new Set<string>();
  const addAll = (rows: Array<{ keys: string[] }>) => rows.forEach((r) => r.keys.forEach((k) => keys.add(k)));
  const facts = (await m.query(
    `select keys, type, payload->>'intervalStart' as start, payload->>'intervalEnd' as "end" from recon_payment_facts
      where ${SINCE()}`,
    [prev.snapshot],
  )) as Array<{ keys: string[]; type: string; start: string | null; end: string | null }>;
  addAll(facts);
  for (const r of (await m.query(`select session_id::text as id from recon_sessions where ${SINCE()}`, [
    prev.snapshot,
  ])) as Array<{ id: string }>)
    keys.add(`s:${r.id}`);
  for (const r of (await m.query(`select cdr_id, session_id::text from finance_cdrs where ${SINCE()}`, [
    prev.snapshot,
  ])) as Array<{ cdr_id: string; session_id: string }>) {
    keys.add(`c:${r.cdr_id}`);
    keys.add(`s:${r.session_id}`);
  }
  // time windows: (the run before's threshold, this run's], both ends taken (a subject looked at twice is harmless).
  // Only what a later asOf can turn into a break: a session without CDR, a card CDR without capture, a capture
  // without the PSP's charge, a PSP charge never recorded paid out (with them, time changes nothing).
  const window = (seconds: number) => [
    new Date(Date.parse(prev.asOf) - seconds * 1000).toISOString(),
    new Date(Date.parse(asOf) - seconds * 1000).toISOString(),
  ];
  // which of these subjects have a fact of a kind (FACTS_BY_KEY, materialised, then the kind's filter)
  const having = async (subjects: string[], where: string) =>
    new Set(
      (
        (await m.query(
          `with l as materialized (
             select k, f.type, f.payload from ${FACTS_BY_KEY})
           select distinct k from l where ${where}`,
          [subjects],
        )) as Array<{ k: string }>
      ).map((r) => r.k),
    );
  /** the keys of the window's facts whose subject has no fact of the kind `where` names */
  const without = async (rows: Array<{ keys: string[]; subject: string }>, where: string) => {
    const has = await having([...new Set(rows.map((r) => r.subject))], where);
    addAll(rows.filter((r) => !has.has(r.subject)));
  };
  const [g0, g1] = window(deps.graceSeconds);
  for (const r of (await m.query(
    `select session_id::text as id from recon_sessions s where ended_at >= $1 and ended_at <= $2
       and not exists (select 1 from finance_cdrs c where c.session_id = s.session_id)`,
    [g0, g1],
  )) as Array<{ id: string }>)
    keys.add(`s:${r.id}`);
  await without(
    await m.query(
      `select keys, coalesce('s:' || (payload->>'sessionId'), 'c:' || (payload->>'cdrId')) as subject
         from recon_payment_facts where type = 'payment.cdr_recorded' and at >= $1 and at <= $2
           and payload->>'method' = 'card'`,
      [g0, g1],
    ),
    `l.type = 'payment.captured'`,
  );
  const uncharged = async (from: string, to: string) =>
    without(
      await m.query(
        `select keys, 'r:' || (payload->>'paymentRef') as subject from recon_payment_facts
          where type = 'payment.captured' and at >= $1 and at <= $2`,
        [from, to],
      ),
      `l.type = 'payment.settlement_line_recorded' and l.payload->>'category' = 'charge'`,
    );
  await uncharged(g0, g1);
  const [u0, u1] = window(deps.unsettledDays * 86_400);
  await without(
    await m.query(
      `select keys, 'b:' || (payload->>'balanceTransactionId') as subject from recon_payment_facts
        where type = 'payment.settlement_line_recorded' and at >= $1 and at <= $2`,
      [u0, u1],
    ),
    `l.payload->>'payoutRef' is not null`,
  );
  for (const r of facts)
    if (r.type === 'payment.settlement_report_imported' && r.start && r.end) await uncharged(r.start, r.end);
  return keys;
}

/**
 * The whole histories of the given subjects: every fact, session and CDR linked to them, transitively (a CDR brings
 * its session, a capture its payment's settlement lines, a line its balance transaction's other record …), through
 * the GIN index on the facts' keys; with every settlement report (they decide what is covered); in the order a full
 * run reads them.
 */
async function readHistories(m: EntityManager, subjects: Set<string>): Promise<ReconInput> {
  if (subjects.size === 0) return { payments: [], sessions: [], cdrs: [] }; // nothing changed: nothing to read
  const known = new Set(subjects);
  const facts = new Map<string, ReconPaymentFact>();
  const sessions = new Map<string, ReconSession>();
  const cdrs = new Map<string, ReconCdr>();
  let frontier = [...subjects];
  const learn = (k: string, next: string[]) => {
    if (known.has(k)) return;
    known.add(k);
    next.push(k);
  };
  while (frontier.length > 0) {
    const next: string[] = [];
    const s = ofKind(frontier, 's');
    const c = ofKind(frontier, 'c');
    for (const r of (await m.query(
      `select distinct on (f.event_id) f.event_id::text, f.payload, f.keys
         from ${FACTS_BY_KEY}`,
      [frontier],
    )) as FactRow[]) {
      if (facts.has(r.event_id)) continue;
      facts.set(r.event_id, r.payload);
      for (const k of r.keys) learn(k, next);
    }
    if (s.length > 0)
      for (const r of (await m.query(
        `select ${SESSION_COLUMNS} from recon_sessions where session_id = any($1::uuid[])`,
        [s],
      )) as SessionRow[])
        sessions.set(r.session_id, toSession(r));
    if (s.length > 0 || c.length > 0)
      for (const r of (await m.query(
        `select ${CDR_COLUMNS} from finance_cdrs where cdr_id = any($1::text[]) or session_id = any($2::uuid[])`,
        [c, s],
      )) as CdrRow[]) {
        if (cdrs.has(r.cdr_id)) continue;
        cdrs.set(r.cdr_id, toCdr(r));
        learn(`c:${r.cdr_id}`, next);
        learn(`s:${r.session_id}`, next);
      }
    frontier = next;
  }
  for (const r of (await m.query(
    `select event_id::text, payload from recon_payment_facts where type = 'payment.settlement_report_imported'`,
  )) as FactRow[])
    facts.set(r.event_id, r.payload);
  return {
    payments: [...facts.entries()].sort(([a], [b]) => byte(a, b)).map(([, f]) => f),
    sessions: [...sessions.values()].sort((a, b) => byte(a.sessionId, b.sessionId)),
    cdrs: [...cdrs.values()].sort((a, b) => byte(a.cdrId, b.cdrId)),
  };
}

/**
 * One reconciliation run: under the run lock, asks libs/finance `reconcile` for the breaks as of the latest
 * settlement report's end (event time), and writes through the outbox, in the same transaction as the rows: each
 * new break (`finance.reconciliation_break_detected`), each cleared one found again (detected again: reopened), and
 * each open one it no longer finds (`finance.reconciliation_break_cleared`, by this run).
 *
 * **Incremental** (`scope` `auto`, what the scheduler and the API do): a run reads only the whole histories of the
 * subjects that changed or fell due since the run before (`changedSubjects`, `readHistories`), and decides only the
 * breaks of those subjects (libs/finance `reconcileScope`); every other break stays as it was, which is what a full
 * run would find of it (its facts did not change and none of its time-driven checks fell due). A full run reads
 * everything: the first run, after `RECONCILIATION_UNSETTLED_DAYS` or `RECONCILIATION_GRACE_SECONDS` changed, when
 * the asOf went back (the first settlement report ends before the newest fact), when the database's transaction ids
 * went back (a restore into another cluster), or when asked (`scope` `full`). Both give the same events and rows:
 * the int test runs them side by side over random histories.
 *
 * The run's id is derived from its asOf and how many facts, sessions and their revisions, and CDRs there are (every
 * table only grows), never from a clock: the same inputs are the same run. `wait`: a request waits for a run in
 * progress; the scheduler (`skip`) does not, and gets null when another instance holds the lock.
 */
export async function runReconciliation(
  ds: DataSource,
  deps: RunDeps,
  by: string,
  mode: 'wait' | 'skip',
  scope: 'auto' | 'full' = 'auto',
): Promise<RunResult | null> {
  const started = performance.now();
  const result = await ds.transaction(async (m: EntityManager): Promise<RunResult | null> => {
    if (mode === 'wait') await m.query(RUN_LOCK_SQL);
    else if (!((await m.query(TRY_RUN_LOCK_SQL)) as Array<{ locked: boolean }>)[0].locked) return null;
    // what this run sees: the next run looks at what was written outside it; the asOf is libs/finance's
    // `reconciliationAsOf` in SQL (reconciliation-incremental.int-spec checks the two agree after every batch)
    // and, in the same statement, the counts the run's id is derived from
    const [{ snapshot, as_of: asOf, ...n }] = (await m.query(
      `select pg_current_snapshot()::text as snapshot, to_char(coalesce(
           (select max((payload->>'intervalEnd')::timestamptz) from recon_payment_facts
             where type = 'payment.settlement_report_imported'),
           (select max(x.at) from unnest($1::text[]) t(type),
              lateral (select max(at) as at from recon_payment_facts f where f.type = t.type) x)
         ) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as as_of,
         (select count(*) from recon_payment_facts where type = any($1::text[]))::int as facts,
         (select count(*) from recon_sessions)::int as sessions,
         (select coalesce(sum(revision), 0) from recon_sessions)::int as revisions,
         (select count(*) from finance_cdrs)::int as cdrs`,
      [[...PAYMENT_FACT_TYPES]],
    )) as Array<{
      snapshot: string;
      as_of: string | null;
      facts: number;
      sessions: number;
      revisions: number;
      cdrs: number;
    }>;
    if (asOf === null)
      return {
        runId: null,
        asOf: null,
        scope: 'full',
        read: 0,
        breaks: 0,
        newBreaks: 0,
        reopenedBreaks: 0,
        clearedBreaks: 0,
        items: [],
        cleared: [],
      };
    // a session corrected (a later revision) changes no count: the revisions' sum says it changed
    const runId = deriveId('reconciliation-run', asOf, n.facts, n.sessions, n.revisions, n.cdrs);
    const [prev] = (await m.query(
      `select snapshot::text, to_char(as_of at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "asOf",
         unsettled_days as "unsettledDays", grace_seconds as "graceSeconds",
         pg_snapshot_xmax($1::pg_snapshot) < pg_snapshot_xmax(snapshot) as "wentBack"
       from recon_run_state`,
      [snapshot],
    )) as Array<RunState & { wentBack: boolean }>;
    const incremental =
      scope === 'auto' &&
      prev !== undefined &&
      !prev.wentBack &&
      prev.unsettledDays === deps.unsettledDays &&
      prev.graceSeconds === deps.graceSeconds &&
      Date.parse(prev.asOf) <= Date.parse(asOf);
    const input = incremental ? await readHistories(m, await changedSubjects(m, prev, asOf, deps)) : await readAll(m);
    const found = reconcile(input, { asOf, unsettledDays: deps.unsettledDays, graceSeconds: deps.graceSeconds });
    const inScope = incremental ? [...reconcileScope(input)] : null;
    const known: KnownBreak[] = (
      (await m.query(
        `select b.break_id, b.reason,
           case when r.break_id is not null then 'resolved' when c.break_id is not null then 'cleared' else 'open' end
             as status
         from recon_breaks b left join recon_break_resolutions r using (break_id)
           left join recon_break_clearances c using (break_id)
         ${inScope ? 'where b.break_id = any($1::uuid[])' : ''}
         order by b.break_id`,
        inScope ? [inScope] : [],
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
    await m.query(
      `insert into recon_run_state (snapshot, as_of, unsettled_days, grace_seconds) values ($1, $2, $3, $4)
       on conflict (singleton) do update set snapshot = excluded.snapshot, as_of = excluded.as_of,
         unsettled_days = excluded.unsettled_days, grace_seconds = excluded.grace_seconds`,
      [snapshot, asOf, deps.unsettledDays, deps.graceSeconds],
    );
    const [{ open }] = (await m.query(
      `select count(*)::int as open from recon_breaks b
        where not exists (select 1 from recon_break_resolutions r where r.break_id = b.break_id)
          and not exists (select 1 from recon_break_clearances c where c.break_id = b.break_id)`,
    )) as Array<{ open: number }>;
    const fresh = new Set(changes.detected.map((b) => b.breakId));
    return {
      runId,
      asOf,
      scope: incremental ? 'incremental' : 'full',
      read: input.payments.length + input.sessions.length + input.cdrs.length,
      breaks: open,
      newBreaks: changes.detected.length,
      reopenedBreaks: changes.reopened.length,
      clearedBreaks: changes.cleared.length,
      items: found.map((b) => ({ breakId: b.breakId, reason: b.reason, new: fresh.has(b.breakId) })),
      cleared: changes.cleared.map((k) => ({ breakId: k.breakId, reason: k.reason })),
    };
  });
  deps.relay.nudge();
  if (result) deps.metrics?.observe(result, (performance.now() - started) / 1000);
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
