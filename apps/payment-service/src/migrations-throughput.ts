import type { MigrationInterface, QueryRunner } from 'typeorm';
import { useLz4Compression } from '@csms/platform';

/**
 * Throughput: a webhook finds the open intent its payment settles by `payment_ref`, the intent id or the request's
 * `paymentRef`; the last had no index (a scan of psp_intents per webhook). With it the three are one bitmap OR.
 */
export class PaymentThroughput1765000000000 implements MigrationInterface {
  name = 'PaymentThroughput1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`create index psp_intents_request_payment on psp_intents ((request->>'paymentRef'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index psp_intents_request_payment');
  }
}

/**
 * Throughput: the decider's state (`account_state.state`, some 25 KB for a card account keeping its settled sessions)
 * is written whole by every transaction that decides for the account and only ever read whole, never queried inside.
 * As `json` PostgreSQL keeps the text as sent (checked as JSON) instead of converting it to `jsonb` and back: in a
 * measurement, 0.6 instead of 1.9 ms of database CPU per state written.
 */
export class PaymentStateJson1765100000000 implements MigrationInterface {
  name = 'PaymentStateJson1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table account_state alter column state type json using state::json');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table account_state alter column state type jsonb using state::jsonb');
  }
}

/**
 * Throughput: the decider's state (`account_state.state`, 20–30 KB for a card account) is compressed by PostgreSQL
 * whenever it is written (TOAST); with lz4 instead of the default pglz that costs a fraction of the database CPU.
 * Skipped where the server was built without lz4 (the column then keeps pglz). Rows written before keep their
 * compression until they are written again.
 */
export class PaymentStateLz41765200000000 implements MigrationInterface {
  name = 'PaymentStateLz41765200000000';

  async up(q: QueryRunner): Promise<void> {
    await useLz4Compression(q, [['account_state', 'state']]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table account_state alter column state set compression default');
  }
}

/**
 * What a card account's decider state no longer carries (2026-12-05): the settled sessions it pruned (a hold's
 * payment reference and its captured, refunded and due amounts: what a late credit CDR is refunded against), one row
 * each, and the ids of the CDRs pruned with them (a CDR delivered again is still known), one row each. Written once
 * when pruned (again if a correction brought the session back and it was pruned anew), read back by primary key only
 * when a CDR names a session or a CDR the state does not hold. A projection of payment.events like account_state: the
 * rebuild writes the same rows.
 */
export class PaymentSettledRows1765300000000 implements MigrationInterface {
  name = 'PaymentSettledRows1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table payment_settled (
        account_id text  not null,
        kind       text  not null check (kind in ('session', 'cdr')),
        id         text  not null,
        entry      json,
        primary key (account_id, kind, id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table payment_settled');
  }
}

/**
 * Throughput: the check that every ledger transfer balances (`ledger_transfer_balanced`, run at commit for each
 * transfer) joined the transfer's postings to `ledger_accounts` for their currency. PL/pgSQL keeps one plan for the
 * statement, made with the statistics of the moment; it estimated tens of postings per transfer and chose a hash join,
 * a scan of every ledger account per transfer: 2.4 ms of database CPU per transfer with 5,000 billing accounts (15,000
 * ledger accounts), against 0.1 ms with 200. Each posting's currency is now a look-up by primary key (a subquery per
 * posting, which the planner cannot turn into a join): the cost no longer depends on how many accounts there are.
 * Same rule: at least two postings, summing to zero, in one currency.
 */
export class PaymentLedgerCheckByKey1765400000000 implements MigrationInterface {
  name = 'PaymentLedgerCheckByKey1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(balancedFunction('(select a.currency from ledger_accounts a where a.name = p.account)', ''));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(balancedFunction('a.currency', 'join ledger_accounts a on a.name = p.account'));
  }
}

/**
 * `ledger_transfer_balanced()`, the check that a transfer balances, with the postings' currency taken as `currency`
 * from `ledger_postings p` + `join` (the first migration's join, or `PaymentLedgerCheckByKey`'s look-up by key).
 */
export function balancedFunction(currency: string, join: string): string {
  return `
    create or replace function ledger_transfer_balanced() returns trigger language plpgsql as $$
    declare s numeric; n integer; c integer;
    begin
      select coalesce(sum(p.amount_minor), 0), count(*), count(distinct ${currency})
        into s, n, c
        from ledger_postings p ${join}
        where p.transfer_id = new.transfer_id;
      if n < 2 or s <> 0 or c <> 1 then
        raise exception 'ledger transfer % does not balance (% postings, sum %, % currencies)', new.transfer_id, n, s, c
          using errcode = '23514';
      end if;
      return null;
    end $$`;
}

/** The events that open a hold (`payment.authorized`) or close it, as `payment_holds` records them. */
export const HOLD_EVENT_TYPES = [
  'payment.authorized',
  'payment.captured',
  'payment.released',
  'payment.capture_requested',
  'payment.release_requested',
] as const;

/**
 * `payment_holds` as the recorded events define it (the rule the hold-expiry scan applied to `payment_events` before
 * the table): a row per account and hold, its earliest lapse, closed once any event but the authorisation names it.
 */
export const HOLDS_FROM_EVENTS_SQL = `
  select account_id, payload->>'holdId' as hold_id,
         min(case when type = 'payment.authorized'
                  then coalesce((payload->>'holdExpiresAt')::timestamptz, occurred_at + interval '168 hours') end) as expires_at,
         bool_or(type <> 'payment.authorized') as closed
    from payment_events
   where type in (${HOLD_EVENT_TYPES.map((t) => `'${t}'`).join(', ')}) and payload->>'holdId' is not null
   group by 1, 2`;

/**
 * Scans bounded by what is open: the hold-expiry scan (every PAYMENT_HOLD_SCAN_MS, a minute by default) read every `payment.authorized`
 * event ever recorded and, for each, looked for a capture or release among its account's events — a scan of
 * `payment_events` a minute, growing with every card session the network ever had. `payment_holds` keeps one row per
 * hold (its lapse as the PSP stated it, else the authorisation + 7 days; closed once a capture or release is asked
 * for or made), written by the projection with the events, so a rebuild writes the same rows; the scan reads the open
 * ones through a partial index, whatever the history. Existing databases: seeded from `payment_events`.
 * The ad-hoc start-timeout scan (every PAYMENT_ADHOC_SCAN_MS, 5 s by default) likewise looked at every ad-hoc payment
 * that ever started: it now skips those whose token is spent (captured or released), through a partial index.
 * Also: `payment_events_account (account_id, seq)` is dropped: every look-up by account also names the input
 * (`payment_events_source`, which starts with `account_id`) or the session, and it cost an index entry per event;
 * the settlement import's look-up of earlier lines by balance transaction (a scan of every event per import) gets a
 * partial index over those lines only.
 */
export class PaymentOpenScans1765500000000 implements MigrationInterface {
  name = 'PaymentOpenScans1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table payment_holds (
        account_id text        not null,
        hold_id    text        not null,
        expires_at timestamptz,
        closed     boolean     not null default false,
        primary key (account_id, hold_id)
      )`);
    await q.query('create index payment_holds_open on payment_holds (expires_at) where not closed');
    await q.query(`insert into payment_holds (account_id, hold_id, expires_at, closed) ${HOLDS_FROM_EVENTS_SQL}`);
    await q.query(
      'create index adhoc_starts_unsettled on adhoc_starts (requested_at) where not released and not token_expired',
    );
    await q.query('drop index payment_events_account');
    await q.query(
      `create index payment_events_settlement_line on payment_events ((payload->>'balanceTransactionId'))
        where type = 'payment.settlement_line_recorded'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index payment_events_settlement_line');
    await q.query('create index payment_events_account on payment_events (account_id, seq)');
    await q.query('drop index adhoc_starts_unsettled');
    await q.query('drop table payment_holds');
  }
}
