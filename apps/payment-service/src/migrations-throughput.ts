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
