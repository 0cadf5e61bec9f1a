import type { EntityManager } from 'typeorm';
import {
  OcppCommandRequestedV1,
  TokenRegisteredV1,
  deriveId,
  type CdrCreated,
  type Envelope,
  type EventCatalogue,
  type OcppCommandCompleted,
} from '@csms/contracts';
import {
  adhocPaymentOf,
  oneTimeTokenOf,
  otherProtocol,
  remoteStartRequest,
  startResultVerdict,
  type StationProtocol,
} from '@csms/payments';
import type { Logger } from '@csms/platform';
import { SERVICE_SOURCE, type PaymentCommandLike } from '../engine';

export interface AdhocOptions {
  /** the protocol a station is started with when no session of it was seen yet (its own result corrects it) */
  defaultProtocol: StationProtocol;
  /** the paid hold is released when no session started this long after the remote start (s) */
  startTimeoutS: number;
  logger?: Logger;
}

/** What the remote start of an ad-hoc payment was (`adhoc_starts`). */
export interface AdhocStartRow {
  payment_id: string;
  account_id: string;
  hold_id: string;
  token: string;
  command_id: string;
  protocol: StationProtocol;
  protocols_tried: string[];
  station_id: string;
  evse_id: number;
  requested_at: Date;
  result: string | null;
  released: boolean;
  token_expired: boolean;
}

const TOKEN_ENDS = new Set(['payment.captured', 'payment.released']);

/**
 * The ad-hoc payment's effects outside payment.events, decided from its events in the deciding transaction (so a
 * replayed decision, which decides nothing, sends nothing twice; every id is derived from the causing event):
 * - a hosted hold authorised (`payment.authorized`, no session yet) → the one-time token registered on
 *   `registry.tokens` (Accepted, billing account `adhoc:<paymentId>`: the gateway accepts it at the station's
 *   Authorize / StartTransaction / TransactionEvent, the tariff service puts the account on the CDR) and the remote
 *   start on `ocpp.commands` (RemoteStartTransaction / RequestStartTransaction by the station's protocol);
 * - the hold captured or released → the token registered again as Expired (one session per payment);
 * - the remote start's result (`ocpp.command_completed`): refused, offline, expired → release the hold; the other
 *   OCPP version → its start; accepted or lost → wait for the session (the start timeout releases the hold).
 */
export class AdhocEffects {
  constructor(
    private readonly catalogue: EventCatalogue,
    private readonly opts: AdhocOptions,
  ) {}

  /** Extra envelopes for the events of one decision of an `adhoc:` account (none for other accounts). */
  async afterDecision(m: EntityManager, envs: readonly Envelope[], state: unknown): Promise<Envelope[]> {
    const out: Envelope[] = [];
    for (const env of envs) {
      const p = env.payload as { accountId: string; holdId?: string; sessionId?: string | null; paymentRef?: string };
      const paymentId = adhocPaymentOf(p.accountId);
      if (paymentId === null) continue;
      if (env.type === 'payment.authorized' && p.sessionId === null && p.holdId && p.paymentRef) {
        const method = (state as { method?: { kind: string; stationId?: string; evseId?: number } }).method;
        if (method?.kind !== 'adhoc' || !method.stationId || !method.evseId) continue;
        out.push(...(await this.startRemotely(m, env, paymentId, method.stationId, method.evseId)));
      } else if (TOKEN_ENDS.has(env.type)) {
        out.push(...(await this.expireToken(m, env, paymentId)));
      }
    }
    return out;
  }

  private async startRemotely(
    m: EntityManager,
    env: Envelope,
    paymentId: string,
    stationId: string,
    evseId: number,
  ): Promise<Envelope[]> {
    const p = env.payload as { accountId: string; holdId: string; paymentRef: string };
    const known: unknown[] = await m.query('select 1 from adhoc_starts where payment_id = $1', [paymentId]);
    if (known.length > 0) return [];
    const [seen] = (await m.query(
      'select protocol from payment_sessions where station_id = $1 order by started_at desc limit 1',
      [stationId],
    )) as Array<{ protocol: string }>;
    const protocol: StationProtocol =
      seen?.protocol === 'ocpp1.6' || seen?.protocol === 'ocpp2.0.1' ? seen.protocol : this.opts.defaultProtocol;
    const token = oneTimeTokenOf(p.holdId, p.paymentRef);
    // the token is the payment's own: revision 1 registers it, 2 expires it
    const revision = 1;
    // the copy session.started is resolved with: known here at once, whichever consumer reads the topic first
    await m.query(
      `insert into tokens (uid, billing_account_id, revision, deleted) values ($1, $2, $3, false)
       on conflict (uid) do update set billing_account_id = excluded.billing_account_id, revision = excluded.revision,
         deleted = false where tokens.revision <= excluded.revision`,
      [token, p.accountId, revision],
    );
    const command = this.startCommand(env, startCommandIdOf(env.id), stationId, protocol, {
      evseId,
      token,
      holdId: p.holdId,
    });
    await m.query(
      `insert into adhoc_starts (payment_id, account_id, hold_id, token, command_id, protocol, protocols_tried, station_id,
                                 evse_id, requested_at, result, released, token_expired)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, null, false, false)`,
      [
        paymentId,
        p.accountId,
        p.holdId,
        token,
        (command.payload as { commandId: string }).commandId,
        protocol,
        JSON.stringify([protocol]),
        stationId,
        evseId,
        env.occurredAt,
      ],
    );
    return [this.tokenRecord(env, token, p.accountId, 'Accepted', revision), command];
  }

  private async expireToken(m: EntityManager, env: Envelope, paymentId: string): Promise<Envelope[]> {
    const res: unknown[] = await m.query(
      `update adhoc_starts set token_expired = true where payment_id = $1 and not token_expired
       returning token, account_id`,
      [paymentId],
    );
    // TypeORM answers an UPDATE ... RETURNING with [rows, count]
    const rows = (Array.isArray(res[0]) ? res[0] : res) as Array<{ token: string; account_id: string }>;
    if (rows.length === 0) return [];
    const revision = 2;
    await m.query('update tokens set revision = greatest(revision, $2) where uid = $1', [rows[0].token, revision]);
    return [this.tokenRecord(env, rows[0].token, rows[0].account_id, 'Expired', revision)];
  }

  private tokenRecord(
    env: Envelope,
    token: string,
    accountId: string,
    status: 'Accepted' | 'Expired',
    revision: number,
  ): Envelope {
    return this.catalogue.create(TokenRegisteredV1, {
      id: deriveId('adhoc-token', env.id, status),
      key: token,
      occurredAt: env.occurredAt,
      source: SERVICE_SOURCE,
      causationId: env.id,
      payload: {
        uid: token,
        type: 'Central',
        status,
        expiresAt: status === 'Expired' ? env.occurredAt : null,
        groupId: null,
        billingAccountId: accountId,
        deleted: false,
        revision,
      },
    });
  }

  private startCommand(
    cause: Envelope,
    commandId: string,
    stationId: string,
    protocol: StationProtocol,
    r: { evseId: number; token: string; holdId: string },
  ): Envelope {
    const { action, payload } = remoteStartRequest(protocol, r);
    const requestedAt = cause.occurredAt;
    return this.catalogue.create(OcppCommandRequestedV1, {
      id: deriveId('adhoc-start-command-event', commandId),
      key: stationId,
      occurredAt: requestedAt,
      source: SERVICE_SOURCE,
      causationId: cause.id,
      payload: {
        commandId,
        stationId,
        action,
        payload,
        requestedAt,
        expiresAt: new Date(Date.parse(requestedAt) + this.opts.startTimeoutS * 1000).toISOString(),
        requestedBy: SERVICE_SOURCE,
      },
    });
  }

  /** The ad-hoc payment a command result is about (its account, to lock with the chunk), if any. */
  async accountOfCommand(m: EntityManager, commandId: string): Promise<string | null> {
    const rows: Array<{ account_id: string }> = await m.query(
      'select account_id from adhoc_starts where command_id = $1',
      [commandId],
    );
    return rows[0]?.account_id ?? null;
  }

  /**
   * The remote start's result: what it means for the hold (`startResultVerdict`). Returns the command to decide
   * (release) and the envelopes to emit besides (the other protocol's start).
   */
  async startResult(
    m: EntityManager,
    event: OcppCommandCompleted,
  ): Promise<{ command: PaymentCommandLike | null; envs: Envelope[] }> {
    const r = event.payload;
    const [row] = (await m.query('select * from adhoc_starts where command_id = $1', [r.commandId])) as AdhocStartRow[];
    if (!row) return { command: null, envs: [] };
    await m.query('update adhoc_starts set result = $2 where payment_id = $1', [row.payment_id, r.status]);
    let verdict = startResultVerdict(r.status);
    if (verdict === 'other_protocol') {
      const next = otherProtocol(row.protocol);
      if (!row.protocols_tried.includes(next)) {
        const command = this.startCommand(event, startCommandIdOf(event.id), row.station_id, next, {
          evseId: row.evse_id,
          token: row.token,
          holdId: row.hold_id,
        });
        await m.query(
          `update adhoc_starts set command_id = $2, protocol = $3, protocols_tried = protocols_tried || $4::jsonb,
                  requested_at = $5, result = null where payment_id = $1`,
          [
            row.payment_id,
            (command.payload as { commandId: string }).commandId,
            next,
            JSON.stringify([next]),
            r.completedAt,
          ],
        );
        return { command: null, envs: [command] };
      }
      verdict = 'release';
    }
    if (verdict === 'wait' || row.released) return { command: null, envs: [] };
    this.opts.logger?.info(
      { paymentId: row.payment_id, stationId: row.station_id, status: r.status },
      'ad-hoc remote start not carried out: releasing the hold',
    );
    await m.query('update adhoc_starts set released = true where payment_id = $1', [row.payment_id]);
    return {
      command: {
        type: 'release_unused_hold',
        accountId: row.account_id,
        sourceEventId: deriveId('adhoc-start-result', event.id),
        at: r.completedAt,
        reason: 'station_never_started',
      } as PaymentCommandLike,
      envs: [],
    };
  }

  /**
   * Ad-hoc payments whose remote start is older than the timeout and whose session never opened. A payment whose
   * token is spent (captured or released) is not one: without that, every payment that ever started would be looked
   * at again at each scan (every PAYMENT_ADHOC_SCAN_MS); the partial index `adhoc_starts_unsettled` holds the others.
   */
  async dueForRelease(m: EntityManager, now: Date, limit = 50): Promise<AdhocStartRow[]> {
    return m.query(
      `select s.* from adhoc_starts s
        where not s.released and not s.token_expired
          and s.requested_at <= $1::timestamptz - make_interval(secs => $2)
          and not exists (select 1 from payment_events e where e.account_id = s.account_id and e.type = 'payment.session_opened')
        order by s.requested_at limit $3`,
      [now.toISOString(), this.opts.startTimeoutS, limit],
    );
  }
}

/** What a CDR of an ad-hoc payment says for its receipt (the records consumer keeps it: `adhoc_receipts`). */
export async function recordAdhocReceipt(m: EntityManager, event: CdrCreated): Promise<void> {
  const { cdr, audit, billingAccountId } = event.payload;
  const paymentId = billingAccountId === null ? null : adhocPaymentOf(billingAccountId);
  if (paymentId === null) return;
  await m.query(
    `insert into adhoc_receipts (cdr_id, payment_id, session_id, credit, currency, total_excl_vat, total_incl_vat,
                                 energy_kwh, time_hours, parking_hours, start_at, end_at, recorded_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) on conflict (cdr_id) do nothing`,
    [
      cdr.id,
      paymentId,
      audit.sessionId,
      cdr.credit === true,
      cdr.currency,
      String(cdr.total_cost.excl_vat),
      String(cdr.total_cost.incl_vat),
      String(cdr.total_energy),
      String(cdr.total_time),
      cdr.total_parking_time === undefined ? null : String(cdr.total_parking_time),
      cdr.start_date_time,
      cdr.end_date_time,
      event.occurredAt,
    ],
  );
}

/**
 * The id of the remote start command an event causes (the hold's `payment.authorized`, or the answer that asks for
 * the other protocol): the live path and the rebuild derive it alike.
 */
function startCommandIdOf(causeEventId: string): string {
  return deriveId('adhoc-start-command', causeEventId);
}

/**
 * The ad-hoc payments' rows as a rebuild restores them from payment.events (`npm run payments:rebuild`; the live path
 * writes them as it goes, with what the topic does not hold): the payment (`adhoc_payments`: its EVSE and currency
 * from `payment.account_opened`, the hold from its hosted `payment.authorization_requested`, the PSP's payment from
 * `payment.authorized`) and its remote start (`adhoc_starts`, from the hold's `payment.authorized` before any session:
 * the one-time token and the start command's id derived as the live path derives them; released by a
 * `station_never_started` release, its token expired by the capture or the release). Not on the topic, so not
 * restored: the tariff as the start page showed it, the hosted page's link (the next click on the start page asks the
 * PSP again with the same key and gets the same page), and the remote start's protocol and result (taken as
 * `defaultProtocol`, no result: a start still unanswered at the rebuild is released by the start timeout unless its
 * session comes). Idempotent: events applied twice change nothing.
 */
export async function refoldAdhocRows(
  m: EntityManager,
  envs: readonly Envelope[],
  defaultProtocol: StationProtocol,
): Promise<void> {
  for (const env of envs) {
    const p = env.payload as {
      accountId: string;
      holdId?: string;
      sessionId?: string | null;
      paymentRef?: string | null;
      hosted?: boolean;
      amountMinor?: string;
      reason?: string;
      currency?: string;
      method?: { kind: string; stationId?: string; evseId?: number };
    };
    const paymentId = adhocPaymentOf(p.accountId);
    if (paymentId === null) continue;
    switch (env.type) {
      case 'payment.account_opened':
        if (p.method?.kind === 'adhoc')
          await m.query(
            `insert into adhoc_payments (payment_id, station_id, evse_id, currency, hold_minor, tariff_id, tariff, created_at)
             values ($1, $2, $3, $4, 0, null, null, $5) on conflict (payment_id) do nothing`,
            [paymentId, p.method.stationId, p.method.evseId, p.currency, env.occurredAt],
          );
        break;
      case 'payment.authorization_requested':
        if (p.hosted === true)
          await m.query('update adhoc_payments set hold_minor = $2 where payment_id = $1', [paymentId, p.amountMinor]);
        break;
      case 'payment.authorized':
        if (!p.paymentRef) break;
        await m.query('update adhoc_payments set payment_ref = coalesce(payment_ref, $2) where payment_id = $1', [
          paymentId,
          p.paymentRef,
        ]);
        if (p.sessionId === null && p.holdId)
          await m.query(
            `insert into adhoc_starts (payment_id, account_id, hold_id, token, command_id, protocol, protocols_tried,
                                       station_id, evse_id, requested_at, result, released, token_expired)
             select payment_id, $2, $3, $4, $5, $6, $7, station_id, evse_id, $8, null, false, false
               from adhoc_payments where payment_id = $1
             on conflict (payment_id) do nothing`,
            [
              paymentId,
              p.accountId,
              p.holdId,
              oneTimeTokenOf(p.holdId, p.paymentRef),
              startCommandIdOf(env.id),
              defaultProtocol,
              JSON.stringify([defaultProtocol]),
              env.occurredAt,
            ],
          );
        break;
      case 'payment.release_requested':
        if (p.reason === 'station_never_started')
          await m.query('update adhoc_starts set released = true where payment_id = $1', [paymentId]);
        break;
      default:
        if (TOKEN_ENDS.has(env.type))
          await m.query('update adhoc_starts set token_expired = true where payment_id = $1', [paymentId]);
    }
  }
}
