import type { EntityManager } from 'typeorm';
import {
  answeredToken,
  type CdrCreated,
  type Envelope,
  type OcppCommandCompleted,
  type SessionCostEstimated,
  type SessionStartedEvent,
  type SessionTariffSelected,
  type TokenRegistered,
} from '@csms/contracts';
import { holdAmountMinor, type HoldSource } from '@csms/payments';
import type { AdhocEffects } from './adhoc/adhoc-effects';
import type { HandlerContext } from '@csms/messaging';
import type { ChunkProbe, PaymentEngine, StateCache } from './engine';
import type { PaymentServiceConfig } from './config';
import { defaultHolds } from './config';

const CACHE = 'payment-states';
/** the billing accounts of a chunk's session.started tokens, read once at its start */
const TOKENS = 'payment-tokens';
/** the started sessions (payment_sessions rows) of a chunk's CDRs, read once at its start */
const STARTS = 'payment-starts';

interface StartedRow {
  event_id: string;
  session_id: string;
  account_id: string;
  station_id: string;
  transaction_id: string;
  evse_id: number | null;
  connector_id: number | null;
  started_at: Date;
}

interface StartedSession {
  /** the session.started event's id: the decision's source */
  eventId: string;
  accountId: string;
  sessionId: string;
  stationId: string;
  evseId: number | null;
  connectorId: number | null;
  transactionId: string;
  startedAt: string;
}

/** Why a CDR was not taken for payment (listed by GET /api/v1/unbilled-cdrs). */
export type UnbilledReason = 'NO_BILLING_ACCOUNT' | 'ACCOUNT_UNKNOWN';

/**
 * The payment service's inputs, turned into the decider's commands (one method per consumed event type):
 * - cdr.created (CDRs and credit CDRs) -> `cdr_created` for the CDR's billing account; a CDR with no account, or
 *   with an account this service does not know, is recorded as unbilled (visible, never dropped);
 * - billing.session_tariff_selected (the tariff service, at the session's start) -> `session_started` for the
 *   session's billing account, with a hold of the tariff's max_price incl. VAT, else the configured default of the
 *   account's currency (PAYMENT_DEFAULT_HOLD); with PAYMENT_HOLD_AT=session_started, session.started does this
 *   with the default instead;
 * - billing.session_cost_estimated (the tariff service, while charging: the CDR engine's price so far) ->
 *   `running_cost` (near the hold: raise it or stop the session, by the account's policy);
 * - registry.token_registered -> the token's billing account (the copy session.started is resolved with).
 * session.updated has no effect here: the tariff service prices it (its estimates come on billing.events).
 */
export class InputsHandler {
  private readonly holds: Map<string, string>;
  private readonly holdAt: PaymentServiceConfig['PAYMENT_HOLD_AT'];

  constructor(
    private readonly engine: PaymentEngine,
    cfg: PaymentServiceConfig,
    private readonly adhoc?: AdhocEffects,
  ) {
    this.holds = defaultHolds(cfg);
    this.holdAt = cfg.PAYMENT_HOLD_AT ?? 'tariff_selected';
  }

  /**
   * A chunk's accounts (a CDR's, a started session's token's), locked in sorted order and read once: the chunk decides
   * against them in memory and writes them at its end (`onChunkEnd`).
   */
  async onChunkStart(m: EntityManager, scratch: Map<string, unknown>, events: readonly Envelope[]): Promise<void> {
    const accounts = new Set<string>();
    const uids: string[] = [];
    const sessions: string[] = [];
    // what the decisions will look up (their duplicate checks, a CDR's settled session): answered with the states
    const probes: ChunkProbe[] = [];
    const startsByUid: Array<{ uid: string; src: string; sessionId: string }> = [];
    for (const e of events) {
      if (e.type === 'cdr.created') {
        const p = (e as CdrCreated).payload;
        const a = p.billingAccountId;
        if (a !== null) {
          accounts.add(a);
          sessions.push(p.audit.sessionId);
          probes.push({ accountId: a, sourceEventId: e.id, sessionId: p.audit.sessionId, cdrId: p.cdr.id });
        }
      } else if (e.type === 'session.started') {
        const p = (e as SessionStartedEvent).payload;
        const uid = p.idToken?.idToken;
        const recorded = recordedAccount(p);
        if (recorded !== undefined) {
          // the account the gateway's registry named when the station was answered (recordSession takes it too)
          if (recorded !== null) {
            accounts.add(recorded);
            if (this.holdAt === 'session_started')
              probes.push({ accountId: recorded, sourceEventId: e.id, startedSessionId: p.sessionId });
          }
        } else {
          if (uid !== undefined) uids.push(uid);
          if (uid !== undefined && this.holdAt === 'session_started')
            startsByUid.push({ uid, src: e.id, sessionId: p.sessionId });
        }
      } else if (e.type === 'ocpp.command_completed' && this.adhoc) {
        const a = await this.adhoc.accountOfCommand(m, (e as OcppCommandCompleted).payload.commandId);
        if (a !== null) accounts.add(a);
      } else if (e.type === 'billing.session_tariff_selected') {
        const p = (e as SessionTariffSelected).payload;
        if (p.billingAccountId !== null) {
          accounts.add(p.billingAccountId);
          if (this.holdAt === 'tariff_selected')
            probes.push({
              accountId: p.billingAccountId,
              sourceEventId: p.sourceEventId,
              startedSessionId: p.sessionId,
            });
        } else if (p.tokenUid !== null && !p.accountAsAnswered) {
          uids.push(p.tokenUid);
          if (this.holdAt === 'tariff_selected')
            startsByUid.push({ uid: p.tokenUid, src: p.sourceEventId, sessionId: p.sessionId });
        }
      } else if (e.type === 'billing.session_cost_estimated') {
        const a = (e as SessionCostEstimated).payload.billingAccountId;
        if (a !== null) {
          accounts.add(a);
          probes.push({ accountId: a, sourceEventId: e.id });
        }
      }
    }
    if (uids.length > 0) {
      const rows: Array<{ uid: string; a: string | null; deleted: boolean }> = await m.query(
        'select uid, billing_account_id as a, deleted from tokens where uid = any($1::text[])',
        [uids],
      );
      for (const r of rows) if (r.a !== null) accounts.add(r.a);
      // the tokens' accounts as recordSession would read them (a deleted token pays for nothing)
      const byUid = new Map(rows.map((r) => [r.uid, r.deleted ? null : r.a]));
      scratch.set(TOKENS, byUid);
      for (const st of startsByUid) {
        const a = byUid.get(st.uid);
        if (a) probes.push({ accountId: a, sourceEventId: st.src, startedSessionId: st.sessionId });
      }
    }
    {
      const rows: StartedRow[] = await m.query(
        `select event_id, session_id, account_id, station_id, transaction_id, evse_id, connector_id, started_at
           from payment_sessions where session_id = any($1::text[]) and event_id is not null`,
        [sessions],
      );
      scratch.set(STARTS, new Map(rows.map((r) => [r.session_id, r])));
    }
    scratch.set(CACHE, await this.engine.loadChunk(m, accounts, probes));
  }

  /** The started session a CDR names, as the recording consumer kept it (read at the chunk's start, or here). */
  private async startedOf(ctx: HandlerContext, sessionId: string, accountId: string): Promise<StartedRow | undefined> {
    // a session started in the same chunk was decided by its session.started already (the state holds it)
    const prefetched = ctx.scratch.get(STARTS) as Map<string, StartedRow> | undefined;
    if (prefetched) {
      const r = prefetched.get(sessionId);
      return r?.account_id === accountId ? r : undefined;
    }
    const [row] = (await ctx.manager.query(
      `select event_id, session_id, account_id, station_id, transaction_id, evse_id, connector_id, started_at
         from payment_sessions where session_id = $1 and account_id = $2 and event_id is not null`,
      [sessionId, accountId],
    )) as StartedRow[];
    return row;
  }

  async onChunkEnd(m: EntityManager, scratch: Map<string, unknown>): Promise<void> {
    const cache = scratch.get(CACHE) as StateCache | undefined;
    if (cache) await this.engine.flushChunk(m, cache);
  }

  async cdrCreated(event: CdrCreated, ctx: HandlerContext): Promise<void> {
    const m = ctx.manager;
    const cache = ctx.scratch.get(CACHE) as StateCache | undefined;
    const { cdr, audit, billingAccountId } = event.payload;
    if (billingAccountId === null || !(await this.engine.accountExists(m, billingAccountId, cache))) {
      await recordUnbilled(m, event, billingAccountId === null ? 'NO_BILLING_ACCOUNT' : 'ACCOUNT_UNKNOWN');
      ctx.logger.info({ cdrId: cdr.id, billingAccountId }, 'CDR recorded as unbilled');
      return;
    }
    // after a restart with both topics behind, a CDR can be read before its session's start: decide that first (a
    // session the account knows already decides nothing)
    // (a session the account's state already holds decides nothing: not looked up)
    const known = (cache?.get(billingAccountId)?.state as { sessions?: Record<string, unknown> } | undefined)
      ?.sessions?.[audit.sessionId];
    const started = known ? undefined : await this.startedOf(ctx, audit.sessionId, billingAccountId);
    if (started)
      await this.startSession(ctx, {
        eventId: started.event_id,
        accountId: billingAccountId,
        sessionId: started.session_id,
        stationId: started.station_id,
        evseId: started.evse_id,
        connectorId: started.connector_id,
        transactionId: started.transaction_id,
        startedAt: started.started_at.toISOString(),
      });
    ctx.emit(
      ...(await this.engine.decide(
        m,
        {
          type: 'cdr_created',
          accountId: billingAccountId,
          sourceEventId: event.id,
          at: cdr.last_updated ?? event.occurredAt,
          cdrId: cdr.id,
          sessionId: audit.sessionId,
          currency: cdr.currency,
          totalExclVat: cdr.total_cost.excl_vat,
          totalInclVat: cdr.total_cost.incl_vat,
          credit: cdr.credit === true,
          creditReferenceId: cdr.credit_reference_id ?? null,
        } as never,
        cache,
      )),
    );
  }

  /** An ad-hoc payment's remote start answered: refused or undeliverable → release the hold (AdhocEffects). */
  async commandCompleted(event: OcppCommandCompleted, ctx: HandlerContext): Promise<void> {
    if (!this.adhoc) return;
    const cache = ctx.scratch.get(CACHE) as StateCache | undefined;
    const { command, envs } = await this.adhoc.startResult(ctx.manager, event);
    if (envs.length > 0) ctx.emit(...envs);
    if (command) ctx.emit(...(await this.engine.decide(ctx.manager, command, cache)));
  }

  async sessionStarted(event: SessionStartedEvent, ctx: HandlerContext): Promise<void> {
    const s = event.payload;
    const tokens = ctx.scratch.get(TOKENS) as Map<string, string | null> | undefined;
    const uid = s.idToken?.idToken;
    const accountId = await recordSession(
      ctx.manager,
      event,
      tokens && uid !== undefined ? (tokens.get(uid) ?? null) : undefined,
    );
    // the hold waits for the tariff (billing.session_tariff_selected) unless configured otherwise
    if (accountId === null || this.holdAt !== 'session_started') return;
    await this.startSession(ctx, {
      eventId: event.id,
      accountId,
      sessionId: s.sessionId,
      stationId: s.stationId,
      evseId: s.evseId ?? null,
      connectorId: s.connectorId ?? null,
      transactionId: s.transactionId,
      startedAt: s.startedAt,
    });
  }

  /**
   * The tariff service named the session's tariff: the hold of its max_price (else the default) is asked for. The
   * decision's source is the session.started event (the same whichever input decides the start first).
   */
  async tariffSelected(event: SessionTariffSelected, ctx: HandlerContext): Promise<void> {
    const p = event.payload;
    const accountId = await recordSelectedSession(ctx.manager, event);
    if (accountId === null || this.holdAt !== 'tariff_selected') return;
    await this.startSession(
      ctx,
      {
        eventId: p.sourceEventId,
        accountId,
        sessionId: p.sessionId,
        stationId: p.stationId,
        evseId: p.evseId,
        connectorId: p.connectorId,
        transactionId: p.transactionId,
        startedAt: p.startedAt,
      },
      { maxPriceInclVat: p.maxPriceInclVat, tariffCurrency: p.currency },
    );
  }

  /** The running cost of a session (the tariff service's estimate, the CDR engine's price so far): `running_cost`. */
  async costEstimated(event: SessionCostEstimated, ctx: HandlerContext): Promise<void> {
    const p = event.payload;
    const m = ctx.manager;
    const cache = ctx.scratch.get(CACHE) as StateCache | undefined;
    // no account: its CDR will be unbilled too; an account not known here pays nothing through this service
    if (p.billingAccountId === null || !(await this.engine.accountExists(m, p.billingAccountId, cache))) return;
    const [account] = (await m.query('select currency from billing_accounts where account_id = $1', [
      p.billingAccountId,
    ])) as Array<{ currency: string }>;
    if (!account || account.currency !== p.currency) {
      ctx.logger.warn(
        { sessionId: p.sessionId, accountId: p.billingAccountId, currency: p.currency },
        'running cost in another currency than the account: ignored (the CDR decides)',
      );
      return;
    }
    ctx.emit(
      ...(await this.engine.decide(
        m,
        {
          type: 'running_cost',
          accountId: p.billingAccountId,
          sourceEventId: event.id,
          at: p.asOf,
          sessionId: p.sessionId,
          costInclVat: p.costInclVat,
          maxCostInclVat: p.maxPriceInclVat,
        } as never,
        cache,
      )),
    );
  }

  /**
   * `session_started` for the account, from session.started (or, when a CDR comes first, from what the recording
   * consumer kept of it: the same source event id, so the same decision whichever comes first; the later one
   * decides nothing).
   */
  private async startSession(
    ctx: HandlerContext,
    s: StartedSession,
    tariff: HoldSource = { maxPriceInclVat: null, tariffCurrency: null },
  ): Promise<void> {
    const m = ctx.manager;
    const cache = ctx.scratch.get(CACHE) as StateCache | undefined;
    if (!(await this.engine.accountExists(m, s.accountId, cache))) return;
    // the account's currency and method: from its state when the chunk holds it (the same events made both)
    const held = cache?.get(s.accountId)?.state as { currency?: string | null; method?: { kind: string } | null };
    const [account] = (
      held?.currency && held.method
        ? [{ currency: held.currency, method: held.method }]
        : await m.query('select currency, method from billing_accounts where account_id = $1', [s.accountId])
    ) as Array<{ currency: string; method: { kind: string } }>;
    if (!account) return;
    const holdMinor = holdAmountMinor(account.currency, tariff, this.holds.get(account.currency)).amountMinor;
    if (holdMinor <= 0n && account.method.kind === 'card') {
      // no hold configured for the currency: the session runs unheld, its CDR is captured or owed when it comes
      ctx.logger.warn(
        { sessionId: s.sessionId, accountId: s.accountId, currency: account.currency },
        'no max_price and no PAYMENT_DEFAULT_HOLD for the currency: card session not pre-authorised',
      );
      return;
    }
    ctx.emit(
      ...(await this.engine.decide(
        m,
        {
          type: 'session_started',
          accountId: s.accountId,
          sourceEventId: s.eventId,
          at: s.startedAt,
          sessionId: s.sessionId,
          stationId: s.stationId,
          evseId: s.evseId,
          connectorId: s.connectorId,
          transactionId: s.transactionId,
          currency: account.currency,
          holdAmountMinor: holdMinor,
        } as never,
        cache,
      )),
    );
  }
}

/**
 * The billing account the gateway's registry named for the session's token when it answered the station (recorded
 * on the inbound record, carried on the session's id token): null when it named none; undefined when the session does
 * not carry it (made from records of before it was recorded) or the registry did not know the token then (a remote
 * start's one-time token): this service's copy of the registry decides.
 */
export function recordedAccount(s: SessionStartedEvent['payload']): string | null | undefined {
  return answeredToken(s.idToken)?.billingAccountId;
}

/**
 * A started session's billing account: the one the registry named when the station was answered (what billing bills
 * too), else its token's in this service's copy (`tokenAccount`), else none (no token).
 */
async function sessionAccount(
  s: SessionStartedEvent['payload'],
  tokenAccount: (uid: string) => Promise<string | null> | string | null,
): Promise<string | null> {
  const recorded = recordedAccount(s);
  if (recorded !== undefined) return recorded;
  const uid = s.idToken?.idToken;
  return uid === undefined ? null : tokenAccount(uid);
}

/**
 * The station, protocol and transaction id of a started session, and its account (from the token, unless `known`:
 * read with the chunk's other tokens); returns the account.
 */
export async function recordSession(
  m: EntityManager,
  event: SessionStartedEvent,
  known?: string | null,
): Promise<string | null> {
  const accountId = await sessionAccount(event.payload, async (uid) =>
    known !== undefined
      ? known
      : ((
          (await m.query('select billing_account_id from tokens where uid = $1 and not deleted', [uid])) as Array<{
            billing_account_id: string | null;
          }>
        )[0]?.billing_account_id ?? null),
  );
  await insertSessions(m, [{ event, accountId }]);
  return accountId;
}

/** payment_sessions rows of started sessions, in one statement (the first of a session's rows wins). */
async function insertSessions(
  m: EntityManager,
  rows: ReadonlyArray<{ event: SessionStartedEvent; accountId: string | null }>,
): Promise<void> {
  const col = <T>(f: (s: SessionStartedEvent['payload']) => T) => rows.map((r) => f(r.event.payload));
  await m.query(
    `insert into payment_sessions (session_id, account_id, station_id, protocol, transaction_id, evse_id, connector_id, id_token, started_at, event_id)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[],
                          $9::timestamptz[], $10::uuid[])
     on conflict (session_id) do nothing`,
    [
      col((s) => s.sessionId),
      rows.map((r) => r.accountId),
      col((s) => s.stationId),
      col((s) => s.protocol),
      col((s) => s.transactionId),
      col((s) => s.evseId ?? null),
      col((s) => s.connectorId ?? null),
      col((s) => s.idToken?.idToken ?? null),
      col((s) => s.startedAt),
      rows.map((r) => r.event.id),
    ],
  );
}

const RECORDED_STARTS = 'payment-recorded-starts';

/**
 * The recording group's session starts, a chunk at a time: at its start the tokens of its session.started events
 * are read in one query (`startRecordingSessions`), each event adds its row (`recordSessionInChunk`), and the rows
 * are written in one statement at its end (`endRecordingSessions`) — a query and an insert per chunk instead of per
 * session. A chunk holds one topic's events, so no token of the registry changes within it.
 */
export async function startRecordingSessions(
  m: EntityManager,
  scratch: Map<string, unknown>,
  events: readonly Envelope[],
): Promise<void> {
  const uids = new Set<string>();
  for (const e of events) {
    if (e.type !== 'session.started') continue;
    const p = (e as SessionStartedEvent).payload;
    const uid = p.idToken?.idToken;
    if (uid !== undefined && recordedAccount(p) === undefined) uids.add(uid);
  }
  const tokens =
    uids.size === 0
      ? []
      : ((await m.query('select uid, billing_account_id as a from tokens where uid = any($1::text[]) and not deleted', [
          [...uids],
        ])) as Array<{ uid: string; a: string | null }>);
  scratch.set(RECORDED_STARTS, {
    tokens: new Map(tokens.map((t) => [t.uid, t.a])),
    rows: [] as Array<{ event: SessionStartedEvent; accountId: string | null }>,
  });
}

export async function recordSessionInChunk(
  m: EntityManager,
  scratch: Map<string, unknown>,
  event: SessionStartedEvent,
): Promise<void> {
  const chunk = scratch.get(RECORDED_STARTS) as
    | { tokens: Map<string, string | null>; rows: Array<{ event: SessionStartedEvent; accountId: string | null }> }
    | undefined;
  if (chunk === undefined) {
    await recordSession(m, event);
    return;
  }
  chunk.rows.push({ event, accountId: await sessionAccount(event.payload, (uid) => chunk.tokens.get(uid) ?? null) });
}

export async function endRecordingSessions(m: EntityManager, scratch: Map<string, unknown>): Promise<void> {
  const chunk = scratch.get(RECORDED_STARTS) as
    { rows: Array<{ event: SessionStartedEvent; accountId: string | null }> } | undefined;
  if (chunk && chunk.rows.length > 0) await insertSessions(m, chunk.rows);
}

/**
 * What billing.session_tariff_selected says of a session (its station, protocol, transaction id: to address a stop),
 * kept like session.started's (the first of the two wins; they say the same); returns its billing account: the
 * tariff service's (as cdr.created will name it), else — unless that was the account as answered — the token's in
 * this service's copy.
 */
export async function recordSelectedSession(m: EntityManager, event: SessionTariffSelected): Promise<string | null> {
  const p = event.payload;
  let accountId = p.billingAccountId;
  // none as answered is final; else the tariff service's copy may not have known the token yet: this service's copy
  if (accountId === null && p.tokenUid !== null && !p.accountAsAnswered) {
    const [token] = (await m.query('select billing_account_id from tokens where uid = $1 and not deleted', [
      p.tokenUid,
    ])) as Array<{ billing_account_id: string | null }>;
    accountId = token?.billing_account_id ?? null;
  }
  await m.query(
    `insert into payment_sessions (session_id, account_id, station_id, protocol, transaction_id, evse_id, connector_id, id_token, started_at, event_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (session_id) do nothing`,
    [
      p.sessionId,
      accountId,
      p.stationId,
      p.protocol,
      p.transactionId,
      p.evseId,
      p.connectorId,
      p.tokenUid,
      p.startedAt,
      p.sourceEventId,
    ],
  );
  return accountId;
}

export async function recordUnbilled(m: EntityManager, event: CdrCreated, reason: UnbilledReason): Promise<void> {
  const { cdr, audit, billingAccountId } = event.payload;
  await m.query(
    `insert into unbilled_cdrs (cdr_id, session_id, billing_account_id, reason, currency, total_incl_vat, credit, event_id, recorded_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (cdr_id) do nothing`,
    [
      cdr.id,
      audit.sessionId,
      billingAccountId,
      reason,
      cdr.currency,
      cdr.total_cost.incl_vat,
      cdr.credit === true,
      event.id,
      event.occurredAt,
    ],
  );
}

/** The registry's token -> billing account (latest revision wins; a deleted token pays for nothing). */
export async function recordToken(m: EntityManager, event: TokenRegistered): Promise<void> {
  const t = event.payload;
  await m.query(
    `insert into tokens (uid, billing_account_id, revision, deleted) values ($1, $2, $3, $4)
     on conflict (uid) do update set billing_account_id = excluded.billing_account_id, revision = excluded.revision,
       deleted = excluded.deleted where tokens.revision <= excluded.revision`,
    [t.uid, t.billingAccountId, t.revision, t.deleted],
  );
}
