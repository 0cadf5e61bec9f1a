import type { EntityManager } from 'typeorm';
import type { Envelope } from '@csms/contracts';

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
  const p = env.payload as Payload;
  const sessionId = typeof p.sessionId === 'string' ? p.sessionId : null;
  const inserted: unknown[] = await m.query(
    `insert into payment_events (event_id, account_id, session_id, type, occurred_at, payload)
     values ($1, $2, $3, $4, $5, $6) on conflict (event_id) do nothing returning seq`,
    [env.id, p.accountId, sessionId, env.type, env.occurredAt, JSON.stringify(p)],
  );
  if (inserted.length === 0) return false;
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
      await projectTransfer(m, env, p as unknown as TransferPayload);
      break;
    case 'ledger.transfer_voided': {
      const t = p as unknown as TransferPayload;
      if (t.pendingId)
        await m.query(
          `insert into ledger_transfer_states (transfer_id, state, by_transfer, event_id, at)
           values ($1, 'voided', $2, $3, $4) on conflict do nothing`,
          [t.pendingId, t.transferId, env.id, at],
        );
      break;
    }
    default:
      if (INTENT_KINDS[env.type]) {
        const kind =
          env.type === 'payment.authorization_requested' && p.hosted === true ? 'hosted' : INTENT_KINDS[env.type];
        await m.query(
          `insert into psp_intents (intent_id, account_id, session_id, kind, request, status, attempts, next_attempt_at, payment_ref, created_at, updated_at)
           values ($1, $2, $3, $4, $5, 'pending', 0, now(), $6, now(), now()) on conflict (intent_id) do nothing`,
          [p.intentId, p.accountId, sessionId, kind, JSON.stringify(p), p.paymentRef ?? null],
        );
      } else if (OUTCOMES[env.type]) {
        await m.query(
          `update psp_intents set status = $2, outcome = $3, payment_ref = coalesce($4, payment_ref), claimed_until = null, updated_at = now()
            where intent_id = $1 and status not in ('done', 'failed')`,
          [p.intentId, OUTCOMES[env.type], JSON.stringify({ type: env.type, ...p }), p.paymentRef ?? null],
        );
      }
  }
  return true;
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

async function projectTransfer(m: EntityManager, env: Envelope, t: TransferPayload): Promise<void> {
  const names = t.postings.map((x) => x.account);
  const parts = names.map(ledgerAccountOf);
  await m.query(
    `insert into ledger_accounts (name, chart, currency, billing_account_id, created_at)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) on conflict (name) do nothing`,
    [
      names,
      parts.map((x) => x.chart),
      parts.map((x) => x.currency),
      parts.map((x) => x.billingAccountId),
      names.map(() => t.at),
    ],
  );
  // the session of the transfer (for its journal): the session of the pending transfer it posts, else that of the
  // event decided just before it from the same input (a transfer follows the event it books: cdr_recorded, captured…)
  const sessionOf = async (sql: string, args: unknown[]) =>
    ((await m.query(sql, args)) as Array<{ session_id: string | null }>)[0]?.session_id ?? null;
  const session =
    t.sessionId ??
    (t.pendingId
      ? await sessionOf('select session_id from ledger_transfers where transfer_id = $1', [t.pendingId])
      : null) ??
    (await sessionOf(
      `select session_id from payment_events
        where account_id = $1 and payload->>'sourceEventId' = $2 and session_id is not null and event_id <> $3
        order by seq desc limit 1`,
      [t.accountId, t.sourceEventId, env.id],
    ));
  const done: unknown[] = await m.query(
    `insert into ledger_transfers (transfer_id, currency, initial_state, pending_id, source_event_id, event_id, reason, account_id, session_id, at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (transfer_id) do nothing returning transfer_id`,
    [t.transferId, t.currency, t.state, t.pendingId, t.sourceEventId, env.id, t.reason, t.accountId, session, t.at],
  );
  if (done.length === 0) return;
  await m.query(
    `insert into ledger_postings (transfer_id, line, account, amount_minor)
     select $1, ord - 1, account, amount from unnest($2::text[], $3::bigint[]) with ordinality as x(account, amount, ord)`,
    [t.transferId, names, t.postings.map((x) => x.amountMinor)],
  );
  await m.query(
    `insert into ledger_transfer_states (transfer_id, state, by_transfer, event_id, at) values ($1, $2, null, $3, $4)`,
    [t.transferId, t.state, env.id, t.at],
  );
  if (t.pendingId && t.state === 'posted')
    await m.query(
      `insert into ledger_transfer_states (transfer_id, state, by_transfer, event_id, at)
       values ($1, 'posted', $2, $3, $4) on conflict do nothing`,
      [t.pendingId, t.transferId, env.id, t.at],
    );
}
