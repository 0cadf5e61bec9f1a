import type { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingMigrations } from '@csms/messaging';
import {
  balancedFunction,
  PaymentOpenScans1765500000000,
  PaymentLedgerCheckByKey1765400000000,
  PaymentStateJson1765100000000,
  PaymentSettledRows1765300000000,
  PaymentStateLz41765200000000,
  PaymentThroughput1765000000000,
} from './migrations-throughput';

/**
 * The payment service's tables (database csms_payments).
 *
 * Projections of payment.events (rebuilt from the topic by `npm run payments:rebuild`, never by calling the PSP):
 * - account_state: the payment decider's state, one row per billing account (json since PaymentStateJson: written
 *   and read whole), folded under a row lock;
 * - billing_accounts: accounts and their payment method (the API's read model);
 * - payment_events: every payment event, in the order this service decided (or re-read) it: a session's payment
 *   record and journal are read from here;
 * - psp_intents: each PSP call the decider asked for (intent id = the PSP idempotency key), its claim and outcome;
 * - the double-entry ledger: ledger_accounts, ledger_transfers, ledger_postings and ledger_transfer_states
 *   (a pending transfer's posting or voiding is a new row): append-only, UPDATE/DELETE/TRUNCATE refused by triggers;
 *   balances are derived (view ledger_balances);
 * - statements: monthly statements of invoice accounts.
 * Copies and records of the inputs (not on payment.events):
 * - tokens: registry.tokens, token uid -> billing account (the registry group restarts from zero on a rebuild);
 * - payment_sessions: what session.started said (station, protocol, transaction id) to address a stop command;
 * - unbilled_cdrs: CDRs with no billing account (or one this service does not know): recorded, listed, never dropped;
 * - psp_webhooks_seen: webhook event ids already applied (deduplication).
 * - payment_settled (PaymentSettledRows): settled sessions and CDR ids pruned from the decider's state (a projection,
 *   rebuilt with account_state).
 */
export class PaymentTables1764500000000 implements MigrationInterface {
  name = 'PaymentTables1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table account_state (
        account_id  text primary key,
        state       jsonb       not null,
        events      bigint      not null default 0,
        updated_at  timestamptz not null
      )`);
    await q.query(`
      create table billing_accounts (
        account_id   text primary key,
        currency     text        not null,
        method       jsonb       not null,
        policy       jsonb,
        status       text        not null,
        status_reason text,
        opened_at    timestamptz not null,
        updated_at   timestamptz not null,
        opened_by    text
      )`);
    await q.query(`
      create table payment_events (
        seq          bigserial   primary key,
        event_id     uuid        not null unique,
        account_id   text        not null,
        session_id   text,
        type         text        not null,
        occurred_at  timestamptz not null,
        payload      jsonb       not null
      )`);
    await q.query('create index payment_events_session on payment_events (session_id, seq)');
    await q.query('create index payment_events_account on payment_events (account_id, seq)');
    await q.query(
      `create index payment_events_source on payment_events (account_id, (payload->>'sourceEventId'), seq)`,
    );
    await q.query(`
      create table psp_intents (
        intent_id       text primary key,
        account_id      text        not null,
        session_id      text,
        kind            text        not null,
        request         jsonb       not null,
        status          text        not null check (status in ('pending', 'in_flight', 'unknown', 'done', 'failed')),
        attempts        integer     not null default 0,
        next_attempt_at timestamptz not null,
        claimed_until   timestamptz,
        payment_ref     text,
        outcome         jsonb,
        last_error      text,
        created_at      timestamptz not null,
        updated_at      timestamptz not null
      )`);
    await q.query(
      `create index psp_intents_due on psp_intents (next_attempt_at) where status in ('pending', 'in_flight', 'unknown')`,
    );
    await q.query('create index psp_intents_payment on psp_intents (payment_ref)');
    await q.query(`
      create table ledger_accounts (
        name               text primary key,
        chart              text        not null,
        currency           text        not null,
        billing_account_id text,
        created_at         timestamptz not null
      )`);
    await q.query(`
      create table ledger_transfers (
        seq             bigserial   not null unique,
        transfer_id     text primary key,
        currency        text        not null,
        initial_state   text        not null check (initial_state in ('pending', 'posted')),
        pending_id      text        references ledger_transfers (transfer_id),
        source_event_id text        not null,
        event_id        uuid        not null,
        reason          text        not null,
        account_id      text,
        session_id      text,
        at              timestamptz not null
      )`);
    await q.query('create index ledger_transfers_session on ledger_transfers (session_id, seq)');
    await q.query(`
      create table ledger_postings (
        transfer_id  text    not null references ledger_transfers (transfer_id),
        line         integer not null,
        account      text    not null references ledger_accounts (name),
        amount_minor bigint  not null check (amount_minor <> 0),
        primary key (transfer_id, line)
      )`);
    await q.query('create index ledger_postings_account on ledger_postings (account, transfer_id)');
    await q.query(`
      create table ledger_transfer_states (
        transfer_id text        not null references ledger_transfers (transfer_id),
        state       text        not null check (state in ('pending', 'posted', 'voided')),
        by_transfer text,
        event_id    uuid        not null,
        at          timestamptz not null,
        primary key (transfer_id, state)
      )`);
    // a transfer is final once posted or voided: at most one of the two
    await q.query(
      `create unique index ledger_transfer_resolved on ledger_transfer_states (transfer_id) where state <> 'pending'`,
    );
    // every transfer balances (sum 0, one currency: the postings' accounts carry it), checked at commit
    await q.query(balancedFunction('a.currency', 'join ledger_accounts a on a.name = p.account'));
    await q.query(`
      create constraint trigger ledger_transfers_balanced after insert on ledger_transfers
        deferrable initially deferred for each row execute function ledger_transfer_balanced()`);
    // entries are immutable: a correction is a new transfer, a pending transfer's outcome a new state row
    await q.query(`
      create function ledger_immutable() returns trigger language plpgsql as $$
      begin
        raise exception 'ledger rows are immutable: % on % refused', tg_op, tg_table_name using errcode = '42501';
      end $$`);
    for (const t of ['ledger_accounts', 'ledger_transfers', 'ledger_postings', 'ledger_transfer_states']) {
      await q.query(
        `create trigger ${t}_immutable before update or delete on ${t} for each row execute function ledger_immutable()`,
      );
      await q.query(
        `create trigger ${t}_no_truncate before truncate on ${t} for each statement execute function ledger_immutable()`,
      );
    }
    // balances: posted = transfers posted directly; pending = pending transfers not resolved yet (a posted pending
    // transfer counts through the transfer that posted it, with that one's amounts)
    await q.query(`
      create view ledger_balances as
      select a.name as account, a.chart, a.currency, a.billing_account_id,
             coalesce(sum(p.amount_minor) filter (where t.initial_state = 'posted'), 0)::bigint as posted_minor,
             coalesce(sum(p.amount_minor) filter (
               where t.initial_state = 'pending'
                 and not exists (select 1 from ledger_transfer_states s where s.transfer_id = t.transfer_id and s.state <> 'pending')
             ), 0)::bigint as pending_minor,
             coalesce(sum(p.amount_minor) filter (where t.initial_state = 'posted' and p.amount_minor > 0), 0)::bigint as debits_posted_minor,
             coalesce(-sum(p.amount_minor) filter (where t.initial_state = 'posted' and p.amount_minor < 0), 0)::bigint as credits_posted_minor
        from ledger_accounts a
        left join ledger_postings p on p.account = a.name
        left join ledger_transfers t on t.transfer_id = p.transfer_id
       group by a.name, a.chart, a.currency, a.billing_account_id`);
    await q.query(`
      create table statements (
        statement_id text primary key,
        account_id   text        not null,
        month        text        not null,
        currency     text        not null,
        payload      jsonb       not null,
        issued_at    timestamptz not null,
        unique (account_id, month)
      )`);
    await q.query(
      `create table tokens (uid text primary key, billing_account_id text, revision integer not null, deleted boolean not null)`,
    );
    await q.query(`
      create table payment_sessions (
        session_id     text primary key,
        account_id     text,
        station_id     text        not null,
        protocol       text        not null,
        transaction_id text        not null,
        evse_id        integer,
        connector_id   integer,
        id_token       text,
        started_at     timestamptz not null,
        event_id       uuid
      )`);
    await q.query(`
      create table unbilled_cdrs (
        cdr_id          text primary key,
        session_id      text,
        billing_account_id text,
        reason          text        not null,
        currency        text        not null,
        total_incl_vat  text        not null,
        credit          boolean     not null,
        event_id        uuid        not null,
        recorded_at     timestamptz not null
      )`);
    await q.query(`
      create table psp_webhooks_seen (
        event_id    text primary key,
        type        text        not null,
        created     bigint      not null,
        payment_ref text,
        received_at timestamptz not null,
        outcome     text        not null
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['psp_webhooks_seen', 'unbilled_cdrs', 'payment_sessions', 'tokens', 'statements'])
      await q.query(`drop table ${t}`);
    await q.query('drop view ledger_balances');
    for (const t of ['ledger_transfer_states', 'ledger_postings', 'ledger_transfers', 'ledger_accounts'])
      await q.query(`drop table ${t}`);
    await q.query('drop function ledger_immutable');
    await q.query('drop function ledger_transfer_balanced');
    for (const t of ['psp_intents', 'payment_events', 'billing_accounts', 'account_state'])
      await q.query(`drop table ${t}`);
  }
}

/**
 * The ad-hoc (QR) payment: the checkout attempts (`adhoc_payments`: EVSE, tariff as shown, hold, the PSP's hosted
 * page), the remote starts (`adhoc_starts`: one-time token, command, result, released) and the receipts
 * (`adhoc_receipts`: what each CDR of an ad-hoc payment said).
 */
export class PaymentAdhoc1764600000000 implements MigrationInterface {
  name = 'PaymentAdhoc1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table adhoc_payments (
        payment_id   text primary key,
        station_id   text        not null,
        evse_id      integer     not null,
        currency     text        not null,
        hold_minor   bigint      not null,
        tariff_id    text,
        tariff       jsonb,
        checkout_url text,
        payment_ref  text,
        created_at   timestamptz not null
      )`);
    await q.query(`
      create table adhoc_starts (
        payment_id      text primary key,
        account_id      text        not null,
        hold_id         text        not null,
        token           text        not null,
        command_id      uuid        not null,
        protocol        text        not null,
        protocols_tried jsonb       not null,
        station_id      text        not null,
        evse_id         integer     not null,
        requested_at    timestamptz not null,
        result          text,
        released        boolean     not null,
        token_expired   boolean     not null
      )`);
    await q.query('create index adhoc_starts_command on adhoc_starts (command_id)');
    await q.query(`
      create table adhoc_receipts (
        cdr_id         text primary key,
        payment_id     text        not null,
        session_id     text,
        credit         boolean     not null,
        currency       text        not null,
        total_excl_vat text        not null,
        total_incl_vat text        not null,
        energy_kwh     text        not null,
        time_hours     text        not null,
        parking_hours  text,
        start_at       timestamptz not null,
        end_at         timestamptz not null,
        recorded_at    timestamptz not null
      )`);
    await q.query('create index adhoc_receipts_payment on adhoc_receipts (payment_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['adhoc_receipts', 'adhoc_starts', 'adhoc_payments']) await q.query(`drop table ${t}`);
  }
}

export const paymentServiceMigrations = [
  ...messagingMigrations,
  PaymentTables1764500000000,
  PaymentAdhoc1764600000000,
  PaymentThroughput1765000000000,
  PaymentStateJson1765100000000,
  PaymentStateLz41765200000000,
  PaymentSettledRows1765300000000,
  PaymentLedgerCheckByKey1765400000000,
  PaymentOpenScans1765500000000,
];
