import type { EntityManager } from 'typeorm';
import type { Envelope } from '@csms/contracts';
import { HOLD_EVENT_TYPES } from './migrations-throughput';

/** A payment event's payload as the projection reads it (the contract's fields; only those used here are named). */
interface Payload {
  accountId: string;
  sourceEventId: string;
  at: string;
  sessionId?: string | null;
  intentId?: string;
  paymentRef?: string | null;
  [k: string]: unknown;
}

/** The PSP call each intent event asks for. */
export const INTENT_KINDS: Record<string, string> = {
  'payment.authorization_requested': 'authorize',
  'payment.increase_requested': 'increase',
  'payment.capture_requested': 'capture',
  'payment.release_requested': 'release',
  'payment.refund_requested': 'refund',
};

/** Whether some of these events ask for a PSP call (an intent the effect runner is to run). */
export function asksForPspCall(envs: readonly { type: string }[]): boolean {
  return envs.some((e) => INTENT_KINDS[e.type] !== undefined);
}

/** The outcome events of an intent: `failed` ones are declines (a result, recorded as such). */
export const OUTCOMES: Record<string, 'done' | 'failed'> = {
  'payment.authorized': 'done',
  'payment.authorization_failed': 'failed',
  'payment.increased': 'done',
  'payment.captured': 'done',
  'payment.released': 'done',
  'payment.refunded': 'done',
  'payment.failed': 'failed',
};

/** `<chart>:<currency>[:<billingAccountId>]` */
function ledgerAccountOf(name: string): { chart: string; currency: string; billingAccountId: string | null } {
  const [chart, currency, ...rest] = name.split(':');
  return { chart, currency, billingAccountId: rest.length > 0 ? rest.join(':') : null };
}

/**
 * Applies one payment event to the tables (the read models, the intents, the ledger), in the caller's transaction.
 * The same function serves the live path (the events just decided, before they go to the outbox) and the rebuild
 * (the events read back from payment.events): so a rebuild gives the same rows, the same ids and the same balances.
 * An event applied before (its id in payment_events) changes nothing. Returns false for such a duplicate.
 */
export async function projectPaymentEvent(m: EntityManager, env: Envelope): Promise<boolean> {
  return (await projectPaymentEvents(m, [env])) > 0;
}

/**
 * Applies a decision's events (or a batch read back from the topic), in order, in few statements: the events in
 * one insert (those applied before are skipped), the ledger's rows in one insert per table. Returns how many were new.
 */
export async function projectPaymentEvents(m: EntityManager, envs: readonly Envelope[]): Promise<number> {
  if (envs.length === 0) return 0;
  const payloads = envs.map((e) => e.payload as Payload);
  // one JSON document for the batch (the payloads inside it as they are, not each a string escaped again into an
  // array literal), in order: `seq` follows the decisions
  const inserted: Array<{ event_id: string }> = await m.query(
    `insert into payment_events (event_id, account_id, session_id, type, occurred_at, payload)
     select x.i, x.a, x.s, x.t, x.o, x.p
       from rows from (json_to_recordset($1::json) as (i uuid, a text, s text, t text, o timestamptz, p jsonb))
            with ordinality as x(i, a, s, t, o, p, n)
      order by x.n
     on conflict (event_id) do nothing returning event_id`,
    [
      JSON.stringify(
        envs.map((e, k) => ({
          i: e.id,
          a: payloads[k].accountId,
          s: typeof payloads[k].sessionId === 'string' ? payloads[k].sessionId : null,
          t: e.type,
          o: e.occurredAt,
          p: payloads[k],
        })),
      ),
    ],
  );
  const fresh = new Set(inserted.map((r) => r.event_id));
  const ledger = new LedgerBatch();
  const intents = new IntentBatch();
  const holds = new HoldBatch();
  for (const env of envs) {
    const p = env.payload as Payload;
    if (typeof p.sessionId === 'string') ledger.sessionBySource.set(`${p.accountId}|${p.sourceEventId}`, p.sessionId);
    if (!fresh.has(env.id)) continue;
    await applyOne(m, env, ledger, intents);
    holds.add(env);
  }
  await intents.flush(m);
  await holds.flush(m);
  await ledger.flush(m);
  return fresh.size;
}

/**
 * The intents a batch asks for and the outcomes it records, written at its end in one statement each: the intents
 * first (an intent settled in the batch that asked for it), then the outcomes — the first outcome of an intent wins,
 * as it would one statement at a time (a settled intent is not changed again).
 */
class IntentBatch {
  private readonly asked: Array<{ p: Payload; kind: string; sessionId: string | null }> = [];
  private readonly settled = new Map<
    string,
    { status: 'done' | 'failed'; outcome: string; paymentRef: string | null }
  >();

  ask(p: Payload, kind: string, sessionId: string | null): void {
    this.asked.push({ p, kind, sessionId });
  }

  settle(type: string, p: Payload): void {
    if (p.intentId === undefined || this.settled.has(p.intentId)) return;
    this.settled.set(p.intentId, {
      status: OUTCOMES[type],
      outcome: JSON.stringify({ type, ...p }),
      paymentRef: p.paymentRef ?? null,
    });
  }

  async flush(m: EntityManager): Promise<void> {
    if (this.asked.length > 0)
      await m.query(
        `insert into psp_intents (intent_id, account_id, session_id, kind, request, status, attempts, next_attempt_at, payment_ref, created_at, updated_at)
         select i, a, s, k, r, 'pending', 0, now(), p, now(), now()
           from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[]) as x(i, a, s, k, r, p)
         on conflict (intent_id) do nothing`,
        [
          this.asked.map((x) => x.p.intentId),
          this.asked.map((x) => x.p.accountId),
          this.asked.map((x) => x.sessionId),
          this.asked.map((x) => x.kind),
          this.asked.map((x) => JSON.stringify(x.p)),
          this.asked.map((x) => x.p.paymentRef ?? null),
        ],
      );
    if (this.settled.size > 0) {
      const ids = [...this.settled.keys()];
      const v = [...this.settled.values()];
      await m.query(
        `update psp_intents set status = x.st, outcome = x.o, payment_ref = coalesce(x.p, payment_ref), claimed_until = null, updated_at = now()
           from unnest($1::text[], $2::text[], $3::jsonb[], $4::text[]) as x(i, st, o, p)
          where intent_id = x.i and status not in ('done', 'failed')`,
        [ids, v.map((x) => x.status), v.map((x) => x.outcome), v.map((x) => x.paymentRef)],
      );
    }
  }
}

const HOLD_EVENTS: ReadonlySet<string> = new Set(HOLD_EVENT_TYPES);
const HOLD_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/**
 * The holds a batch opens or closes (`payment_holds`, what the hold-expiry scan reads): one row per account and hold,
 * its lapse (the PSP's `holdExpiresAt`, else the authorisation's time + 7 days, the lifetime of a customer-initiated
 * card hold; the earliest if authorised twice) and whether a capture or release was asked for or made. Merged per
 * hold in the batch and written in one statement; the same rows whatever the order or batching of the events.
 */
class HoldBatch {
  private readonly rows = new Map<string, { a: string; h: string; e: string | null; c: boolean }>();

  add(env: Envelope): void {
    if (!HOLD_EVENTS.has(env.type)) return;
    const p = env.payload as Payload & { holdId?: unknown; holdExpiresAt?: unknown };
    if (typeof p.holdId !== 'string') return;
    const key = `${p.accountId}|${p.holdId}`;
    const row = this.rows.get(key) ?? { a: p.accountId, h: p.holdId, e: null, c: false };
    if (env.type === 'payment.authorized') {
      const e =
        typeof p.holdExpiresAt === 'string'
          ? new Date(p.holdExpiresAt).toISOString()
          : new Date(Date.parse(env.occurredAt) + HOLD_LIFETIME_MS).toISOString();
      if (row.e === null || e < row.e) row.e = e;
    } else row.c = true;
    this.rows.set(key, row);
  }

  async flush(m: EntityManager): Promise<void> {
    if (this.rows.size === 0) return;
    const v = [...this.rows.values()];
    await m.query(
      `insert into payment_holds (account_id, hold_id, expires_at, closed)
       select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::boolean[])
       on conflict (account_id, hold_id) do update
          set expires_at = least(payment_holds.expires_at, excluded.expires_at),
              closed = payment_holds.closed or excluded.closed`,
      [v.map((r) => r.a), v.map((r) => r.h), v.map((r) => r.e), v.map((r) => r.c)],
    );
  }
}

async function applyOne(m: EntityManager, env: Envelope, ledger: LedgerBatch, intents: IntentBatch): Promise<void> {
  const p = env.payload as Payload;
  const sessionId = typeof p.sessionId === 'string' ? p.sessionId : null;
  const at = p.at;
  switch (env.type) {
    case 'payment.account_opened': {
      const o = p as Payload & { currency: string; method: unknown; policy: unknown; openedBy: string };
      await m.query(
        `insert into billing_accounts (account_id, currency, method, policy, status, status_reason, opened_at, updated_at, opened_by)
         values ($1, $2, $3, $4, 'active', null, $5, $5, $6) on conflict (account_id) do nothing`,
        [o.accountId, o.currency, JSON.stringify(o.method), JSON.stringify(o.policy), at, o.openedBy],
      );
      break;
    }
    case 'payment.account_updated': {
      const u = p as Payload & { method: unknown; policy: unknown };
      await m.query('update billing_accounts set method = $2, policy = $3, updated_at = $4 where account_id = $1', [
        u.accountId,
        JSON.stringify(u.method),
        JSON.stringify(u.policy),
        at,
      ]);
      break;
    }
    case 'payment.account_blocked':
    case 'payment.account_unblocked':
      await m.query(
        'update billing_accounts set status = $2, status_reason = $3, updated_at = $4 where account_id = $1',
        [p.accountId, env.type === 'payment.account_blocked' ? 'blocked' : 'active', p.reason, at],
      );
      break;
    case 'payment.statement_issued': {
      const s = p as Payload & { statementId: string; month: string; currency: string };
      await m.query(
        `insert into statements (statement_id, account_id, month, currency, payload, issued_at)
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing`,
        [s.statementId, s.accountId, s.month, s.currency, JSON.stringify(s), at],
      );
      break;
    }
    case 'ledger.transfer_posted':
    case 'ledger.transfer_voided':
      ledger.add(env, p as unknown as TransferPayload);
      break;
    default:
      if (INTENT_KINDS[env.type]) {
        const kind =
          env.type === 'payment.authorization_requested' && p.hosted === true ? 'hosted' : INTENT_KINDS[env.type];
        intents.ask(p, kind, sessionId);
      } else if (OUTCOMES[env.type]) {
        intents.settle(env.type, p);
      }
  }
}

interface TransferPayload {
  accountId: string;
  sourceEventId: string;
  at: string;
  transferId: string;
  currency: string;
  pendingId: string | null;
  postings: Array<{ account: string; amountMinor: string }>;
  reason: string;
  state: 'pending' | 'posted' | 'voided';
  sessionId?: string | null;
}

/** The ledger rows of a batch of events, written in one insert per table at its end. */
class LedgerBatch {
  /** the session of the events decided from one input (`<account>|<source>`): the session of its transfers */
  readonly sessionBySource = new Map<string, string>();
  private readonly transfers: Array<{ env: Envelope; t: TransferPayload; session: string | null }> = [];
  private readonly voids: Array<{ env: Envelope; t: TransferPayload }> = [];

  add(env: Envelope, t: TransferPayload): void {
    if (t.state === 'voided') {
      if (t.pendingId) this.voids.push({ env, t });
      return;
    }
    this.transfers.push({
      env,
      t,
      session: t.sessionId ?? this.sessionBySource.get(`${t.accountId}|${t.sourceEventId}`) ?? null,
    });
  }

  async flush(m: EntityManager): Promise<void> {
    await this.flushTransfers(m);
    // after the transfers: a hold voided in the batch that placed it
    if (this.voids.length > 0)
      await m.query(
        `insert into ledger_transfer_states (transfer_id, state, by_transfer, event_id, at)
         select t, 'voided', b, e, a from unnest($1::text[], $2::text[], $3::uuid[], $4::timestamptz[]) as x(t, b, e, a)
         on conflict do nothing`,
        [
          this.voids.map((v) => v.t.pendingId),
          this.voids.map((v) => v.t.transferId),
          this.voids.map((v) => v.env.id),
          this.voids.map((v) => v.t.at),
        ],
      );
  }

  private async flushTransfers(m: EntityManager): Promise<void> {
    if (this.transfers.length === 0) return;
    // a transfer that posts a pending one belongs to that one's session (a hold's capture)
    const inBatch = new Map(this.transfers.map((x) => [x.t.transferId, x]));
    const unknown = this.transfers.filter((x) => x.session === null && x.t.pendingId && !inBatch.has(x.t.pendingId));
    const pendingSessions = new Map<string, string | null>();
    if (unknown.length > 0) {
      const rows: Array<{ transfer_id: string; session_id: string | null }> = await m.query(
        'select transfer_id, session_id from ledger_transfers where transfer_id = any($1::text[])',
        [unknown.map((x) => x.t.pendingId)],
      );
      for (const r of rows) pendingSessions.set(r.transfer_id, r.session_id);
    }
    for (const x of this.transfers)
      if (x.session === null && x.t.pendingId)
        x.session = inBatch.get(x.t.pendingId)?.session ?? pendingSessions.get(x.t.pendingId) ?? null;
    // an input decided in an earlier transaction (a rebuild batch boundary): its events are in payment_events already
    // (one statement for the batch: each input's latest event with a session)
    const orphans = this.transfers.filter((y) => y.session === null);
    if (orphans.length > 0) {
      const keys = [...new Map(orphans.map((x) => [`${x.t.accountId}|${x.t.sourceEventId}`, x.t])).values()];
      const rows: Array<{ a: string; s: string; session_id: string | null }> = await m.query(
        `select k.a, k.s,
                (select e.session_id from payment_events e
                  where e.account_id = k.a and e.payload->>'sourceEventId' = k.s and e.session_id is not null
                  order by e.seq desc limit 1) as session_id
           from unnest($1::text[], $2::text[]) as k(a, s)`,
        [keys.map((t) => t.accountId), keys.map((t) => t.sourceEventId)],
      );
      const found = new Map(rows.map((r) => [`${r.a}|${r.s}`, r.session_id]));
      for (const x of orphans) x.session = found.get(`${x.t.accountId}|${x.t.sourceEventId}`) ?? null;
    }
    // a ledger account is created by the first transfer that names it (its time: that transfer's)
    const firstAt = new Map<string, string>();
    for (const x of this.transfers)
      for (const p of x.t.postings) if (!firstAt.has(p.account)) firstAt.set(p.account, x.t.at);
    const names = [...firstAt.keys()];
    const parts = names.map(ledgerAccountOf);
    await m.query(
      `insert into ledger_accounts (name, chart, currency, billing_account_id, created_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) on conflict (name) do nothing`,
      [
        names,
        parts.map((x) => x.chart),
        parts.map((x) => x.currency),
        parts.map((x) => x.billingAccountId),
        names.map((n) => firstAt.get(n)),
      ],
    );
    const ts = this.transfers.map((x) => x.t);
    const done: Array<{ transfer_id: string }> = await m.query(
      `insert into ledger_transfers (transfer_id, currency, initial_state, pending_id, source_event_id, event_id, reason, account_id, session_id, at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
       on conflict (transfer_id) do nothing returning transfer_id`,
      [
        ts.map((t) => t.transferId),
        ts.map((t) => t.currency),
        ts.map((t) => t.state),
        ts.map((t) => t.pendingId),
        ts.map((t) => t.sourceEventId),
        this.transfers.map((x) => x.env.id),
        ts.map((t) => t.reason),
        ts.map((t) => t.accountId),
        this.transfers.map((x) => x.session),
        ts.map((t) => t.at),
      ],
    );
    const fresh = new Set(done.map((r) => r.transfer_id));
    const mine = this.transfers.filter((x) => fresh.has(x.t.transferId));
    if (mine.length === 0) return;
    const lines = mine.flatMap((x) => x.t.postings.map((p, i) => ({ id: x.t.transferId, i, p })));
    await m.query(
      `insert into ledger_postings (transfer_id, line, account, amount_minor)
       select * from unnest($1::text[], $2::int[], $3::text[], $4::bigint[])`,
      [lines.map((l) => l.id), lines.map((l) => l.i), lines.map((l) => l.p.account), lines.map((l) => l.p.amountMinor)],
    );
    // each transfer's first state; a posting transfer also resolves the pending one it names
    const states = [
      ...mine.map((x) => ({ id: x.t.transferId, state: x.t.state, by: null as string | null, env: x.env, at: x.t.at })),
      ...mine
        .filter((x) => x.t.pendingId && x.t.state === 'posted')
        .map((x) => ({ id: x.t.pendingId!, state: 'posted', by: x.t.transferId, env: x.env, at: x.t.at })),
    ];
    await m.query(
      `insert into ledger_transfer_states (transfer_id, state, by_transfer, event_id, at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[]) on conflict do nothing`,
      [
        states.map((s) => s.id),
        states.map((s) => s.state),
        states.map((s) => s.by),
        states.map((s) => s.env.id),
        states.map((s) => s.at),
      ],
    );
  }
}
