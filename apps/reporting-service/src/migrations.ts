import type { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingMigrations } from '@csms/messaging';
import { allCurrencies } from '@csms/money';

/** Station monitoring read model: one view per station, and every alarm (open and closed). */
export class MonitoringTables1764500000000 implements MigrationInterface {
  name = 'MonitoringTables1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table station_monitor (
        station_id      text primary key,
        online          boolean     not null,
        last_message_at timestamptz,
        view            jsonb       not null
      )`);
    await q.query('create index station_monitor_online on station_monitor (online, station_id)');
    await q.query(`
      create table alarms (
        alarm_id     uuid primary key,
        station_id   text        not null,
        kind         text        not null,
        evse_id      integer,
        connector_id integer,
        code         text        not null,
        detail       text        not null,
        opened_at    timestamptz not null,
        opened_by    text        not null,
        closed_at    timestamptz,
        closed_by    text
      )`);
    await q.query('create index alarms_open on alarms (station_id, opened_at) where closed_at is null');
    await q.query('create index alarms_opened on alarms (opened_at, alarm_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table alarms');
    await q.query('drop table station_monitor');
  }
}

/**
 * Operator acknowledgements, as read from monitoring.events. Kept apart from the alarms so that an
 * acknowledgement read before its alarm was opened (a rebuild reads ocpp.inbound and monitoring.events in no
 * fixed order between them) closes the alarm the moment it opens.
 */
export class AlarmAcknowledgements1764500000001 implements MigrationInterface {
  name = 'AlarmAcknowledgements1764500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table alarm_acknowledgements (
        alarm_id        uuid primary key,
        station_id      text        not null,
        acknowledged_at timestamptz not null,
        acknowledged_by text        not null
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table alarm_acknowledgements');
  }
}

/**
 * Billing completeness: one row per session revision ended (session.ended) or given an outcome (cdr.created,
 * session.pricing_failed, a dead letter of the tariff service's pricing), whichever is read first; and the
 * newest event time seen, against which a session without an outcome is pending or missing.
 */
export class BillingCompleteness1764500000100 implements MigrationInterface {
  name = 'BillingCompleteness1764500000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table billing_sessions (
        session_id       uuid        not null,
        revision         integer     not null,
        station_id       text        not null,
        -- the session's end: from session.ended; until it is read, from the outcome that was read first
        ended_at         timestamptz not null,
        ended            boolean     not null default false,
        -- the CDR's currency; null while the revision has no CDR
        currency         text,
        cdr_id           text,
        cdrs             integer     not null default 0,
        credit_cdrs      integer     not null default 0,
        pricing_failures integer     not null default 0,
        failure_code     text,
        dead_letters     integer     not null default 0,
        primary key (session_id, revision)
      )`);
    await q.query('create index billing_sessions_ended_at on billing_sessions (ended_at, session_id, revision)');
    await q.query(
      `create index billing_sessions_open on billing_sessions (ended_at, session_id, revision) where ended and cdrs + pricing_failures + dead_letters = 0`,
    );
    await q.query(
      `create table billing_watermark (id boolean primary key default true check (id), newest_event_at timestamptz not null)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table billing_watermark');
    await q.query('drop table billing_sessions');
  }
}

/** The role of the API key that acknowledged an alarm (monitoring.alarm_acknowledged v2); null for acknowledgements written before. */
export class AlarmAcknowledgedByRole1764500000200 implements MigrationInterface {
  name = 'AlarmAcknowledgedByRole1764500000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query('alter table alarm_acknowledgements add column acknowledged_by_role text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table alarm_acknowledgements drop column acknowledged_by_role');
  }
}

/**
 * Finance: one row per CDR (its revenue fact, where it counts, its OCPI object for the exports and the OCPI CDRs
 * module); the revenue pre-aggregated per reported day and dimensions; the closed periods with their cut in
 * billing.events; the registry's stations (site, time zone); the status facts of every EVSE and the declared
 * maintenance windows (uptime and utilisation are cut from them when asked).
 */
export class FinanceTables1764500000300 implements MigrationInterface {
  name = 'FinanceTables1764500000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table finance_cdrs (
        cdr_id              text        primary key,
        partition           integer     not null,
        "offset"            bigint      not null,
        credit              boolean     not null,
        credit_reference_id text,
        session_id          uuid        not null,
        station_id          text        not null,
        site_id             text        not null,
        evse_uid            text        not null,
        connector_id        text        not null,
        tariff_id           text        not null,
        tariff_version      integer     not null,
        currency            text        not null,
        account_id          text        not null,
        issued_at           timestamptz not null,
        time_zone           text        not null,
        issue_day           date        not null,
        reported_day        date        not null,
        sessions            integer     not null,
        energy_kwh          numeric     not null,
        charging_hours      numeric     not null,
        parking_hours       numeric     not null,
        net                 numeric     not null,
        vat                 numeric     not null,
        gross               numeric     not null,
        cdr                 jsonb       not null
      )`);
    // the exports' and OCPI's order: issue time, then id in byte order (the same on every database)
    await q.query('create index finance_cdrs_issued on finance_cdrs (issued_at, cdr_id collate "C")');
    await q.query('create index finance_cdrs_reported on finance_cdrs (reported_day)');
    await q.query('create index finance_cdrs_position on finance_cdrs (partition, "offset")');
    // account_id '' = no paying account (a key column cannot be null)
    await q.query(`
      create table revenue_daily (
        day            date    not null,
        currency       text    not null,
        site_id        text    not null,
        station_id     text    not null,
        evse_uid       text    not null,
        tariff_id      text    not null,
        tariff_version integer not null,
        account_id     text    not null,
        cdrs           integer not null,
        sessions       integer not null,
        energy_kwh     numeric not null,
        charging_hours numeric not null,
        parking_hours  numeric not null,
        net            numeric not null,
        vat            numeric not null,
        gross          numeric not null,
        primary key (day, currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id)
      )`);
    // the same per day, currency and site only: what the reports grouped by site (or by nothing) read, a year of
    // them is days x sites rows however many CDRs there were
    await q.query(`
      create table revenue_site_daily (
        day            date    not null,
        currency       text    not null,
        site_id        text    not null,
        cdrs           integer not null,
        sessions       integer not null,
        energy_kwh     numeric not null,
        charging_hours numeric not null,
        parking_hours  numeric not null,
        net            numeric not null,
        vat            numeric not null,
        gross          numeric not null,
        primary key (day, currency, site_id)
      )`);
    await q.query(`
      create table finance_period_closes (
        period                text        primary key,
        cut                   jsonb       not null,
        revenue_report_sha256 text        not null,
        closed_at             timestamptz not null,
        closed_by             text        not null,
        closed_by_role        text        not null
      )`);
    await q.query(`create table finance_stations (station_id text primary key, site_id text, time_zone text not null)`);
    await q.query(`
      create table evse_status_facts (
        station_id text        not null,
        evse_id    integer     not null,
        kind       text        not null,
        at         timestamptz not null,
        seq        bigint      not null,
        value      text        not null,
        primary key (station_id, evse_id, kind, at, seq)
      )`);
    await q.query(`
      create table maintenance_windows (
        maintenance_id   uuid        primary key,
        station_id       text        not null,
        evse_id          integer     not null,
        from_at          timestamptz not null,
        to_at            timestamptz not null,
        reason           text        not null,
        declared_at      timestamptz not null,
        declared_by      text        not null,
        declared_by_role text        not null
      )`);
    await q.query('create index maintenance_windows_station on maintenance_windows (station_id, from_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'maintenance_windows',
      'evse_status_facts',
      'finance_stations',
      'finance_period_closes',
      'revenue_daily',
      'finance_cdrs',
    ])
      await q.query(`drop table ${t}`);
  }
}

/**
 * Payments and reconciliation: the payment.events facts the payments report and the reconciliation read (one row
 * per event), each session's metered energy (session.ended, latest revision), and the breaks queue (folded from
 * finance.events: detections and resolutions).
 */
export class ReconciliationTables1764500000400 implements MigrationInterface {
  name = 'ReconciliationTables1764500000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table recon_payment_facts (
        event_id     uuid        primary key,
        type         text        not null,
        at           timestamptz not null,
        day          date        not null,
        currency     text,
        amount_minor numeric,
        fee_minor    numeric,
        payload      jsonb       not null
      )`);
    await q.query('create index recon_payment_facts_day on recon_payment_facts (day, currency)');
    await q.query(`
      create table recon_sessions (
        session_id uuid        primary key,
        revision   integer     not null,
        ended_at   timestamptz not null,
        energy_kwh numeric
      )`);
    await q.query(`
      create table recon_breaks (
        break_id     uuid        primary key,
        reason       text        not null,
        session_id   text,
        cdr_id       text,
        payment_ref  text,
        currency     text,
        expected     text,
        actual       text,
        detail       text        not null,
        run_id       uuid        not null,
        detected_at  timestamptz not null,
        detected_by  text        not null
      )`);
    await q.query('create index recon_breaks_queue on recon_breaks (detected_at, break_id)');
    await q.query(`
      create table recon_break_resolutions (
        break_id         uuid        primary key,
        resolved_at      timestamptz not null,
        resolved_by      text        not null,
        resolved_by_role text        not null,
        note             text        not null
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['recon_break_resolutions', 'recon_breaks', 'recon_sessions', 'recon_payment_facts'])
      await q.query(`drop table ${t}`);
  }
}

/**
 * The revenue per civil month (its first day) at the grain of revenue_daily (every dimension), maintained in the
 * same transaction as the daily tables: a year's report by month x any dimensions reads months, not days (at most
 * 12 rows per bucket, where revenue_daily holds one per day and, with many accounts and tariffs, nearly one per
 * CDR). Backfilled from revenue_daily, so a database folded before it answers the same.
 */
export class RevenueMonthly1764500000500 implements MigrationInterface {
  name = 'RevenueMonthly1764500000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table revenue_monthly (
        month          date    not null,
        currency       text    collate "C" not null,
        site_id        text    collate "C" not null,
        station_id     text    collate "C" not null,
        evse_uid       text    collate "C" not null,
        tariff_id      text    collate "C" not null,
        tariff_version integer not null,
        account_id     text    collate "C" not null,
        cdrs           integer not null,
        sessions       integer not null,
        energy_kwh     numeric not null,
        charging_hours numeric not null,
        parking_hours  numeric not null,
        net            numeric not null,
        vat            numeric not null,
        gross          numeric not null,
        primary key (month, currency, site_id, station_id, evse_uid, tariff_id, tariff_version, account_id)
      )`);
    await q.query(`
      insert into revenue_monthly
      select date_trunc('month', day)::date, currency, site_id, station_id, evse_uid, tariff_id, tariff_version,
        account_id, sum(cdrs), sum(sessions), sum(energy_kwh), sum(charging_hours), sum(parking_hours), sum(net),
        sum(vat), sum(gross)
      from revenue_daily group by 1, 2, 3, 4, 5, 6, 7, 8 having sum(cdrs) <> 0`);
    // the reports sort text in byte order (collation "C"): keys in that collation let a report read a table in its
    // primary key's order (a grouping that is a prefix of the key, or a page of one, stops early)
    for (const [table, columns] of [
      ['revenue_daily', ['currency', 'site_id', 'station_id', 'evse_uid', 'tariff_id', 'account_id']],
      ['revenue_site_daily', ['currency', 'site_id']],
    ] as const)
      await q.query(`alter table ${table} ${columns.map((c) => `alter column ${c} type text collate "C"`).join(', ')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table revenue_monthly');
    for (const [table, columns] of [
      ['revenue_daily', ['currency', 'site_id', 'station_id', 'evse_uid', 'tariff_id', 'account_id']],
      ['revenue_site_daily', ['currency', 'site_id']],
    ] as const)
      await q.query(
        `alter table ${table} ${columns.map((c) => `alter column ${c} type text collate "default"`).join(', ')}`,
      );
  }
}

/**
 * Reconciliation breaks a later run no longer found (finance.reconciliation_break_cleared, folded from
 * finance.events): when (the run's asOf, event time), by which run. A break found again after it was cleared
 * loses its row (reopened).
 */
export class ReconciliationClearances1764500000510 implements MigrationInterface {
  name = 'ReconciliationClearances1764500000510';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table recon_break_clearances (
        break_id   uuid        primary key,
        run_id     uuid        not null,
        cleared_at timestamptz not null,
        cleared_by text        not null
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table recon_break_clearances');
  }
}

/**
 * OCPI parties (folded from ocpi.events: registrations opened, registered, updated, unregistered; token SHA-256s
 * only) and, on each CDR, the party of its token (`cdr_token` country code and party id, upper case `CC*PID`), so an
 * eMSP's pull reads only its own CDRs through an index.
 */
export class OcpiParties1764500000700 implements MigrationInterface {
  name = 'OcpiParties1764500000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table ocpi_parties (
        registration_id uuid        primary key,
        revision        integer     not null,
        name            text        not null,
        status          text        not null,
        token_a_sha256  text,
        token_b_sha256  text,
        token_c_sha256  text,
        version         text,
        url             text,
        roles           jsonb       not null default '[]',
        endpoints       jsonb       not null default '[]',
        opened_at       timestamptz not null,
        opened_by       text        not null,
        opened_by_role  text        not null,
        registered_at   timestamptz,
        updated_at      timestamptz not null,
        unregistered_at timestamptz,
        unregistered_by text
      )`);
    await q.query(
      'create unique index ocpi_parties_token_a on ocpi_parties (token_a_sha256) where token_a_sha256 is not null',
    );
    await q.query(
      'create unique index ocpi_parties_token_c on ocpi_parties (token_c_sha256) where token_c_sha256 is not null',
    );
    await q.query(`
      alter table finance_cdrs add column token_party text generated always as
        (upper(cdr #>> '{cdr_token,country_code}') || '*' || upper(cdr #>> '{cdr_token,party_id}')) stored`);
    await q.query('create index finance_cdrs_token_party on finance_cdrs (token_party, issued_at, cdr_id collate "C")');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index finance_cdrs_token_party');
    await q.query('alter table finance_cdrs drop column token_party');
    await q.query('drop table ocpi_parties');
  }
}

/**
 * The revenue per grain (`d`: reported day, `m`: civil month, its first day) x currency x ONE dimension (`dimension`
 * '' with no key: per currency only; `site`, `station`, `evse`, `account`: its id in k1; `tariff`: the tariff id in k1
 * and its version in k2; k2 is 0 for the others), maintained in the same transaction as the other revenue tables.
 * A report by day or month x none or one dimension reads its rows as they are, in primary key order, however many
 * CDRs there were: a year per month x station is months x stations rows, where revenue_monthly holds one row per
 * station x EVSE x tariff x account (nearly one per CDR with many accounts). Backfilled from revenue_daily and
 * revenue_monthly, so a database folded before it answers the same. It replaces revenue_site_daily (its day x site
 * rows).
 */
export class RevenueRollup1764500000800 implements MigrationInterface {
  name = 'RevenueRollup1764500000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table revenue_rollup (
        grain          text    collate "C" not null,
        dimension      text    collate "C" not null,
        day            date    not null,
        currency       text    collate "C" not null,
        k1             text    collate "C" not null,
        k2             integer not null,
        cdrs           integer not null,
        sessions       integer not null,
        energy_kwh     numeric not null,
        charging_hours numeric not null,
        parking_hours  numeric not null,
        net            numeric not null,
        vat            numeric not null,
        gross          numeric not null,
        primary key (grain, dimension, day, currency, k1, k2)
      )`);
    for (const [grain, table, day] of [
      ['d', 'revenue_daily', 'day'],
      ['m', 'revenue_monthly', 'month'],
    ] as const)
      for (const [dimension, k1, k2] of REVENUE_ROLLUP_KEYS)
        await q.query(`
          insert into revenue_rollup
          select '${grain}', '${dimension}', ${day}, currency, ${k1}, ${k2}, sum(cdrs), sum(sessions), sum(energy_kwh),
            sum(charging_hours), sum(parking_hours), sum(net), sum(vat), sum(gross)
          from ${table} group by 3, 4, 5, 6 having sum(cdrs) <> 0`);
    // its rows are revenue_rollup's by day x site
    await q.query('drop table revenue_site_daily');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      create table revenue_site_daily (
        day            date    not null,
        currency       text    collate "C" not null,
        site_id        text    collate "C" not null,
        cdrs           integer not null,
        sessions       integer not null,
        energy_kwh     numeric not null,
        charging_hours numeric not null,
        parking_hours  numeric not null,
        net            numeric not null,
        vat            numeric not null,
        gross          numeric not null,
        primary key (day, currency, site_id)
      )`);
    await q.query(`
      insert into revenue_site_daily
      select day, currency, k1, cdrs, sessions, energy_kwh, charging_hours, parking_hours, net, vat, gross
      from revenue_rollup where grain = 'd' and dimension = 'site'`);
    await q.query('drop table revenue_rollup');
  }
}

/**
 * Each revenue_rollup row's JSON as the report answers it (`json`, a stored generated column): the text
 * `JSON.stringify` makes of the report row the row is (revenueRows'), keys in REVENUE_COLUMNS' order, `day` null on
 * a month row (`m`), the dimensions other than the row's null, '' keys null, decimals as trimmed text, the amounts
 * with at least the currency's minor units (amountText). PostgreSQL writes it when the fold adds a CDR to the row, so
 * a report read at a table's grain is the concatenation of stored texts (no per-row formatting when asked);
 * `revenue_rollup_json` also writes the rows a report sums from day rows (a range cut into months), the same way.
 * The minor units are libs/money's at the time of this migration (those other than 2 listed): a change of them
 * needs a migration that redefines the function and rewrites the column. The function is declared immutable
 * (a generated column requires it): to_json of a text and to_char of a date with a fixed pattern are. PL/pgSQL,
 * not SQL: a SQL function calling to_json (stable) is never inlined, and each call through the SQL-function
 * executor cost ~30 us against a few for PL/pgSQL's simple-expression path (24,000 calls: 650-800 ms against
 * ~50 ms, load average 10).
 *
 * And two indexes in the order of a report by month over days of a month a range cuts into (the day's month, then
 * the report's key): revenue_daily's (every dimension) and revenue_rollup's day rows' (one dimension, the day last,
 * so the range is an index condition). The days are summed by key while read in that order: no sort of the
 * month's part first, and a page stops after its groups. Neither holds a figure, so the fold's updates of a row's
 * sums stay heap-only (HOT) when the page has room.
 *
 * And the month rows' stored JSON in an index of their own (`revenue_rollup_months`, the report's order, `json`
 * included): a year by month x one dimension is an index-only scan of a few leaf pages instead of a heap page per
 * row (the fold's updates scatter the rows; 24,000 rows of month x EVSE: 1,203 buffers and 44 ms against 24,138
 * and 115 ms, load average 17), heap-only for the months vacuum found all-visible (the closed and past ones). Its
 * price: a fold update of a month row changes an indexed column, so it is never HOT (a new entry in this index and
 * the primary key, 6 rows a CDR; the day rows keep theirs).
 */
export class RevenueRollupJson1764500000900 implements MigrationInterface {
  name = 'RevenueRollupJson1764500000900';

  async up(q: QueryRunner): Promise<void> {
    const minor = allCurrencies().filter((c) => c.minorUnits !== 2);
    const units = `(case currency ${minor.map((c) => `when '${c.code}' then ${c.minorUnits}`).join(' ')} else 2 end)`;
    const text = (v: string) => `coalesce(to_json(nullif(${v}, ''))::text, 'null')`;
    const dim = (d: string, v: string) => `case dimension when '${d}' then ${v} else 'null' end`;
    const amount = (c: string) =>
      `'"' || round(trim_scale(${c}), greatest(scale(trim_scale(${c})), ${units}))::text || '"'`;
    await q.query(`
      create function revenue_rollup_json(grain text, dimension text, day date, currency text, k1 text, k2 integer,
        cdrs integer, sessions integer, energy_kwh numeric, charging_hours numeric, parking_hours numeric,
        net numeric, vat numeric, gross numeric) returns text language plpgsql immutable parallel safe as $$
      begin return '{"period":"' || to_char(day, 'YYYY-MM') || '","day":'
        || case grain when 'd' then '"' || to_char(day, 'YYYY-MM-DD') || '"' else 'null' end
        || ',"currency":' || to_json(currency)::text
        || ',"site_id":' || ${dim('site', text('k1'))}
        || ',"station_id":' || ${dim('station', text('k1'))}
        || ',"evse_uid":' || ${dim('evse', text('k1'))}
        || ',"tariff_id":' || ${dim('tariff', text('k1'))}
        || ',"tariff_version":' || ${dim('tariff', 'k2::text')}
        || ',"account_id":' || ${dim('account', text('k1'))}
        || ',"cdrs":' || cdrs::text || ',"sessions":' || sessions::text
        || ',"energy_kwh":"' || trim_scale(energy_kwh)::text || '","charging_hours":"' || trim_scale(charging_hours)::text
        || '","parking_hours":"' || trim_scale(parking_hours)::text || '"'
        || ',"net":' || ${amount('net')} || ',"vat":' || ${amount('vat')} || ',"gross":' || ${amount('gross')} || '}';
      end $$`);
    await q.query(`
      alter table revenue_rollup add column json text not null generated always as (revenue_rollup_json(grain,
        dimension, day, currency, k1, k2, cdrs, sessions, energy_kwh, charging_hours, parking_hours, net, vat, gross))
        stored`);
    await q.query(`
      create index revenue_daily_by_month on revenue_daily ((date_trunc('month', day::timestamp)::date), currency,
        site_id, station_id, evse_uid, tariff_id, tariff_version, account_id)`);
    await q.query(`
      create index revenue_rollup_days_by_month on revenue_rollup (dimension, (date_trunc('month', day::timestamp)::date),
        currency, k1, k2, day) where grain = 'd'`);
    await q.query(`
      create index revenue_rollup_months on revenue_rollup (dimension, day, currency, k1, k2) include (json)
        where grain = 'm'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index revenue_rollup_months');
    await q.query('drop index revenue_rollup_days_by_month');
    await q.query('drop index revenue_daily_by_month');
    await q.query('alter table revenue_rollup drop column json');
    await q.query('drop function revenue_rollup_json');
  }
}

/**
 * Incremental reconciliation runs (libs/finance `reconcileScope`, `src/reconciliation.run.ts`): what a run needs to
 * read only the subjects whose facts changed or whose time-driven checks fell due since the run before.
 * - `xid`: the transaction that wrote each fact, session (and its later revisions) and CDR row; a run keeps the
 *   snapshot it read at (`recon_run_state`) and next reads the rows not visible in it: exact whatever order
 *   concurrent writers commit in (a sequence number would be taken before the commit and could be passed over).
 * - `keys`: the subjects a payment fact links (session `s:`, CDR `c:`, payment `r:`, ledger source `t:` account and
 *   causing event, settlement balance transaction `b:`), the joins `reconcile` makes, indexed (GIN) to gather a
 *   subject's whole history; defined once, here, as the generated column's expression.
 * - `at` by type (time windows: what became due), `ended_at`, CDRs by session.
 * Existing rows get this migration's transaction: every one of them is new to the first run, which is a full run
 * anyway (no state yet).
 */
export class ReconciliationIncremental1764500001000 implements MigrationInterface {
  name = 'ReconciliationIncremental1764500001000';

  async up(q: QueryRunner): Promise<void> {
    // the keys as one array expression (a SQL function here, evaluated per inserted row, made a payment fact's
    // insert 8 times dearer: 0.17 against 0.02 ms of PostgreSQL's time; the expression 0.056 ms with the GIN entries)
    await q.query(`
      alter table recon_payment_facts
        add column xid xid8 not null default pg_current_xact_id(),
        add column keys text[] not null generated always as (array_remove(array[
          case when type in ('payment.cdr_recorded', 'payment.authorized', 'payment.captured', 'payment.refunded')
            then 's:' || (payload->>'sessionId') end,
          case when type in ('payment.cdr_recorded', 'payment.captured', 'payment.receivable_opened',
              'payment.receivable_settled')
            then 'c:' || (payload->>'cdrId') end,
          case when type in ('payment.authorized', 'payment.captured', 'payment.refunded',
              'payment.settlement_line_recorded')
            then 'r:' || (payload->>'paymentRef') end,
          case when type in ('payment.cdr_recorded', 'payment.captured', 'ledger.transfer_posted')
            then 't:' || (payload->>'accountId') || '|' || (payload->>'sourceEventId') end,
          case when type = 'payment.settlement_line_recorded' then 'b:' || (payload->>'balanceTransactionId') end
        ], null)) stored`);
    await q.query('create index recon_payment_facts_xid on recon_payment_facts (xid)');
    await q.query(
      'create index recon_payment_facts_keys on recon_payment_facts using gin (keys) with (fastupdate = off)',
    );
    await q.query('create index recon_payment_facts_type_at on recon_payment_facts (type, at)');
    await q.query('alter table recon_sessions add column xid xid8 not null default pg_current_xact_id()');
    await q.query('create index recon_sessions_xid on recon_sessions (xid)');
    await q.query('create index recon_sessions_ended on recon_sessions (ended_at)');
    await q.query('alter table finance_cdrs add column xid xid8 not null default pg_current_xact_id()');
    await q.query('create index finance_cdrs_xid on finance_cdrs (xid)');
    await q.query('create index finance_cdrs_session on finance_cdrs (session_id)');
    await q.query(`
      create table recon_run_state (
        singleton      boolean     primary key default true check (singleton),
        snapshot       pg_snapshot not null,
        as_of          timestamptz not null,
        unsettled_days integer     not null,
        grace_seconds  integer     not null
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table recon_run_state');
    await q.query('drop index finance_cdrs_session');
    await q.query('alter table finance_cdrs drop column xid');
    await q.query('drop index recon_sessions_ended');
    await q.query('alter table recon_sessions drop column xid');
    await q.query('drop index recon_payment_facts_type_at');
    await q.query('alter table recon_payment_facts drop column keys, drop column xid');
  }
}

/** revenue_rollup's dimensions and the columns of revenue_daily / revenue_monthly their k1 and k2 are. */
export const REVENUE_ROLLUP_KEYS: ReadonlyArray<readonly [string, string, string]> = [
  ['', "''", '0'],
  ['site', 'site_id', '0'],
  ['station', 'station_id', '0'],
  ['evse', 'evse_uid', '0'],
  ['tariff', 'tariff_id', 'tariff_version'],
  ['account', 'account_id', '0'],
];

export const reportingServiceMigrations = [
  ...messagingMigrations,
  MonitoringTables1764500000000,
  AlarmAcknowledgements1764500000001,
  BillingCompleteness1764500000100,
  AlarmAcknowledgedByRole1764500000200,
  FinanceTables1764500000300,
  ReconciliationTables1764500000400,
  RevenueMonthly1764500000500,
  ReconciliationClearances1764500000510,
  OcpiParties1764500000700,
  RevenueRollup1764500000800,
  RevenueRollupJson1764500000900,
  ReconciliationIncremental1764500001000,
];
